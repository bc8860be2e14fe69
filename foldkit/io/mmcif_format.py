"""mmCIF format: the ``_atom_site`` loop -> ``AtomTable`` (parsed by gemmi.cif), and ``Protein`` -> mmCIF.

Author fields are preferred (``auth_asym_id``, ``auth_seq_id``,
``auth_comp_id``, ``auth_atom_id``), falling back to the label fields, so
chain ids and residue numbers match the PDB-format file of the same entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
from gemmi import cif

from foldkit import constants as rc
from foldkit.errors import FoldkitError, InputError
from foldkit.io.atom_table import AtomTable
from foldkit.protein import Protein

_NULL = ("?", ".")
_TAGS = ("Cartn_x", "group_PDB", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
         "label_seq_id", "pdbx_PDB_ins_code", "Cartn_y", "Cartn_z", "occupancy", "B_iso_or_equiv",
         "auth_seq_id", "auth_comp_id", "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num")
_REQUIRED = ("Cartn_x", "Cartn_y", "Cartn_z")


def is_mmcif_text(text: str) -> bool:
    """True when the first data line of the text opens a CIF data block."""
    for line in text[:8192].splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return stripped.startswith("data_")
    return False


def _unquote(values: np.ndarray) -> np.ndarray:
    quoted = np.char.startswith(values, "'") | np.char.startswith(values, '"')
    if quoted.any():
        values = values.copy()
        values[quoted] = [cif.as_string(v) for v in values[quoted]]
    return values


def parse_mmcif_text(text: str, path: str) -> AtomTable:
    """Atom records of the first data block of an mmCIF text."""
    try:
        document = cif.read_string(text)
    except (RuntimeError, ValueError) as exc:
        message = str(exc).splitlines()[0]
        where = re.match(r"\S*?:(\d+):\d*(\(\d+\))?:?\s*", message)
        line = int(where.group(1)) if where else None
        detail = message[where.end():] if where else message
        raise InputError(f"mmCIF syntax error: {detail}", path=path, line=line) from None
    if len(document) == 0:
        raise InputError("no mmCIF data block", path=path)
    block = document[0]
    table = block.find("_atom_site.", [_TAGS[0]] + ["?" + tag for tag in _TAGS[1:]])
    if len(table) == 0:
        raise InputError("no _atom_site records (no atoms)", path=path)
    columns: dict[str, np.ndarray] = {}
    for index, tag in enumerate(_TAGS):
        if table.has_column(index):
            columns[tag] = np.array(list(table.column(index)), dtype=str)
    for tag in _REQUIRED:
        if tag not in columns:
            raise InputError(f"_atom_site.{tag} is missing", path=path)

    def pick(author: str, label: str, what: str) -> np.ndarray:
        for tag in (author, label):
            if tag in columns:
                values = _unquote(columns[tag])
                return values
        raise InputError(f"_atom_site has neither {author} nor {label} ({what})", path=path)

    def numbers(tag: str, what: str, default: float | None, dtype=np.float64) -> np.ndarray:
        values = columns.get(tag)
        if values is None:
            if default is None:
                raise InputError(f"_atom_site.{tag} is missing", path=path)
            return np.full(len(table), default, dtype=dtype)
        null = np.isin(values, _NULL)
        if null.any() and default is None:
            row = int(np.flatnonzero(null)[0])
            raise InputError(f"_atom_site row {row + 1}: {what} is missing ({str(values[row])!r})",
                             path=path)
        out = np.full(len(values), default if default is not None else 0, dtype=dtype)
        try:
            out[~null] = values[~null].astype(np.float64).astype(dtype)
        except ValueError:
            for row in np.flatnonzero(~null):
                try:
                    float(values[row])
                except ValueError:
                    raise InputError(f"_atom_site row {row + 1}: {what} {str(values[row])!r} is not a number",
                                     path=path) from None
        return out

    coords = np.stack([numbers(f"Cartn_{axis}", f"{axis} coordinate", None) for axis in "xyz"], axis=-1)
    seq_tag = "auth_seq_id" if "auth_seq_id" in columns else "label_seq_id"
    resseq = numbers(seq_tag, "residue number", None, dtype=np.int64)
    chain = pick("auth_asym_id", "label_asym_id", "chain id")
    chain = np.where(np.isin(chain, _NULL), "", chain)
    icode = columns.get("pdbx_PDB_ins_code", np.full(len(table), "?"))
    altloc = columns.get("label_alt_id", np.full(len(table), "."))
    element = columns.get("type_symbol", np.full(len(table), "?"))
    group = columns.get("group_PDB", np.full(len(table), "ATOM"))
    return AtomTable(
        model=numbers("pdbx_PDB_model_num", "model number", 1, dtype=np.int64),
        chain=chain,
        resseq=resseq,
        icode=np.where(np.isin(icode, _NULL), "", icode),
        resname=np.char.upper(pick("auth_comp_id", "label_comp_id", "residue name")),
        atom_name=np.char.upper(pick("auth_atom_id", "label_atom_id", "atom name")),
        altloc=np.where(np.isin(altloc, _NULL), "", altloc),
        element=np.char.upper(np.where(np.isin(element, _NULL), "", element)),
        is_hetatm=group == "HETATM",
        coords=coords,
        occupancy=numbers("occupancy", "occupancy", 1.0),
        b_factor=numbers("B_iso_or_equiv", "B-factor", 0.0),
    )


# ----------------------------------------------------------------------------------------------
# Writing

MMCIF_BLANK_CHAIN = "A"


def to_mmcif_string(protein: Protein, name: str = "foldkit") -> str:
    """mmCIF text of one chain with entity, sequence and atom_site categories (B_iso from b_factors).

    mmCIF has no blank chain ids: a blank chain is written as 'A'.
    """
    return chains_to_mmcif_string([protein], name)


def mmcif_block_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-." else "_" for c in name) or "foldkit"


ATOM_SITE_TAGS = (
    "group_PDB", "id", "type_symbol", "label_atom_id", "label_alt_id", "label_comp_id", "label_asym_id",
    "label_entity_id", "label_seq_id", "pdbx_PDB_ins_code", "Cartn_x", "Cartn_y", "Cartn_z",
    "occupancy", "B_iso_or_equiv", "pdbx_formal_charge", "auth_seq_id", "auth_comp_id",
    "auth_asym_id", "auth_atom_id", "pdbx_PDB_model_num")


def sequence_and_atom_site_header(entity_resnames: Mapping[int, Sequence[str]], chain_ids: Sequence[str],
                                  chain_entities: Sequence[int]) -> list[str]:
    """The ``_entity_poly_seq`` (residue names per entity id, in the mapping's order), ``_struct_asym``
    (each chain's entity), ``_chem_comp`` loops and the ``_atom_site`` loop header (see
    :func:`atom_site_line`)."""
    lines = ["#", "loop_", "_entity_poly_seq.entity_id", "_entity_poly_seq.num", "_entity_poly_seq.mon_id",
             "_entity_poly_seq.hetero"]
    for entity, names in entity_resnames.items():
        lines += [f"{entity} {i + 1} {r} n" for i, r in enumerate(names)]
    lines += ["#", "loop_", "_struct_asym.id", "_struct_asym.entity_id"]
    lines += [f"{chain_id} {entity}" for chain_id, entity in zip(chain_ids, chain_entities)]
    lines += ["#", "loop_", "_chem_comp.id", "_chem_comp.type"]
    lines += [f"{r} 'L-peptide linking'" for r in sorted({r for names in entity_resnames.values() for r in names})]
    lines += ["#", "loop_"] + [f"_atom_site.{tag}" for tag in ATOM_SITE_TAGS]
    return lines


def atom_site_line(serial: int, element: str, atom_name: str, resname: str, chain_id: str, entity: int,
                   seq_id: int, icode: str, xyz, b_factor: float, auth_seq_id: int) -> str:
    """One ``_atom_site`` row (columns :data:`ATOM_SITE_TAGS`, model 1; ``icode`` '?' when none)."""
    x, y, z = xyz
    return (f"ATOM {serial} {element} {atom_name} . {resname} {chain_id} {entity} {seq_id} "
            f"{icode} {x:.3f} {y:.3f} {z:.3f} 1.00 {b_factor:.2f} ? {auth_seq_id} "
            f"{resname} {chain_id} {atom_name} 1")


def chain_entity_ids(chains: Sequence[Protein]) -> list[int]:
    """Entity id (1, 2, ...) per chain: chains with the same residue sequence share one, numbered in order."""
    entities: dict[tuple[int, ...], int] = {}
    return [entities.setdefault(tuple(int(a) for a in chain.aatype), len(entities) + 1) for chain in chains]


def chains_to_mmcif_string(chains: Sequence[Protein], name: str = "foldkit") -> str:
    """mmCIF text of one or more chains (a complex): one entity per distinct sequence, one
    ``_struct_asym`` per chain, atom sites numbered on across chains (B_iso from b_factors).

    Blank chain ids are written as 'A'; chain ids must be distinct.
    """
    block = mmcif_block_name(name)
    chain_ids = [chain.chain_id.strip() or MMCIF_BLANK_CHAIN for chain in chains]
    if len(set(chain_ids)) != len(chain_ids):
        raise FoldkitError(f"chain ids must be distinct in one mmCIF model, got {', '.join(chain_ids)}")
    entity_ids = chain_entity_ids(chains)
    resnames = [[rc.resname_of(int(a)) for a in chain.aatype] for chain in chains]
    first_chain_of = {entity: index for index, entity in reversed(list(enumerate(entity_ids)))}
    entities = sorted(first_chain_of)
    lines = [f"data_{block}", "#", f"_entry.id {block}", "#", "loop_", "_entity.id", "_entity.type"]
    lines += [f"{entity} polymer" for entity in entities]
    if len(entities) == 1:
        lines += ["#", "_entity_poly.entity_id 1", "_entity_poly.type 'polypeptide(L)'"]
    else:
        lines += ["#", "loop_", "_entity_poly.entity_id", "_entity_poly.type"]
        lines += [f"{entity} 'polypeptide(L)'" for entity in entities]
    lines += sequence_and_atom_site_header({entity: resnames[first_chain_of[entity]] for entity in entities},
                                           chain_ids, entity_ids)
    serial = 1
    for protein, chain, entity, names in zip(chains, chain_ids, entity_ids, resnames):
        icodes = protein.insertion_codes or ("",) * len(protein)
        positions = np.asarray(protein.atom_positions, dtype=np.float64)
        mask = np.asarray(protein.atom_mask) > 0
        b_factors = np.asarray(protein.b_factors, dtype=np.float64)
        for i, resname in enumerate(names):
            resseq = int(protein.residue_index[i])
            icode = icodes[i] or "?"
            for atom in np.flatnonzero(mask[i]):
                atom_name = rc.ATOM_TYPES[atom]
                lines.append(atom_site_line(serial, atom_name[0], atom_name, resname, chain, entity, i + 1, icode,
                                            positions[i, atom], b_factors[i, atom], resseq))
                serial += 1
    lines.append("#")
    return "\n".join(lines) + "\n"
