"""Template raw features from template structures and query-template alignments.

The layout is AlphaFold2's (``alphafold/data/templates.py`` output):
``template_aatype`` [T, L, 22] one-hot in HHblits order ('-' for query
residues without a template residue), ``template_all_atom_positions``
[T, L, 37, 3] and ``template_all_atom_masks`` [T, L, 37] (zero where
unaligned), ``template_sum_probs`` [T, 1], ``template_domain_names`` and
``template_sequence`` [T].
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.features.raw import hhblits_ids
from foldkit.protein import Protein


@dataclasses.dataclass(frozen=True)
class TemplateHit:
    """A template chain and which of its residues each query residue is aligned to."""

    name: str                              # e.g. "1ubq_A"
    protein: Protein
    query_to_template: Mapping[int, int]   # query position -> template residue row (0-based)
    sum_probs: float = 0.0                 # alignment score the reference takes from HHsearch


def mapping_from_alignment(query_aligned: str, template_aligned: str) -> dict[int, int]:
    """Query position -> template position from two gapped rows of one pairwise alignment."""
    if len(query_aligned) != len(template_aligned):
        raise ValueError("the aligned query and template rows differ in length")
    mapping, q, t = {}, 0, 0
    for a, b in zip(query_aligned, template_aligned):
        if a != "-" and b != "-":
            mapping[q] = t
        q += a != "-"
        t += b != "-"
    return mapping


def align_sequences(query: str, template: str) -> dict[int, int]:
    """Query -> template positions from a local BLOSUM62 alignment (gap open 11, extend 1)."""
    from Bio import Align
    from Bio.Align import substitution_matrices

    aligner = Align.PairwiseAligner(mode="local")
    aligner.substitution_matrix = substitution_matrices.load("BLOSUM62")
    aligner.open_gap_score, aligner.extend_gap_score = -11.0, -1.0
    clean = lambda s: "".join(c if c in rc.RESTYPE_ORDER else "X" for c in s.upper())  # noqa: E731
    alignment = aligner.align(clean(query), clean(template))[0]
    mapping = {}
    for (q0, q1), (t0, t1) in zip(*alignment.aligned):
        for offset in range(q1 - q0):
            mapping[q0 + offset] = t0 + offset
    return mapping


def make_template_features(query_sequence: str, hit: TemplateHit) -> dict[str, np.ndarray]:
    """Raw features of one template (no leading template axis)."""
    length = len(query_sequence)
    protein = hit.protein
    positions = np.zeros((length, rc.ATOM_TYPE_NUM, 3), np.float32)   # [L, 37, 3]
    masks = np.zeros((length, rc.ATOM_TYPE_NUM), np.float32)          # [L, 37]
    letters = ["-"] * length
    for q, t in hit.query_to_template.items():
        if not (0 <= q < length and 0 <= t < len(protein)):
            raise ValueError(f"template {hit.name}: aligned pair ({q}, {t}) is out of range")
        positions[q] = protein.atom_positions[t]
        masks[q] = protein.atom_mask[t]
        letters[q] = rc.RESTYPES_WITH_X[min(int(protein.aatype[t]), rc.UNK_INDEX)]
    ids = hhblits_ids()
    one_hot = np.zeros((length, 22), np.float32)                      # [L, 22] HHblits order
    one_hot[np.arange(length), [ids[c] for c in letters]] = 1.0
    return {
        "template_aatype": one_hot,
        "template_all_atom_masks": masks,
        "template_all_atom_positions": positions * masks[..., None],
        "template_domain_names": np.array(hit.name),
        "template_sequence": np.array("".join(letters)),
        "template_sum_probs": np.array([hit.sum_probs], np.float32),
    }


def stack_template_features(query_sequence: str, hits: Sequence[TemplateHit],
                            max_templates: int | None = None) -> dict[str, np.ndarray]:
    """Raw features of several templates [T, ...] (T = 0 gives empty arrays)."""
    hits = list(hits)[:max_templates] if max_templates is not None else list(hits)
    length = len(query_sequence)
    if not hits:
        return {
            "template_aatype": np.zeros((0, length, 22), np.float32),
            "template_all_atom_masks": np.zeros((0, length, rc.ATOM_TYPE_NUM), np.float32),
            "template_all_atom_positions": np.zeros((0, length, rc.ATOM_TYPE_NUM, 3), np.float32),
            "template_domain_names": np.zeros(0, dtype="<U1"),
            "template_sequence": np.zeros(0, dtype="<U1"),
            "template_sum_probs": np.zeros((0, 1), np.float32),
        }
    singles = [make_template_features(query_sequence, hit) for hit in hits]
    return {k: np.stack([s[k] for s in singles]) for k in singles[0]}


def template_hit_from_file(path: str | Path, query_sequence: str, chain_id: str | None = None,
                           alignment: tuple[str, str] | None = None, sum_probs: float = 0.0,
                           name: str | None = None) -> TemplateHit:
    """A TemplateHit from a PDB/mmCIF chain; aligned by ``alignment`` (query row,
    template row) or, without one, by a local BLOSUM62 alignment of the sequences."""
    protein = _read_chain(path, chain_id)
    if alignment is not None:
        query_row, template_row = alignment
        if query_row.replace("-", "") != query_sequence:
            raise InputError("the query row of the template alignment differs from the query", path=str(path))
        if template_row.replace("-", "") != protein.sequence:
            raise InputError("the template row of the alignment differs from the chain's sequence",
                             path=str(path), record=chain_id)
        mapping = mapping_from_alignment(query_row, template_row)
    else:
        mapping = align_sequences(query_sequence, protein.sequence)
    label = name or f"{Path(path).name.split('.')[0]}_{chain_id or protein.chain_id}"
    return TemplateHit(label, protein, mapping, sum_probs)


def _read_chain(path: str | Path, chain_id: str | None) -> Protein:
    """One chain of a PDB/mmCIF file via foldkit.io.structure.read_structure."""
    import inspect

    from foldkit.io.structure import read_structure

    parameters = inspect.signature(read_structure).parameters
    keyword = next((k for k in ("chain_id", "chain") if k in parameters), None)
    if chain_id is not None and keyword is not None:
        result = read_structure(path, **{keyword: chain_id})
    else:
        result = read_structure(path)
    proteins = list(result) if isinstance(result, (list, tuple)) else [result]
    if chain_id is not None:
        proteins = [p for p in proteins if p.chain_id == chain_id]
    if not proteins:
        raise InputError(f"no chain {chain_id!r} in the template structure", path=str(path))
    return proteins[0]
