"""Input formats that ``foldkit check`` knows: detection and one validator per format.

Each :class:`FileFormat` names a validator as ``"module:function"``; the
function takes a path, reads the whole file with foldkit's own reader and
returns a one-line summary ("3 FASTA records, lengths 76-412") or raises
:class:`~foldkit.errors.InputError`. To support a new input (A3M, Stockholm,
parameter files), add one entry to :data:`FORMATS`; modules are imported only
when their format is checked.

Detection: a file whose extension belongs to a format, and whose content that
format's sniffer accepts, is that format; otherwise the first format (in
:data:`FORMATS` order) whose sniffer accepts the first 8 KB wins; otherwise
the format of the extension (so that its reader reports what is wrong).
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib
import os
import warnings
import zlib
from pathlib import Path
from typing import Callable

from foldkit.errors import InputError
from foldkit.io.textfile import GZIP_MAGIC, display_name

HEAD_BYTES = 8192


def _first_text_line(head: bytes, skip_comments: bool = False) -> str:
    for raw in head.splitlines():
        line = raw.decode("utf-8", errors="replace").strip()
        if line and not (skip_comments and line.startswith("#")):
            return line
    return ""


def sniff_fasta(head: bytes) -> bool:
    return _first_text_line(head).startswith(">")


def sniff_ts(head: bytes) -> bool:
    return _first_text_line(head).upper().startswith("PFRMAT")


def sniff_mmcif(head: bytes) -> bool:
    return _first_text_line(head, skip_comments=True).startswith("data_")


def sniff_stockholm(head: bytes) -> bool:
    return _first_text_line(head).upper().startswith("# STOCKHOLM")


def sniff_hhr(head: bytes) -> bool:
    return _first_text_line(head).startswith("Query ")


def sniff_npz(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def sniff_pdb(head: bytes) -> bool:
    from foldkit.io.structure import detect_structure_format

    return detect_structure_format(head.decode("utf-8", errors="replace")) == "pdb"


@dataclasses.dataclass(frozen=True)
class FileFormat:
    """One input format that ``foldkit check`` validates."""

    name: str                         # short name, also the --format value
    description: str                  # for messages and --help
    extensions: tuple[str, ...]       # lower case, with the dot, '.gz' stripped first
    sniff: Callable[[bytes], bool]    # first bytes (decompressed) -> looks like this format
    validator: str                    # "module:function", function(path) -> one-line summary


FORMATS: tuple[FileFormat, ...] = (
    FileFormat("params", "AlphaFold2 parameter file (npz)", (".npz",), sniff_npz,
               "foldkit.model.params_check:describe_params_file"),
    FileFormat("stockholm", "Stockholm alignment or hmmsearch template hits", (".sto", ".stockholm"),
               sniff_stockholm, "foldkit.io.validate:validate_stockholm"),
    FileFormat("hhr", "HHsearch/HHblits hit list", (".hhr",), sniff_hhr, "foldkit.io.validate:validate_hhr"),
    # A3M before FASTA: both start with '>', the .a3m extension decides.
    FileFormat("a3m", "A3M alignment", (".a3m",), sniff_fasta, "foldkit.io.validate:validate_msa"),
    FileFormat("ts", "CASP TS prediction", (".ts",), sniff_ts, "foldkit.io.validate:validate_structure"),
    FileFormat("mmcif", "mmCIF structure", (".cif", ".mmcif"), sniff_mmcif,
               "foldkit.io.validate:validate_mmcif"),
    FileFormat("pdb", "PDB structure", (".pdb", ".ent"), sniff_pdb, "foldkit.io.validate:validate_structure"),
    FileFormat("fasta", "FASTA sequences", (".fasta", ".fa", ".faa", ".fas", ".seq"), sniff_fasta,
               "foldkit.io.validate:validate_fasta"),
)


def format_names() -> tuple[str, ...]:
    return tuple(f.name for f in FORMATS)


def get_format(name: str) -> FileFormat:
    for file_format in FORMATS:
        if file_format.name == name:
            return file_format
    raise InputError(f"unknown format {name!r}; known formats: {', '.join(format_names())}")


def read_head(path: str | os.PathLike) -> bytes:
    """The first bytes of a file, decompressed when it is gzip."""
    name = display_name(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
            if head[:2] == GZIP_MAGIC:
                handle.seek(0)
                with gzip.open(handle) as unzipped:
                    head = unzipped.read(HEAD_BYTES)
    except FileNotFoundError:
        raise InputError("file not found", path=name) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path=name) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read file ({exc})", path=name) from None
    return head


def detect_format(path: str | os.PathLike) -> FileFormat:
    """The format of a file, by extension and content (see the module docstring)."""
    name = display_name(path)
    if str(path) == "-":
        raise InputError("reading stdin ('-') is not supported here; give a file path", path=name)
    head = read_head(path)
    if not head.strip():
        raise InputError("file is empty", path=name)
    suffixes = [s.lower() for s in Path(str(path)).suffixes if s.lower() != ".gz"]
    extension = suffixes[-1] if suffixes else ""
    for file_format in FORMATS:
        if extension in file_format.extensions and file_format.sniff(head):
            return file_format
    for file_format in FORMATS:
        if file_format.sniff(head):
            return file_format
    for file_format in FORMATS:
        if extension in file_format.extensions:
            return file_format     # its reader says exactly what is wrong
    if b"\x00" in head:
        raise InputError("binary data of no known format", path=name)
    first = _first_text_line(head)[:40]
    raise InputError(f"unrecognised format (first line {first!r}); known formats: "
                     f"{', '.join(f.description for f in FORMATS)}", path=name)


def validator_of(file_format: FileFormat) -> Callable[[str], str]:
    module_name, _, function_name = file_format.validator.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Outcome of checking one file."""

    path: str
    format: str | None
    summary: str | None               # one line when valid
    error: str | None                 # the message when invalid
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


def check_file(path: str | os.PathLike, format_name: str | None = None, model_preset: str | None = None,
               max_complex_length: int | None = None) -> CheckResult:
    """Detect (or take) the format of a file and run its validator; never raises InputError.

    ``model_preset`` and ``max_complex_length`` apply to FASTA files (how complexes are read, see
    :mod:`foldkit.io.complexes`).
    """
    name = display_name(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            file_format = get_format(format_name) if format_name else detect_format(path)
            if file_format.name == "fasta" and (model_preset is not None or max_complex_length is not None):
                summary = validate_fasta(str(path), model_preset, max_complex_length)
            else:
                summary = validator_of(file_format)(str(path))
        except InputError as exc:
            return CheckResult(name, format_name, None, str(exc), tuple(str(w.message) for w in caught))
    return CheckResult(name, file_format.name, summary, None, tuple(str(w.message) for w in caught))


# ----------------------------------------------------------------------------------------------
# Validators of the formats of this module


def _range_text(values: list[int], noun: str) -> str:
    if len(set(values)) == 1:
        return f"{noun} {values[0]}"
    return f"{noun}s {min(values)}-{max(values)}"


MAX_LISTED_COMPLEXES = 6


def validate_fasta(path: str, model_preset: str | None = None, max_complex_length: int | None = None) -> str:
    """Records and lengths; complexes (':'-separated chains, or the file with ``--model-preset multimer``) with
    their chains and lengths."""
    from foldkit.io.complexes import DEFAULT_MAX_LENGTH, MULTIMER_PRESET, SEPARATOR, complexes_from_text
    from foldkit.io.fasta import parse_fasta, record_file_names
    from foldkit.io.textfile import read_text

    name = display_name(path)
    text = read_text(path)
    limit = DEFAULT_MAX_LENGTH if max_complex_length is None else max_complex_length
    if model_preset == MULTIMER_PRESET:
        (complex_,) = complexes_from_text(text, name, model_preset, limit)
        return f"complex {complex_.id} (--model-preset multimer, one record per chain): {complex_.summary()}"
    queries = parse_fasta(text, name, chain_separator=True)
    if not any(SEPARATOR in q.sequence for q in queries):
        record_file_names(queries, name)
        lengths = [len(q) for q in queries]
        plural = "s" if len(queries) > 1 else ""
        return f"{len(queries)} FASTA record{plural}, {_range_text(lengths, 'length')}"
    complexes = complexes_from_text(text, name, model_preset, limit)
    record_file_names(queries, name)
    several = [c for c in complexes if not c.is_monomer]
    single = [c for c in complexes if c.is_monomer]
    listed = "; ".join(f"{c.id}: {c.summary()}" for c in several[:MAX_LISTED_COMPLEXES])
    if len(several) > MAX_LISTED_COMPLEXES:
        listed += f"; ... ({len(several) - MAX_LISTED_COMPLEXES} more)"
    summary = (f"{len(complexes)} FASTA record{'s' * (len(complexes) > 1)}: {len(several)} complex"
               f"{'es' * (len(several) > 1)} (chains separated by ':') - {listed}")
    if single:
        summary += f"; {len(single)} single chain{'s' * (len(single) > 1)}, " + \
            _range_text([c.num_residues for c in single], "length")
    return summary


def validate_structure(path: str) -> str:
    from foldkit.io.structure import read_structure_file

    structure = read_structure_file(path)
    models = structure.model_numbers
    chains = [structure.chains(number) for number in models]   # every model must hold protein residues
    kind = {"pdb": "PDB", "mmcif": "mmCIF", "ts": "CASP TS"}[structure.format]
    if structure.ts is not None:
        kind += f" for target {structure.ts.target or '(no TARGET)'}"
        if structure.ts.target is None:
            warnings.warn(f"{structure.path}: no TARGET record", stacklevel=2)
        for block in structure.ts.blocks:
            if not block.closed:
                warnings.warn(f"{structure.path}, line {block.line}: model {block.number} is not closed by END",
                              stacklevel=2)
    plural = "s" if len(models) > 1 else ""
    listed = ", ".join(f"chain {c.chain_id or '(blank)'} {len(c)} residues" for c in chains[0])
    return f"{kind}, {len(models)} model{plural}; model {models[0]}: {listed}"


def validate_msa(path: str) -> str:
    from foldkit.io.msa_files import read_msa

    if read_head(path).lstrip(b"\x00\r\n\t ").startswith(b"#"):
        summary = _colabfold_complex_a3m_summary(path)
        if summary is not None:
            return summary
    msa = read_msa(path)
    kind = "Stockholm" if sniff_stockholm(read_head(path)) else "A3M"
    with_deletions = int((msa.deletion_array() > 0).any(axis=1).sum())
    return (f"{kind} alignment, {len(msa)} sequences (query first), query length {msa.num_columns}, "
            f"{with_deletions} rows with insertions")


def _colabfold_complex_a3m_summary(path: str) -> str | None:
    """ColabFold's complex A3M ('#<lengths><TAB><copies>' first line): its chains and rows; None for other A3M."""
    from foldkit.io.colabfold_a3m import is_complex_a3m, parse_colabfold_complex_a3m
    from foldkit.io.textfile import decode_text, read_input_bytes

    text = decode_text(read_input_bytes(path).replace(b"\x00", b""), path)
    if not is_complex_a3m(text):
        return None
    parsed = parse_colabfold_complex_a3m(text, display_name(path))
    chains = ", ".join(f"{len(s)} aa" + (f" x{n}" if n > 1 else "") for s, n in zip(parsed.sequences, parsed.copies))
    paired = len(parsed.paired[0]) if parsed.paired is not None else 0
    unpaired = " / ".join(str(len(m)) for m in parsed.unpaired)
    return (f"ColabFold complex A3M, {len(parsed.sequences)} distinct chain{'s' * (len(parsed.sequences) > 1)} "
            f"({chains}): {paired} paired rows (query included), unpaired rows per chain {unpaired}")


# ----------------------------------------------------------------------------------------------
# Template search files (parsed with foldkit.templates)


def validate_hhr(path: str) -> str:
    from foldkit.io.textfile import read_text
    from foldkit.templates.hits import parse_hhr

    name = display_name(path)
    text = read_text(path)
    hits = parse_hhr(text, name)
    header = dict(line.split(None, 1) for line in text.splitlines()[:12] if len(line.split(None, 1)) == 2)
    query = header.get("Query", "?").split()[0] if header.get("Query", "").split() else "?"
    columns = header.get("Match_columns", "?").strip()
    summary = f"HHsearch hit list, query {query} ({columns} match columns), {len(hits)} hit{'s' * (len(hits) != 1)}"
    if hits:
        best = hits[0]
        summary += (f"; first {best.name.split()[0] if best.name.split() else '?'} "
                    f"(Sum_probs {best.sum_probs:g}, {best.aligned_cols} aligned columns)")
    return summary


def validate_stockholm(path: str) -> str:
    """hmmsearch -A output (template hits) by its own rules; any other Stockholm as a query-first MSA."""
    from foldkit.io.textfile import read_text
    from foldkit.templates.hits import check_hmmsearch_sto, is_hmmsearch_output, read_stockholm_rows

    name = display_name(path)
    text = read_text(path)
    if is_hmmsearch_output(text):
        hits, total, length = check_hmmsearch_sto(text, name)
        listed = ", ".join(hit.name for hit in hits[:5]) + (", ..." if len(hits) > 5 else "")
        return (f"hmmsearch template hits (Stockholm), profile length {length}: {len(hits)} protein hit"
                f"{'s' * (len(hits) != 1)} of {total} sequences" + (f" ({listed})" if hits else ""))
    read_stockholm_rows(text, name)          # complete ('//') and every row as wide as the first
    return validate_msa(path)


def validate_mmcif(path: str) -> str:
    """The structure summary, plus what AlphaFold2's template reader takes from the entry."""
    from foldkit.templates.mmcif import read_mmcif

    summary = validate_structure(path)
    try:
        entry = read_mmcif(path)
    except InputError as exc:
        return f"{summary}; not usable as a template ({exc.detail})"
    if entry.problem is not None:
        return f"{summary}; not usable as a template ({entry.problem})"
    released = entry.release_date.isoformat() if entry.release_date else "no release date"
    chains = ", ".join(f"{chain} {len(sequence)}" for chain, sequence in entry.seqres.items())
    return f"{summary}; template {entry.entry_id} released {released}, SEQRES chains {chains}"
