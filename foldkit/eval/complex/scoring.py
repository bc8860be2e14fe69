"""Score a model complex against its target complex: every metric in one call, one ``ComplexScores`` record."""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit.errors import FoldkitError
from foldkit.eval.complex.alignment import ChainGroups, group_chains
from foldkit.eval.complex.complex_lddt import ComplexLddt, ComplexLddtReference, chain_pairs, complex_lddt
from foldkit.eval.complex.contact_scores import ContactScores, contact_scores
from foldkit.eval.complex.contacts import ComplexContacts
from foldkit.eval.complex.dockq import DockqCalculator, DockqResult, GlobalDockq, dockq_scores, global_dockq
from foldkit.eval.complex.mapping import MappingChoice, choose_mapping, count_mappings
from foldkit.eval.complex.multimer_tm import MultimerTm, multimer_tm
from foldkit.eval.complex.qs import QsCalculator, QsResult, qs_scores
from foldkit.eval.complex.residue_map import PairAlignments, ResidueMap, residue_map
from foldkit.eval.complex.rigid import RigidScores, rigid_scores
from foldkit.eval.complex.structure import Complex
from foldkit.eval.scores import Scores, score_structures


@dataclasses.dataclass(frozen=True)
class TargetData:
    """The target side of complex scoring, reusable for many models (contacts and lDDT pairs)."""

    target: Complex
    contacts: ComplexContacts
    lddt: ComplexLddtReference

    @classmethod
    def of(cls, target: Complex) -> "TargetData":
        return cls(target=target, contacts=ComplexContacts.of(target), lddt=ComplexLddtReference.of(target))


@dataclasses.dataclass(frozen=True)
class ChainPairScores:
    """foldkit's single-chain scores of one mapped chain pair (residues paired by the chain alignment)."""

    target_chain: str
    model_chain: str
    n_aligned: int
    scores: Scores | None      # None when the pair has no residue with CA in common


@dataclasses.dataclass(frozen=True)
class ComplexScores:
    """All complex scores of one model/target pair (0-1 scores, distances in A; None: not defined)."""

    target: Complex
    model: Complex
    groups: ChainGroups
    mapping: MappingChoice
    residues: ResidueMap
    qs: QsResult
    dockq: DockqResult
    global_dockq: GlobalDockq
    contact: ContactScores
    lddt: ComplexLddt
    tm: MultimerTm
    rigid: RigidScores
    chains: tuple[ChainPairScores, ...]
    messages: tuple[str, ...]

    def chain_mapping(self) -> dict[str, str]:
        """target chain id -> model chain id of every mapped target chain."""
        return {self.target.chain_ids[t]: self.model.chain_ids[m] for t, m in self.residues.mapped_pairs}

    def mapping_text(self) -> str:
        """'A:B;B:A' (target:model, sorted by target chain), as the reference tables write it."""
        return ";".join(f"{t}:{m}" for t, m in sorted(self.chain_mapping().items()))


def _chain_scores(data: TargetData, model: Complex, alignments: PairAlignments, t: int, m: int) -> ChainPairScores:
    """foldkit's single-chain scores of target chain t and model chain m (lDDT's native side cut from the
    complex's)."""
    target = data.target
    aln = alignments.alignment(t, m)
    native, chain = target.chains[t], model.chains[m]
    if aln.n_aligned == 0:
        return ChainPairScores(native.chain_id, chain.chain_id, 0, None)
    renumbered = chain.select(aln.model_index).replace(
        residue_index=native.residue_index[aln.target_index],
        insertion_codes=tuple((native.insertion_codes or ("",) * len(native))[i] for i in aln.target_index))
    try:
        references = (chain_pairs(data.lddt.all_atom, target.chain_start, t),
                      chain_pairs(data.lddt.ca, target.chain_start, t))
        scores = score_structures(renumbered, native, force=True, model_name=f"{model.name} chain {chain.chain_id}",
                                  native_name=f"{target.name} chain {native.chain_id}", lddt_references=references)
    except FoldkitError:     # no residue with CA in common: reported as a message, the complex scores stand
        scores = None
    return ChainPairScores(native.chain_id, chain.chain_id, aln.n_aligned, scores)


def _messages(target: Complex, model: Complex, groups: ChainGroups, mapping: ResidueMap, dockq: DockqResult,
              qs: QsResult, chains: tuple[ChainPairScores, ...]) -> tuple[str, ...]:
    out = []
    for m in groups.unassigned_model:
        out.append(f"model chain {model.chain_ids[m]} matches no native chain by sequence (< 70% identity): "
                   "it counts against QS_global, ICS and IPS and is ignored by DockQ, lDDT and TM-score")
    mapped_models = set(mapping.model_chain_map)
    for group in groups.model:
        for m in group:
            if m not in mapped_models:
                out.append(f"model chain {model.chain_ids[m]} is an extra copy (no native chain left to map it to): "
                           "it counts against QS_global, ICS and IPS")
    missing = [target.chain_ids[t] for t, m in enumerate(mapping.chain_map) if m < 0]
    if missing:
        out.append(f"native chain(s) {', '.join(missing)} have no model chain: their residues count as missing")
    if not mapping.mapped_pairs:
        out.append("no model chain could be mapped to a native chain: every score is 0")
    if not dockq.reference_interfaces:
        out.append("the native has no interface (no inter-chain heavy-atom contact < 5 A): DockQ, ICS, IPS and "
                   "ilDDT are undefined")
    elif not dockq.interfaces:
        out.append("no native interface has both chains mapped: DockQ is undefined")
    if qs.qs_global is None:
        out.append("neither structure has CB-CB contacts < 12 A between chains: QS-score is undefined")
    for c in chains:
        if c.scores is None:
            out.append(f"native chain {c.target_chain} and model chain {c.model_chain} have no residues with CA "
                       "atoms in common: no per-chain scores")
    return tuple(out)


def score_complex(model: Complex, target: Complex | TargetData, chain_map: tuple[int, ...] | None = None,
                  per_chain: bool = True) -> ComplexScores:
    """Score ``model`` against ``target`` (a Complex or its precomputed :class:`TargetData`).

    chain_map: a forced mapping ([C_t] model chain index or -1 per target chain), else OpenStructure's
    choice (highest QS_global); per_chain: also run the single-chain scorer on every mapped chain pair.
    """
    data = target if isinstance(target, TargetData) else TargetData.of(target)
    target = data.target
    groups = group_chains(target, model)
    model_contacts = ComplexContacts.of(model)
    alignments = PairAlignments(target, model)
    qs_calc = QsCalculator(alignments, data.contacts, model_contacts)
    if chain_map is None:
        choice = choose_mapping(qs_calc, groups, target, model)
    else:
        choice = MappingChoice(tuple(chain_map), "forced", count_mappings(groups), None)
    mapping = residue_map(alignments, choice.chain_map)
    qs = qs_scores(qs_calc, mapping)
    if chain_map is not None:
        choice = dataclasses.replace(choice, qs_global=qs.qs_global)
    dockq_calc = DockqCalculator(alignments, data.contacts, model_contacts)
    dockq = dockq_scores(dockq_calc, mapping)
    global_dq = global_dockq(dockq_calc, groups, choice.chain_map) if chain_map is None else GlobalDockq(
        choice.chain_map, tuple(i for i in dockq.interfaces),
        float(np.mean([i.dockq_dockq_receptor for i in dockq.interfaces])) if dockq.interfaces else None)
    chains = tuple(_chain_scores(data, model, alignments, t, m) for t, m in mapping.mapped_pairs) if per_chain else ()
    return ComplexScores(
        target=target, model=model, groups=groups, mapping=choice, residues=mapping, qs=qs, dockq=dockq,
        global_dockq=global_dq, contact=contact_scores(data.contacts, model_contacts, mapping),
        lddt=complex_lddt(target, model, mapping, data.lddt), tm=multimer_tm(target, model, mapping),
        rigid=rigid_scores(target, model, groups, alignments, choice.chain_map, search_mapping=chain_map is None),
        chains=chains, messages=_messages(target, model, groups, mapping, dockq, qs, chains))
