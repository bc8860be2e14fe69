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

import os
from pathlib import Path
from typing import Sequence

from foldkit.errors import InputError
from foldkit.io import casp_ts, mmcif_format, pdb_format
from foldkit.io.atom_table import AtomTable, build_chains, model_numbers, select_model
from foldkit.io.casp_ts import to_ts_string
from foldkit.io.mmcif_format import to_mmcif_string
from foldkit.io.pdb_format import to_pdb_string
from foldkit.io.textfile import atomic_write_text, display_name, read_text
from foldkit.protein import Protein

__all__ = [
    "STRUCTURE_FORMATS", "detect_structure_format", "read_atom_table", "read_structure", "read_chains",
    "read_ts_models", "to_pdb_string", "to_mmcif_string", "to_ts_string", "write_pdb", "write_mmcif",
    "write_ts", "write_structure",
]

STRUCTURE_FORMATS = ("pdb", "mmcif", "ts")
_PDB_RECORDS = ("HEADER", "ATOM  ", "HETATM", "REMARK", "MODEL ", "CRYST1", "TITLE ", "COMPND", "SOURCE",
                "EXPDTA", "AUTHOR", "SEQRES", "HELIX ", "SHEET ", "ORIGX1", "SCALE1", "KEYWDS", "JRNL  ")


def detect_structure_format(text: str, path: str | os.PathLike = "") -> str | None:
    """'pdb', 'mmcif' or 'ts' from the content (first record), or None if it looks like none of them."""
    if casp_ts.is_ts_text(text):
        return "ts"
    if mmcif_format.is_mmcif_text(text):
        return "mmcif"
    for line in text.splitlines():
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


def _parse(text: str, name: str, fmt: str) -> tuple[AtomTable, casp_ts.TsFile | None]:
    if fmt == "mmcif":
        return mmcif_format.parse_mmcif_text(text, name), None
    lines = text.splitlines()
    if fmt == "ts":
        ts_file = casp_ts.scan_ts(lines, name)
        return pdb_format.atom_table_from_lines(ts_file.atoms, name), ts_file
    return pdb_format.atom_table_from_lines(pdb_format.scan_pdb_lines(lines, name), name), None


def read_atom_table(path: str | os.PathLike, fmt: str | None = None) -> tuple[str, AtomTable]:
    """(format, every atom record) of a PDB, mmCIF or TS file."""
    name = display_name(path)
    text = read_text(path)
    fmt = fmt or detect_structure_format(text, path)
    if fmt is None:
        first = next(line for line in text.splitlines() if line.strip())
        raise InputError(f"not a PDB, mmCIF or CASP TS file (first line: {first.strip()[:40]!r})",
                         path=name, line=text.splitlines().index(first) + 1)
    if fmt not in STRUCTURE_FORMATS:
        raise ValueError(f"unknown structure format {fmt!r}")
    table, _ = _parse(text, name, fmt)
    return fmt, table


def read_structure(path: str | os.PathLike, chain: str | None = None, model: int | None = None, *,
                   chain_id: str | None = None) -> Protein:
    """One chain of one model of a PDB, mmCIF or CASP TS file.

    ``chain`` None takes the first protein chain ('' or ' ' selects a blank
    chain id); ``model`` is the model number written in the file (MODEL n),
    None takes the first. ``chain_id`` is an alias of ``chain``.
    """
    if chain is None:
        chain = chain_id
    name = display_name(path)
    _, table = read_atom_table(path)
    return build_chains(select_model(table, model, name), name, chain=chain)[0]


def read_chains(path: str | os.PathLike, model: int | None = None) -> list[Protein]:
    """Every protein chain of one model (None = the first), in file order."""
    name = display_name(path)
    _, table = read_atom_table(path)
    return build_chains(select_model(table, model, name), name, all_chains=True)


def read_ts_models(path: str | os.PathLike, chain: str | None = None) -> list[tuple[int, Protein]]:
    """(model number, Protein) for every model of a CASP TS file.

    A file without the TS header is read as PDB: one entry per MODEL (or a
    single model numbered 1).
    """
    name = display_name(path)
    fmt, table = read_atom_table(path)
    return [(number, build_chains(select_model(table, number, name), name, chain=chain)[0])
            for number in model_numbers(table)]


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
