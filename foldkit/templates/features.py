"""Template features of one hit, and of all kept hits, with AlphaFold2's layout and conventions.

For one hit (arrays without the template axis):

* the hit's alignment gives query position -> position in the hit's template
  sequence (:func:`query_to_template_mapping`);
* the template sequence is located in the mmCIF SEQRES (:func:`locate_in_entry`):
  first as a substring of the hit's chain ("exact template match"), then of any
  chain ("sequence-only match"), then with X as a wildcard ("fuzzy match"); the
  offset of the match turns template positions into SEQRES positions;
* :func:`single_template_features` copies the atoms of the mapped SEQRES
  residues into query positions and spells ``template_sequence`` with the
  hit's letters ('-' for query positions without a template residue);
  ``template_aatype`` is that sequence one-hot in HHblits order [L, 22].

:func:`stack_templates` builds [T, ...] arrays (float32 numbers, unicode
strings) with the two empty conventions of AlphaFold2: the HHsearch path gives
every array the shape (0,) when no template is kept, the hmmsearch path one
all-zero template (empty name and sequence, ``template_sum_probs`` of shape (1,)).
"""

from __future__ import annotations

import re

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.features.raw import hhblits_ids
from foldkit.templates.hits import TemplateHit
from foldkit.templates.mmcif import ChainAtoms, MmcifEntry

TEMPLATE_FEATURE_NAMES = ("template_aatype", "template_all_atom_masks", "template_all_atom_positions",
                          "template_domain_names", "template_sequence", "template_sum_probs")
NUM_TEMPLATE_RESTYPES = 22           # 20 amino acids, X, gap (HHblits order)
MIN_MASKED_ATOMS = 5                 # alanine's heavy atoms: fewer means no usable structure


class TemplateFeatureError(Exception):
    """The mapped residues of the template carry (almost) no atoms; the hit is skipped."""


def query_to_template_mapping(hit: TemplateHit, query_sequence: str,
                              path: str | None = None) -> dict[int, int]:
    """Query position -> position in the hit's gapless template sequence."""
    if not hit.query:
        return {}
    query_part = hit.query.replace("-", "")
    offset = query_sequence.find(query_part)
    if offset < 0:
        raise InputError(f"hit {hit.index} ({hit.name.split()[0]}): its query row {query_part[:30]}... is not "
                         f"part of the query sequence (search output of another query?)", path=path)
    query_columns = [i for i in hit.indices_query if i >= 0]
    hit_columns = [i for i in hit.indices_hit if i >= 0]
    if not query_columns or not hit_columns:
        return {}
    query_base, hit_base = min(query_columns), min(hit_columns)
    template_length = len(hit.hit_sequence.replace("-", ""))
    mapping = {}
    for query_index, hit_index in zip(hit.indices_query, hit.indices_hit):
        if query_index < 0 or hit_index < 0:
            continue
        query_position, template_position = query_index - query_base + offset, hit_index - hit_base
        if template_position < template_length and query_position < len(query_sequence):
            mapping[query_position] = template_position
    return mapping


def locate_in_entry(entry: MmcifEntry, chain_id: str, template_sequence: str) -> tuple[str, int, str] | None:
    """(chain id, SEQRES offset, how) of the template sequence in the entry, or None when absent.

    ``how`` is AlphaFold2's log wording: "exact template", "sequence-only", "fuzzy sequence-only".
    """
    own = entry.seqres.get(chain_id)
    if own and template_sequence in own:
        return chain_id, own.find(template_sequence), "exact template"
    for other, sequence in entry.seqres.items():
        if sequence and template_sequence in sequence:
            return other, sequence.find(template_sequence), "sequence-only"
    pattern = re.compile("".join("." if c == "X" else f"(?:{re.escape(c)}|X)" for c in template_sequence))
    for other, sequence in entry.seqres.items():
        found = pattern.search(sequence)
        if found:
            return other, found.start(), "fuzzy sequence-only"
    return None


def single_template_features(query_sequence: str, atoms: ChainAtoms, mapping: dict[int, int],
                             template_sequence: str, offset: int, domain_name: str) -> dict[str, np.ndarray]:
    """Features of one template (no template axis; ``template_sum_probs`` is added by the caller)."""
    length = len(query_sequence)
    positions = np.zeros((length, rc.ATOM_TYPE_NUM, 3), np.float32)     # [L, 37, 3]
    masks = np.zeros((length, rc.ATOM_TYPE_NUM), np.float32)            # [L, 37]
    letters = ["-"] * length
    for query_position, template_position in mapping.items():
        residue = template_position + offset      # -1 after a realignment gap: the last residue, as in AF2
        positions[query_position] = atoms.positions[residue]
        masks[query_position] = atoms.mask[residue]
        letters[query_position] = template_sequence[template_position]
    if masks.sum() < MIN_MASKED_ATOMS:
        span = (min(mapping.values()) + offset, max(mapping.values()) + offset) if mapping else (0, -1)
        raise TemplateFeatureError(f"the template atom mask of {domain_name} is all zeros "
                                 f"(residues {span[0]}-{span[1]})")
    sequence = "".join(letters)
    ids = hhblits_ids()
    unknown = sorted({c for c in sequence if c not in ids})
    if unknown:
        raise TemplateFeatureError(f"template {domain_name} has letters {''.join(unknown)!r} without an HHblits id")
    one_hot = np.zeros((length, NUM_TEMPLATE_RESTYPES), np.float32)     # [L, 22]
    one_hot[np.arange(length), [ids[c] for c in sequence]] = 1.0
    return {
        "template_aatype": one_hot,
        "template_all_atom_masks": masks,
        "template_all_atom_positions": positions,
        "template_domain_names": domain_name,
        "template_sequence": sequence,
    }


def stack_templates(templates: list[dict], query_length: int, zero_template_when_empty: bool
                    ) -> dict[str, np.ndarray]:
    """[T, ...] arrays of the kept templates (each dict also holds ``template_sum_probs``: float)."""
    if templates:
        return {
            "template_aatype": np.stack([t["template_aatype"] for t in templates]),                 # [T, L, 22]
            "template_all_atom_masks": np.stack([t["template_all_atom_masks"] for t in templates]),  # [T, L, 37]
            "template_all_atom_positions":
                np.stack([t["template_all_atom_positions"] for t in templates]),                     # [T, L, 37, 3]
            "template_domain_names": np.array([t["template_domain_names"] for t in templates]),    # [T]
            "template_sequence": np.array([t["template_sequence"] for t in templates]),            # [T]
            "template_sum_probs": np.array([[t["template_sum_probs"]] for t in templates], np.float32),  # [T, 1]
        }
    if zero_template_when_empty:
        return {
            "template_aatype": np.zeros((1, query_length, NUM_TEMPLATE_RESTYPES), np.float32),
            "template_all_atom_masks": np.zeros((1, query_length, rc.ATOM_TYPE_NUM), np.float32),
            "template_all_atom_positions": np.zeros((1, query_length, rc.ATOM_TYPE_NUM, 3), np.float32),
            "template_domain_names": np.array([""]),
            "template_sequence": np.array([""]),
            "template_sum_probs": np.array([0], np.float32),                                        # [1]
        }
    return {
        "template_aatype": np.array([], np.float32),
        "template_all_atom_masks": np.array([], np.float32),
        "template_all_atom_positions": np.array([], np.float32),
        "template_domain_names": np.array([], dtype="<U1"),
        "template_sequence": np.array([], dtype="<U1"),
        "template_sum_probs": np.array([], np.float32),
    }


def no_template_features(query_length: int, zero_template: bool = False) -> dict[str, np.ndarray]:
    """The template features of a query without templates (shape (0,) arrays, or one all-zero template)."""
    return stack_templates([], query_length, zero_template)
