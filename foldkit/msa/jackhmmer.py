"""jackhmmer in-process (pyhmmer), writing the Stockholm file that ``jackhmmer -A`` writes.

The database is streamed from disk in blocks of sequences that worker threads
search in parallel (a block smaller than the others, such as a whole small
database, is split among the threads; one pyhmmer ``Pipeline`` per block, each with subnormals
flushed to zero as the HMMER programs run, see :mod:`foldkit.msa.fpu`); the
per-block hits are merged, which sums the search spaces, so E-values and
inclusion are those of one pass over the whole file. The alignment of the
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
import gzip
import io
import re
import time
from pathlib import Path

from foldkit.errors import InputError
from foldkit.msa.fpu import flush_denormals
from foldkit.msa.search import JackhmmerSettings

CHUNK_SEQUENCES = 20000    # database sequences per search block


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


def _open_database(path: Path):
    """A digital pyhmmer SequenceFile over ``path`` (plain or .gz FASTA)."""
    from pyhmmer import easel

    if not path.is_file():
        raise InputError("sequence database not found", path=str(path))
    alphabet = easel.Alphabet.amino()
    try:
        if path.suffix == ".gz":
            return easel.SequenceFile(gzip.open(path, "rb"), format="fasta", digital=True, alphabet=alphabet)
        return easel.SequenceFile(str(path), format="fasta", digital=True, alphabet=alphabet)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot read the sequence database: {exc}", path=str(path)) from None


def _read_blocks(path: Path, chunk_sequences: int):
    """Blocks of digital sequences, read lazily; parse errors name the file (and line)."""
    try:
        with _open_database(path) as handle:
            while True:
                block = handle.read_block(sequences=chunk_sequences)
                if not len(block):
                    return
                yield block
    except EOFError:
        raise InputError("empty sequence database (no FASTA record)", path=str(path)) from None
    except ValueError as exc:
        message = str(exc).removeprefix("Could not parse file: ")
        line = re.match(r"Line (\d+): (.*)", message)
        if line:
            raise InputError(f"not a FASTA database: {line.group(2)}", path=str(path),
                             line=int(line.group(1)) or 1) from None
        raise InputError(f"not a FASTA database: {message}", path=str(path)) from None


def _search_block(hmm, block, options: dict):
    from pyhmmer import plan7

    with flush_denormals():
        pipeline = plan7.Pipeline(hmm.alphabet, background=plan7.Background(hmm.alphabet), **options)
        return pipeline.search_hmm(hmm, block)


def _split_block(block, parts: int) -> list:
    """``block`` in ``parts`` consecutive slices of (almost) equal size: a database smaller than one block
    (the last block of a large one) is still searched by every thread."""
    parts = max(1, min(parts, len(block)))
    if parts == 1:
        return [block]
    bounds = [len(block) * k // parts for k in range(parts + 1)]
    return [block[bounds[k]:bounds[k + 1]] for k in range(parts)]


def _search_database(hmm, path: Path, options: dict, cpus: int, chunk_sequences: int):
    """Hits of ``hmm`` in the whole database, merged over blocks searched by ``cpus`` threads."""
    parts, num_targets = [], 0
    if cpus <= 1:
        for block in _read_blocks(path, chunk_sequences):
            num_targets += len(block)
            parts.append(_search_block(hmm, block, options))
    else:
        pending: collections.deque = collections.deque()
        with concurrent.futures.ThreadPoolExecutor(max_workers=cpus, thread_name_prefix="jackhmmer") as pool:
            for block in _read_blocks(path, chunk_sequences):
                num_targets += len(block)
                for part in _split_block(block, cpus if len(block) < chunk_sequences else 1):
                    pending.append(pool.submit(_search_block, hmm, part, options))
                while len(pending) > 2 * cpus:        # bounded memory: a few blocks in flight
                    parts.append(pending.popleft().result())
            parts.extend(future.result() for future in pending)
    hits = parts[0].merge(*parts[1:]) if len(parts) > 1 else parts[0]
    hits.sort(by="key")
    return hits, num_targets


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
                        cpus: int = 1, chunk_sequences: int = CHUNK_SEQUENCES,
                        model: QueryModel | None = None) -> JackhmmerResult:
    """Search ``database`` with jackhmmer's iterations; the Stockholm text ``jackhmmer -A`` writes.
    ``model``: :func:`query_model` of ``query``, when another search already built it."""
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
        hits, num_targets = _search_database(hmm, Path(database), options, max(1, cpus), chunk_sequences)
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
