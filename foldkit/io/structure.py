"""Protein structures in and out: PDB, mmCIF and CASP TS files <-> ``Protein``.

Readers (format detected from the content, gzip accepted):

* :func:`read_structure` - one chain of one model;
* :func:`read_chains` - every protein chain of one model;
* :func:`read_ts_models` - every model of a CASP TS file (or a plain PDB).

Residue rules (alternate locations, MSE, non-standard residues, hydrogens,
ligands) are documented in :mod:`foldkit.io.atom_table`. Writers
(:func:`write_pdb`, :func:`write_mmcif`, :func:`write_ts`) write atomically.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

from foldkit.errors import InputError
from foldkit.io import casp_ts, mmcif_format, pdb_format
from foldkit.io.atom_table import AtomTable, build_chains, model_numbers, select_model
from foldkit.io.atomic import atomic_write_text
from foldkit.io.casp_ts import to_ts_string
from foldkit.io.line_index import index_lines
from foldkit.io.mmcif_format import to_mmcif_string
from foldkit.io.pdb_format import to_pdb_string
from foldkit.io.textfile import (
    decode_text,
    display_name,
    read_input_bytes,
)
from foldkit.protein import Protein

__all__ = [
    "STRUCTURE_FORMATS", "StructureFile", "detect_structure_format", "read_structure_file", "read_structure", "read_chains",
    "read_ts_models", "to_pdb_string", "to_mmcif_string", "to_ts_string", "write_pdb", "write_mmcif",
    "write_ts", "write_structure",
]

STRUCTURE_FORMATS = ("pdb", "mmcif", "ts")
_CONTROL_SCAN = 65536       # decode_text looks for control characters in the first 64 KiB
_CONTROL_BYTES = bytes(range(0x09)) + bytes(range(0x0E, 0x20)) + b"\x7f"   # as textfile._CONTROL_CHARS
_PDB_RECORDS = ("HEADER", "ATOM  ", "HETATM", "REMARK", "MODEL ", "CRYST1", "TITLE ", "COMPND", "SOURCE",
                "EXPDTA", "AUTHOR", "SEQRES", "HELIX ", "SHEET ", "ORIGX1", "SCALE1", "KEYWDS", "JRNL  ")


def detect_structure_format(text: str, path: str | os.PathLike = "") -> str | None:
    """'pdb', 'mmcif' or 'ts' from the content (first record), or None if it looks like none of them."""
    if casp_ts.is_ts_text(text):
        return "ts"
    if mmcif_format.is_mmcif_text(text):
        return "mmcif"
    for line in text[:8192].splitlines():
        if line.strip():
            head = line[:6].upper()
            if head in _PDB_RECORDS or head[:4] == "ATOM" or pdb_format.is_atom_record(line):
                return "pdb"
            break
    if any(pdb_format.is_atom_record(line) for line in text.splitlines()):
        return "pdb"
    suffixes = [s.lower() for s in Path(str(path)).suffixes if s.lower() != ".gz"]
    if suffixes and suffixes[-1] in (".cif", ".mmcif"):
        return "mmcif"
    return None


@dataclasses.dataclass(frozen=True)
class StructureFile:
    """Every atom record of a structure file, with its format (and TS header when it is TS)."""

    path: str
    format: str                          # 'pdb', 'mmcif' or 'ts'
    atoms: AtomTable
    ts: casp_ts.TsFile | None = None     # TARGET, MODEL blocks, PARENT lines of a TS file

    @property
    def model_numbers(self) -> list[int]:
        return model_numbers(self.atoms)

    def chains(self, model: int | None = None) -> list[Protein]:
        """Every protein chain of one model (None = the first)."""
        return build_chains(select_model(self.atoms, model, self.path), self.path, all_chains=True)


def _decode(data: bytes, path: str | os.PathLike) -> str:
    """``decode_text(data, path)``, with a quick path for clean ASCII text (the same checks, in C)."""
    head = data[:_CONTROL_SCAN]
    if (data.isascii() and not data.isspace() and data and b"\x00" not in data
            and len(head.translate(None, _CONTROL_BYTES)) == len(head)):
        return data.decode("ascii")
    return decode_text(data, path)


def read_structure_file(path: str | os.PathLike, fmt: str | None = None) -> StructureFile:
    """Parse a PDB, mmCIF or TS file (format from the content unless ``fmt``) into a StructureFile."""
    name = display_name(path)
    data = read_input_bytes(path)
    text = _decode(data, path)
    fmt = fmt or detect_structure_format(text, path)
    if fmt is None:
        lines = text.splitlines()
        number, first = next((i, line) for i, line in enumerate(lines, 1) if line.strip())
        raise InputError(f"not a PDB, mmCIF or CASP TS file (first line: {first.strip()[:40]!r})",
                         path=name, line=number)
    if fmt == "mmcif":
        return StructureFile(name, fmt, mmcif_format.parse_mmcif_text(text, name))
    index = index_lines(data) if fmt in ("ts", "pdb") else None     # None: read line by line
    if fmt == "ts":
        ts_file = (casp_ts.scan_ts_index(index, name) if index is not None
                   else casp_ts.scan_ts(text.splitlines(), name))
        return StructureFile(name, fmt, pdb_format.atom_table_from_lines(ts_file.atoms, name), ts_file)
    if fmt == "pdb":
        atoms = (pdb_format.scan_pdb_index(index, name) if index is not None
                 else pdb_format.scan_pdb_lines(text.splitlines(), name))
        return StructureFile(name, fmt, pdb_format.atom_table_from_lines(atoms, name))
    raise ValueError(f"unknown structure format {fmt!r}")


def read_structure(path: str | os.PathLike, chain: str | None = None, model: int | None = None, *,
                   chain_id: str | None = None) -> Protein:
    """One chain of one model of a PDB, mmCIF or CASP TS file.

    ``chain`` None takes the first protein chain ('' or ' ' selects a blank
    chain id); ``model`` is the model number written in the file (MODEL n),
    None takes the first. ``chain_id`` is an alias of ``chain``.
    """
    if chain is None:
        chain = chain_id
    structure = read_structure_file(path)
    return build_chains(select_model(structure.atoms, model, structure.path), structure.path, chain=chain)[0]


def read_chains(path: str | os.PathLike, model: int | None = None) -> list[Protein]:
    """Every protein chain of one model (None = the first), in file order."""
    return read_structure_file(path).chains(model)


def read_ts_models(path: str | os.PathLike, chain: str | None = None) -> list[tuple[int, Protein]]:
    """(model number, Protein) for every model of a CASP TS file.

    A file without the TS header is read as PDB: one entry per MODEL (or a
    single model numbered 1).
    """
    structure = read_structure_file(path)
    return [(number, build_chains(select_model(structure.atoms, number, structure.path), structure.path,
                                  chain=chain)[0])
            for number in structure.model_numbers]


def write_pdb(protein: Protein, path: str | os.PathLike) -> None:
    """Write one chain as PDB (atomically)."""
    atomic_write_text(path, to_pdb_string(protein))


def write_mmcif(protein: Protein, path: str | os.PathLike, name: str | None = None) -> None:
    """Write one chain as mmCIF (atomically); the data block is named after the file unless ``name``."""
    atomic_write_text(path, to_mmcif_string(protein, name or Path(path).name.split(".")[0]))


def write_ts(models: Sequence[Protein] | Sequence[tuple[int, Protein]], path: str | os.PathLike,
             target: str, parent: str = "N/A", method: str | None = None) -> None:
    """Write a CASP TS file (atomically); ``models`` are Proteins (numbered 1..n) or (number, Protein)."""
    numbered = [item if isinstance(item, tuple) else (i + 1, item) for i, item in enumerate(models)]
    atomic_write_text(path, to_ts_string(numbered, target=target, parent=parent, method=method))


def write_structure(protein: Protein, path: str | os.PathLike) -> None:
    """Write PDB or mmCIF, chosen by the extension (.cif/.mmcif -> mmCIF, otherwise PDB)."""
    if Path(path).suffix.lower() in (".cif", ".mmcif"):
        write_mmcif(protein, path)
    else:
        write_pdb(protein, path)
