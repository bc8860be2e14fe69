"""ICS and IPS (CASP15 interface contact / patch similarity), as OpenStructure 2.10 computes them.

Contacts are residue pairs of different chains with any heavy-atom pair < 5 A.
Model contacts are carried into the target through the chain mapping and the
chain alignments; a contact involving an unmapped chain or an unaligned residue
can never be shared but still counts.

* ICS = F1 of the contacts: precision = shared / model contacts, recall = shared / target contacts;
* IPS = Jaccard index of the interface residues (residues in >= 1 contact): shared / union,
  precision = shared / model interface residues, recall = shared / target interface residues;
* ``_trimmed``: model residues without target counterpart (including whole unmapped chains) are
  removed first, so extra model chains and tails no longer lower precision.

Per interface: the contacts of one target chain pair against those of its mapped model chain pair.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.eval.complex.contacts import ComplexContacts, ResiduePairs
from foldkit.eval.complex.residue_map import ResidueMap


@dataclasses.dataclass(frozen=True)
class Similarity:
    """One ICS or IPS value with its precision and recall (None where undefined)."""

    score: float | None          # None: neither structure has a contact
    precision: float | None
    recall: float | None


def _ratio(a: float, b: float) -> float:
    """a / b, 0 when b is 0 (OpenStructure's precision without model contacts)."""
    return a / b if b > 0 else 0.0


def _f1(shared: int, n_model: int, n_target: int) -> Similarity:
    precision, recall = _ratio(shared, n_model), _ratio(shared, n_target)
    if n_model + n_target == 0:
        return Similarity(None, None, None)
    score = 2.0 * shared / (n_model + n_target)        # = 2PR / (P + R)
    return Similarity(score, precision, recall)


def _jaccard(shared: int, n_model: int, n_target: int) -> Similarity:
    union = n_model + n_target - shared
    if union == 0:
        return Similarity(None, None, None)
    return Similarity(_ratio(shared, union), _ratio(shared, n_model), _ratio(shared, n_target))


def _mapped_keys(pairs: ResiduePairs, model_to_target: np.ndarray, n_target: int) -> tuple[np.ndarray, int]:
    """Target-space keys (lower index first) of model contacts whose residues both map; and the model count."""
    a, b = model_to_target[pairs.first], model_to_target[pairs.second]
    ok = (a >= 0) & (b >= 0)
    lo, hi = np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])
    return lo * n_target + hi, len(pairs)


@dataclasses.dataclass(frozen=True)
class InterfaceContactScores:
    target_chains: tuple[int, int]
    model_chains: tuple[int, int]
    ics: Similarity
    ips: Similarity


@dataclasses.dataclass(frozen=True)
class ContactScores:
    ics: Similarity
    ips: Similarity
    ics_trimmed: Similarity
    ips_trimmed: Similarity
    interfaces: tuple[InterfaceContactScores, ...]
    reference_interfaces: tuple[tuple[int, int], ...]
    model_interfaces: tuple[tuple[int, int], ...]


def _similarities(target_pairs: ResiduePairs, model_pairs: ResiduePairs, mapping: ResidueMap,
                  n_target: int) -> tuple[Similarity, Similarity]:
    target_keys = np.minimum(target_pairs.first, target_pairs.second) * n_target + np.maximum(
        target_pairs.first, target_pairs.second)
    model_keys, n_model = _mapped_keys(model_pairs, mapping.model_to_target, n_target)
    shared = int(np.isin(target_keys, model_keys).sum())
    ics = _f1(shared, n_model, len(target_keys))
    target_res = np.unique(np.concatenate([target_pairs.first, target_pairs.second]))
    model_res = np.unique(np.concatenate([model_pairs.first, model_pairs.second]))
    model_res_in_target = mapping.model_to_target[model_res]
    shared_res = int(np.isin(target_res, model_res_in_target[model_res_in_target >= 0]).sum())
    ips = _jaccard(shared_res, len(model_res), len(target_res))
    return ics, ips


def contact_scores(target_contacts: ComplexContacts, model_contacts: ComplexContacts,
                   mapping: ResidueMap) -> ContactScores:
    """Global, trimmed and per-interface ICS / IPS under ``mapping``."""
    tp, mp = target_contacts.contacts, model_contacts.contacts
    n_target = len(mapping.target_to_model)
    ics, ips = _similarities(tp, mp, mapping, n_target)
    has_target = mapping.model_to_target >= 0
    trimmed = mp.take(has_target[mp.first] & has_target[mp.second])
    ics_trimmed, ips_trimmed = _similarities(tp, trimmed, mapping, n_target)
    interfaces = []
    for t1, t2 in tp.chain_pairs():
        m1, m2 = mapping.chain_map[t1], mapping.chain_map[t2]
        if m1 < 0 or m2 < 0:
            continue
        i_ics, i_ips = _similarities(tp.between(t1, t2), mp.between(m1, m2), mapping, n_target)
        interfaces.append(InterfaceContactScores((t1, t2), (m1, m2), i_ics, i_ips))
    return ContactScores(ics=ics, ips=ips, ics_trimmed=ics_trimmed, ips_trimmed=ips_trimmed,
                         interfaces=tuple(interfaces), reference_interfaces=tuple(tp.chain_pairs()),
                         model_interfaces=tuple(mp.chain_pairs()))
