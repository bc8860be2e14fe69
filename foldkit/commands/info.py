"""``foldkit info FILE``: what a structure (PDB, mmCIF, CASP TS) or FASTA file holds."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import warnings

import numpy as np

from foldkit import constants as rc
from foldkit.protein import Protein

BACKBONE = ("N", "CA", "C", "O")
_BACKBONE_INDEX = [rc.ATOM_ORDER[a] for a in BACKBONE]


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "info", help="summarise a structure or FASTA file (chains, residues, sequence, gaps, atoms)",
        description="Models, chains, residue count and numbering, gaps in the numbering, sequence and a "
                    "summary of atoms per residue of a PDB, mmCIF or CASP TS file (or the records of a "
                    "FASTA file).")
    parser.add_argument("file", metavar="FILE", help="PDB, mmCIF, CASP TS or FASTA file (gzip accepted)")
    parser.add_argument("--model", type=int, default=None, help="model number (default: the first)")
    parser.add_argument("--chain", default=None, help="only this chain (default: every protein chain)")
    parser.set_defaults(func=run)


@dataclasses.dataclass(frozen=True)
class ChainSummary:
    """Numbers that ``foldkit info`` prints for one chain."""

    residues: int
    first_number: int
    last_number: int
    gaps: tuple[tuple[int, int], ...]           # missing residue-number ranges (inclusive)
    insertion_codes: int                        # residues with an insertion code
    heavy_atoms: int
    complete: int                               # residues with every heavy atom of their type
    missing_side_chain: int                     # backbone complete, side chain incomplete
    missing_backbone: int                       # some of N, CA, C, O missing
    ca_only: int                                # CA and nothing else
    non_standard: tuple[tuple[str, int], ...]   # residue names read as UNK, with counts


def summarise_chain(protein: Protein) -> ChainSummary:
    mask = np.asarray(protein.atom_mask) > 0                          # [L, 37]
    expected = np.asarray(rc.table("restype_atom37_mask"))[np.asarray(protein.aatype)] > 0   # [L, 37]
    expected[:, _BACKBONE_INDEX] = True
    expected[:, rc.ATOM_ORDER["OXT"]] = False
    backbone_ok = mask[:, _BACKBONE_INDEX].all(axis=1)
    complete = (mask | ~expected).all(axis=1)
    ca_only = mask[:, rc.ATOM_ORDER["CA"]] & (mask.sum(axis=1) == 1)
    numbers = np.asarray(protein.residue_index)
    gaps = tuple((int(a) + 1, int(b) - 1) for a, b in zip(numbers[:-1], numbers[1:]) if b - a > 1)
    icodes = protein.insertion_codes or ()
    names = protein.resnames or tuple(rc.resname_of(int(a)) for a in protein.aatype)
    odd = [n for n, a in zip(names, protein.aatype) if a == rc.UNK_INDEX]
    return ChainSummary(
        residues=len(protein),
        first_number=int(numbers.min()) if len(numbers) else 0,
        last_number=int(numbers.max()) if len(numbers) else 0,
        gaps=gaps,
        insertion_codes=sum(1 for c in icodes if c),
        heavy_atoms=int(mask.sum()),
        complete=int(complete.sum()),
        missing_side_chain=int((backbone_ok & ~complete).sum()),
        missing_backbone=int((~backbone_ok).sum()),
        ca_only=int(ca_only.sum()),
        non_standard=tuple((n, odd.count(n)) for n in sorted(set(odd))),
    )


def _gap_text(gaps: tuple[tuple[int, int], ...]) -> str:
    if not gaps:
        return "none"
    parts = [f"{a}-{b} ({b - a + 1})" if b > a else f"{a} (1)" for a, b in gaps[:12]]
    missing = sum(b - a + 1 for a, b in gaps)
    more = f", ... {len(gaps)} gaps in all" if len(gaps) > 12 else ""
    return f"{', '.join(parts)}{more}; {missing} numbers missing"


def format_chain(protein: Protein) -> list[str]:
    summary = summarise_chain(protein)
    label = protein.chain_id or "(blank)"
    lines = [f"chain {label}: {summary.residues} residues, numbered {summary.first_number}-{summary.last_number}",
             f"  gaps in numbering: {_gap_text(summary.gaps)}"]
    if summary.insertion_codes:
        lines.append(f"  residues with insertion codes: {summary.insertion_codes}")
    if summary.non_standard:
        lines.append("  read as UNK: " + ", ".join(f"{n} x{c}" for n, c in summary.non_standard))
    per_residue = summary.heavy_atoms / max(summary.residues, 1)
    lines.append(f"  atoms: {summary.heavy_atoms} heavy atoms ({per_residue:.1f} per residue); "
                 f"complete residues {summary.complete}/{summary.residues}, missing side-chain atoms "
                 f"{summary.missing_side_chain}, missing backbone atoms {summary.missing_backbone}, "
                 f"CA only {summary.ca_only}")
    lines.append("  sequence:")
    lines += ["    " + row for row in textwrap.wrap(protein.sequence, 60)]
    return lines


def _structure_info(path: str, model: int | None, chain: str | None) -> list[str]:
    from foldkit.io.atom_table import build_chains, select_model
    from foldkit.io.structure import read_structure_file

    structure = read_structure_file(path)
    kind = {"pdb": "PDB", "mmcif": "mmCIF", "ts": "CASP TS"}[structure.format]
    numbers = structure.model_numbers
    lines = [f"{structure.path}: {kind}"]
    if structure.ts is not None:
        lines.append(f"target: {structure.ts.target or '(no TARGET record)'}")
        for block in structure.ts.blocks:
            parents = " ".join(block.parents) or "(none)"
            lines.append(f"model {block.number}: PARENT {parents}{'' if block.closed else ' (no END record)'}")
    shown = numbers[:20]
    lines.append(f"models: {len(numbers)} ({', '.join(map(str, shown))}{', ...' if len(numbers) > 20 else ''})")
    selected = numbers[0] if model is None else model
    proteins = build_chains(select_model(structure.atoms, selected, structure.path), structure.path,
                            chain=chain, all_chains=chain is None)
    lines.append(f"model {selected}: {len(proteins)} protein chain{'s' if len(proteins) > 1 else ''}: "
                 + ", ".join(f"{p.chain_id or '(blank)'} ({len(p)} residues)" for p in proteins))
    for protein in proteins:
        lines += format_chain(protein)
    return lines


def _fasta_info(path: str) -> list[str]:
    from foldkit.io.fasta import read_fasta

    queries = read_fasta(path)
    lines = [f"{path}: FASTA, {len(queries)} record{'s' if len(queries) > 1 else ''}"]
    for query in queries:
        lines.append(f"{query.id}: {len(query)} residues{'  ' + query.description if query.description else ''}")
        lines += ["    " + row for row in textwrap.wrap(query.sequence, 60)]
    return lines


def run(args) -> int:
    from foldkit.io.validate import detect_format

    file_format = detect_format(args.file)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if file_format.name == "fasta":
            lines = _fasta_info(args.file)
        elif file_format.name in ("pdb", "mmcif", "ts"):
            lines = _structure_info(args.file, args.model, args.chain)
        else:
            from foldkit.errors import InputError

            raise InputError(f"info does not describe {file_format.description} files", path=args.file)
    for warning in caught:
        print(f"foldkit info: warning: {warning.message}", file=sys.stderr)
    print("\n".join(lines))
    return 0
