"""jackhmmer in-process (pyhmmer), writing the Stockholm file that ``jackhmmer -A`` writes.

One thread streams the database from disk through pyhmmer's reader into one
``Pipeline``; reader and search run without the GIL, so the searches of
several databases run side by side on as many cores. A search with more
threads reads blocks of sequences (holding the GIL while it reads) that the
threads search, each block with its own pipeline; the per-block hits are
merged, which sums the search spaces, so E-values and inclusion are those of
one pass over the whole file. Subnormals are flushed to zero in every
pipeline as the HMMER programs run (see :mod:`foldkit.msa.fpu`). On two
cores, UniRef90 of 600,000 sequences: a query with few hits takes 1.1 s
streamed and 1.5 s in blocks with two threads (reading blocks costs 1.0 s),
a query with 6,900 hits 9.9 s streamed and 5.7 s in blocks. The alignment of the
included domains plus the query is written as a digital Stockholm MSA named
``<query>-i<iteration>``, exactly as HMMER's jackhmmer does; on AlphaFold2's
miniature databases the files are byte-identical to those of HMMER 3.3.2's
``jackhmmer`` except the ``#=GF AU`` line, which names the HMMER that ran.

:func:`truncate_stockholm` keeps the first N sequences of such a file the way
AlphaFold2 v2.3 does before it writes ``uniref90_hits.sto`` (10,000) and
``mgnify_hits.sto`` (501): per-residue markup (``#=GR``, ``#=GF``,
``#=GC`` other than ``RF``) is dropped, the rest kept line for line.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import functools
import io
import re
import time
from pathlib import Path

from foldkit.errors import InputError
from foldkit.msa.fpu import flush_denormals
from foldkit.msa.search import JackhmmerSettings

BLOCK_SEQUENCES = 20000    # database sequences per block when several threads search one database


@dataclasses.dataclass(frozen=True)
class QueryRecord:
    """The query as jackhmmer reads it from FASTA: name (first word), description (rest), sequence."""

    name: str
    description: str
    sequence: str


@dataclasses.dataclass(frozen=True)
class JackhmmerResult:
    stockholm: str         # the text of ``jackhmmer -A`` (not truncated)
    num_hits: int          # included domains (alignment rows besides the query)
    num_targets: int       # database sequences searched
    seconds: float


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """'HMMER <version> via pyhmmer <version>' (the HMMER that pyhmmer bundles)."""
    import pyhmmer
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    query = easel.TextSequence(name="v", sequence="ACDEFGHIKL").digitize(alphabet)
    hmm, _, _ = plan7.Builder(alphabet).build(query, plan7.Background(alphabet))
    buffer = io.BytesIO()
    hmm.write(buffer)
    found = re.search(rb"\[(\S+)", buffer.getvalue().split(b"\n", 1)[0])
    hmmer = found.group(1).decode() if found else "?"
    return f"HMMER {hmmer} via pyhmmer {pyhmmer.__version__}"


def _validate(path: Path) -> None:
    """Read the whole database record by record: raises the InputError (file, line) of its first bad record."""
    from pyhmmer import easel

    try:
        with easel.SequenceFile(str(path), format="fasta", digital=True, alphabet=easel.Alphabet.amino()) as handle:
            while len(handle.read_block(sequences=BLOCK_SEQUENCES)):
                pass
    except EOFError:
        raise InputError("empty sequence database (no FASTA record)", path=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the sequence database: {exc}", path=str(path)) from None
    except ValueError as exc:
        message = str(exc).removeprefix("Could not parse file: ")
        line = re.match(r"Line (\d+): (.*)", message)
        if line:
            raise InputError(f"not a FASTA database: {line.group(2)}", path=str(path),
                             line=int(line.group(1)) or 1) from None
        raise InputError(f"not a FASTA database: {message}", path=str(path)) from None


def _pipeline_search(hmm, targets, options: dict):
    """One pyhmmer pipeline over ``targets`` (a digital SequenceFile or a block), subnormals flushed."""
    from pyhmmer import plan7

    with flush_denormals():
        pipeline = plan7.Pipeline(hmm.alphabet, background=plan7.Background(hmm.alphabet), **options)
        return pipeline.search_hmm(hmm, targets)


def _stream(hmm, path: Path, options: dict) -> list:
    """The whole file streamed through one pipeline (reader and search without the GIL)."""
    from pyhmmer import easel

    with easel.SequenceFile(str(path), format="fasta", digital=True, alphabet=hmm.alphabet) as handle:
        return [_pipeline_search(hmm, handle, options)]


def _in_blocks(hmm, path: Path, options: dict, threads: int, block_sequences: int) -> list:
    """Blocks of ``block_sequences`` read here (holding the GIL) and searched by ``threads`` threads, a few
    blocks in flight; a block smaller than the others (a small database) is split among the threads."""
    from pyhmmer import easel

    found, pending = [], collections.deque()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="jackhmmer") as pool, \
            easel.SequenceFile(str(path), format="fasta", digital=True, alphabet=hmm.alphabet) as handle:
        while len(block := handle.read_block(sequences=block_sequences)):
            pieces = threads if len(block) < block_sequences else 1
            bounds = [len(block) * k // pieces for k in range(pieces + 1)]
            for first, end in zip(bounds, bounds[1:]):
                if end > first:
                    pending.append(pool.submit(_pipeline_search, hmm, block[first:end], options))
            while len(pending) > 2 * threads:
                found.append(pending.popleft().result())
        found.extend(future.result() for future in pending)
    return found


def _search_database(hmm, path: Path, options: dict, threads: int, block_sequences: int):
    """Hits of ``hmm`` in the whole database (plain or gzipped FASTA) and the number of sequences searched.

    One thread streams the file; more threads search blocks of it, whose hits are merged in file order
    (which sums their search spaces: the E-values of one pass over the file)."""
    if not path.is_file():
        raise InputError("sequence database not found", path=str(path))
    try:
        found = (_stream(hmm, path, options) if threads <= 1
                 else _in_blocks(hmm, path, options, threads, block_sequences))
    except (ValueError, EOFError, OSError) as exc:
        _validate(path)                    # the bad record's file and line
        raise InputError(f"not a FASTA database: {exc}", path=str(path)) from None
    searched = sum(part.searched_sequences for part in found)
    if not searched:
        raise InputError("empty sequence database (no FASTA record)", path=str(path))
    hits = found[0].merge(*found[1:]) if len(found) > 1 else found[0]
    hits.sort(by="key")
    return hits, searched


@dataclasses.dataclass(frozen=True)
class QueryModel:
    """The query digitized and its single-sequence HMM (jackhmmer's first iteration); building the HMM
    (with its E-value calibration) costs as much as a small search, so the searches of one query share it."""

    digital: object      # pyhmmer DigitalSequence
    hmm: object          # pyhmmer HMM (read only by the searches)


def query_model(query: QueryRecord) -> QueryModel:
    """jackhmmer's model of a query sequence (the same for every database; the builder reseeds per build)."""
    from pyhmmer import easel, plan7

    alphabet = easel.Alphabet.amino()
    try:
        digital = easel.TextSequence(name=query.name, description=query.description,
                                     sequence=query.sequence).digitize(alphabet)
    except ValueError as exc:
        raise InputError(f"query {query.name} cannot be searched: {exc}") from None
    with flush_denormals():
        hmm, _, _ = plan7.Builder(alphabet, architecture="hand").build(digital, plan7.Background(alphabet))
    return QueryModel(digital, hmm)


def jackhmmer_stockholm(query: QueryRecord, database: str | Path, settings: JackhmmerSettings,
                        threads: int = 1, model: QueryModel | None = None,
                        block_sequences: int = BLOCK_SEQUENCES) -> JackhmmerResult:
    """Search ``database`` with jackhmmer's iterations; the Stockholm text ``jackhmmer -A`` writes.
    ``threads``: 1 streams the database (for searches running side by side), more search blocks of it
    (for a search with the cores to itself). ``model``: :func:`query_model` of ``query``, when another
    search already built it."""
    from pyhmmer import easel, plan7

    start = time.perf_counter()
    model = model or query_model(query)
    alphabet = easel.Alphabet.amino()
    digital, hmm = model.digital, model.hmm
    builder = plan7.Builder(alphabet, architecture="hand")
    background = plan7.Background(alphabet)
    options = settings.pyhmmer_options()
    ranking = easel.KeyHash()
    previous_rows = 1
    for iteration in range(1, settings.iterations + 1):
        hits, num_targets = _search_database(hmm, Path(database), options, threads, block_sequences)
        new_hits = hits.compare_ranking(ranking)
        msa = hits.to_msa(alphabet, sequences=[digital], traces=[plan7.Trace.from_sequence(digital)],
                          all_consensus_cols=True, digitize=True)
        msa.name = f"{query.name}-i{iteration}"
        msa.description = query.description or None
        msa.author = f"jackhmmer ({engine_version()})"
        converged = new_hits == 0 and len(msa.sequences) <= previous_rows
        if converged or iteration == settings.iterations:
            break
        previous_rows = len(msa.sequences)
        with flush_denormals():
            hmm, _, _ = builder.build_msa(msa, background)
    buffer = io.BytesIO()
    msa.write(buffer, "stockholm")
    return JackhmmerResult(buffer.getvalue().decode("utf-8", errors="replace"), len(msa.sequences) - 1,
                           num_targets, time.perf_counter() - start)


def truncate_stockholm(text: str, max_sequences: int) -> str:
    """The first ``max_sequences`` sequences (query included) of a Stockholm file, AlphaFold2's way.

    Kept: blank lines, the ``# STOCKHOLM`` header, ``//``, ``#=GC RF`` and the
    ``#=GS`` and sequence lines of kept sequences; every other markup line is dropped.
    """
    kept: set[str] = set()
    lines = text.splitlines(keepends=True)
    for line in lines:
        if line.strip() and not line.startswith(("#", "//")):
            kept.add(line.partition(" ")[0])
            if len(kept) >= max_sequences:
                break
    out = []
    for line in lines:
        if not line.strip() or line.startswith(("//", "# STOCKHOLM", "#=GC RF")):
            out.append(line)
        elif line.startswith("#=GS"):
            columns = line.split()
            if len(columns) > 1 and columns[1] in kept:
                out.append(line)
        elif not line.startswith("#") and line.partition(" ")[0] in kept:
            out.append(line)
    return "".join(out)
