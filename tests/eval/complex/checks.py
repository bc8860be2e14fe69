"""Every comparison of one scored pair with the reference tools, against the README's tolerances.

``check_pair`` returns the failures as text (empty: the pair passes) and records the deviations.
"""

from __future__ import annotations

import numpy as np

from foldkit.eval.complex.multimer_tm import multimer_tm
from foldkit.eval.complex.residue_map import PairAlignments, residue_map
from foldkit.eval.complex.structure import CA
from tests.eval.complex.reference_complex import (
    TOL_CHAIN_GDT, TOL_CHAIN_LDDT, TOL_CHAIN_TM, TOL_CONTACT, TOL_DOCKQ, TOL_FNONNAT, TOL_IRMSD, TOL_LDDT,
    TOL_LRMSD, TOL_OLIGO_GDT, TOL_QS, TOL_RMSD, TOL_TM, TOL_TM_SEQDEP, Deviations, ScoredComplex, chain_rows,
    interface_rows, is_heteromer, is_swapped_label, mapping_from_text, model_pair, pair_key, value)


class _Checker:
    def __init__(self, pair_id: str, deviations: Deviations):
        self.pair_id = pair_id
        self.deviations = deviations
        self.failures: list[str] = []

    def close(self, name: str, ours, reference, tol: float, where: str = "") -> None:
        """|ours - reference| <= tol (reference blank: nothing to compare; ours missing: a failure)."""
        ref = value(reference) if isinstance(reference, str) else reference
        if ref is None:
            return
        if ours is None or not np.isfinite(ours):
            self.failures.append(f"{self.pair_id} {where} {name}: no value, reference {ref}")
            return
        diff = self.deviations.add(name, ours, ref, f"{self.pair_id} {where}".strip())
        if abs(diff) > tol + 1e-9:
            self.failures.append(f"{self.pair_id} {where} {name}: {ours:.6f} vs {ref:.6f} (tolerance {tol})")

    def at_least(self, name: str, ours, reference, below: float, where: str = "") -> None:
        """A search maximum: ours >= reference - below (higher is a better optimum, recorded)."""
        ref = value(reference) if isinstance(reference, str) else reference
        if ref is None:
            return
        self.deviations.add(name, ours, ref, f"{self.pair_id} {where}".strip())
        if ours < ref - below - 1e-9:
            self.failures.append(f"{self.pair_id} {where} {name}: {ours:.6f} below {ref:.6f} by more than {below}")

    def equal(self, name: str, ours, reference, where: str = "") -> None:
        if str(ours) != str(reference):
            self.failures.append(f"{self.pair_id} {where} {name}: {ours} vs {reference}")


def _check_mapping(c: _Checker, pair: ScoredComplex) -> bool:
    """Mapping identical to OST 2.10's where the README demands it; returns whether it is identical."""
    scores, ref = pair.scores, pair.reference
    same = scores.mapping_text() == ref["chain_mapping_ost"]
    if not same and (is_heteromer(scores) or is_swapped_label(c.pair_id)):
        c.failures.append(f"{c.pair_id} chain mapping {scores.mapping_text()} vs OST {ref['chain_mapping_ost']}")
    return same


def _dockq_mapping_text(pair: ScoredComplex) -> str:
    s = pair.scores
    mapped = sorted(((s.target.chain_ids[t], s.model.chain_ids[m]) for t, m in enumerate(s.global_dockq.chain_map)
                     if m >= 0))
    return ";".join(f"{t}:{m}" for t, m in mapped)


def _check_complex_level(c: _Checker, pair: ScoredComplex) -> None:
    s, r = pair.scores, pair.reference
    c.close("qs_global", s.qs.qs_global, r["ost_qs_global"], TOL_QS)
    c.close("qs_best", s.qs.qs_best, r["ost_qs_best"], TOL_QS)
    for name, ours in (("dockq_ave", s.dockq.dockq_ave), ("dockq_wave", s.dockq.dockq_wave),
                       ("dockq_ave_full", s.dockq.dockq_ave_full), ("dockq_wave_full", s.dockq.dockq_wave_full)):
        c.close(name, ours, r[f"ost_{name}"], TOL_DOCKQ)
    c.equal("n_dockq_reference_interfaces", len(s.dockq.reference_interfaces), r["ost_n_dockq_ref_interfaces"])
    c.equal("n_dockq_mapped_interfaces", len(s.dockq.interfaces), r["ost_n_dockq_mapped_interfaces"])
    c.close("global_dockq", s.global_dockq.global_dockq, r["dockq_global"], TOL_DOCKQ)
    c.equal("dockq_n_interfaces", len(s.global_dockq.interfaces), r["dockq_n_interfaces"])
    if _dockq_mapping_text(pair) != r["chain_mapping_dockq"] and (is_heteromer(s) or is_swapped_label(c.pair_id)):
        c.failures.append(f"{c.pair_id} DockQ mapping {_dockq_mapping_text(pair)} vs {r['chain_mapping_dockq']}")
    for name, sim in (("ics", s.contact.ics), ("ips", s.contact.ips)):
        c.close(name, sim.score, r[f"ost_{name}"], TOL_CONTACT)
        c.close(f"{name}_precision", sim.precision, r[f"ost_{name}_precision"], TOL_CONTACT)
        c.close(f"{name}_recall", sim.recall, r[f"ost_{name}_recall"], TOL_CONTACT)
    c.close("ics_trimmed", s.contact.ics_trimmed.score, r["ost_ics_trimmed"], TOL_CONTACT)
    c.close("ips_trimmed", s.contact.ips_trimmed.score, r["ost_ips_trimmed"], TOL_CONTACT)
    c.close("lddt", s.lddt.lddt.score, r["ost_lddt_nostereo"], TOL_LDDT)
    c.close("ilddt", s.lddt.ilddt.score, r["ost_ilddt_nostereo"], TOL_LDDT)
    c.close("bb_lddt", s.lddt.bb_lddt.score, r["ost_bb_lddt"], TOL_LDDT)
    c.close("rmsd", s.rigid.rmsd, r["ost_rmsd"], TOL_RMSD)
    for name, ours, ref in (("oligo_gdtts", s.rigid.gdt_ts, r["ost_oligo_gdtts"]),
                            ("oligo_gdtha", s.rigid.gdt_ha, r["ost_oligo_gdtha"])):
        c.close(name, ours, ref, TOL_OLIGO_GDT)


def _check_tm(c: _Checker, pair: ScoredComplex) -> None:
    """-mm 1: never more than 0.01 below US-align; above it by more than 0.01 only with a superposition and a
    chain-respecting alignment that give that score when recomputed here. -TMscore 7: 0.005 on US-align's
    mapping."""
    s, r = pair.scores, pair.reference
    tm = s.tm
    ref = value(r["usalign_tm"])
    c.at_least("tm_score", tm.tm_score, ref, TOL_TM)
    if tm.tm_score > ref + TOL_TM:
        moved = s.model.positions[tm.model_residues, CA].astype(float) @ tm.rotation.T + tm.translation
        d2 = ((moved - s.target.positions[tm.target_residues, CA]) ** 2).sum(1)
        recomputed = float((1.0 / (1.0 + d2 / tm.d0 ** 2)).sum() / tm.n_target)
        chain_of = s.residues.model_chain_map
        paired = all(s.target.chain_of_residue[t] == chain_of[int(s.model.chain_of_residue[m])]
                     for m, t in zip(tm.model_residues, tm.target_residues))
        if abs(recomputed - tm.tm_score) > 1e-6 or not paired or len(set(tm.target_residues.tolist())) != tm.n_aligned:
            c.failures.append(f"{c.pair_id} tm_score {tm.tm_score:.5f} above US-align {ref} but not reproduced")
    seqdep = tm.seqdep_tm
    if s.mapping_text() != r["chain_mapping_usalign"]:
        alignments = PairAlignments(s.target, s.model)
        forced = residue_map(alignments, mapping_from_text(r["chain_mapping_usalign"], s))
        seqdep = multimer_tm(s.target, s.model, forced).seqdep_tm
    c.close("tm_score_seqdep", seqdep, r["usalign_seqdep_tm"], TOL_TM_SEQDEP)


def _check_interfaces(c: _Checker, pair: ScoredComplex, same_mapping: bool) -> None:
    """Per-interface rows; on a homomer tie with another mapping the rows are relabelled, so they are compared
    only under the same mapping (OST rows) or the same DockQ mapping (DockQ rows)."""
    s = pair.scores
    same_dockq_mapping = _dockq_mapping_text(pair) == pair.reference["chain_mapping_dockq"]
    ost_dockq = {pair_key(s, i.target_chains): i for i in s.dockq.interfaces}
    dq_dockq = {pair_key(s, i.target_chains): i for i in s.global_dockq.interfaces}
    qs = {pair_key(s, i.target_chains): i for i in s.qs.interfaces}
    contact = {pair_key(s, i.target_chains): i for i in s.contact.interfaces}
    ids = s.target.chain_ids
    for row in interface_rows().get(c.pair_id, []):
        key = (row["trg_chain1"], row["trg_chain2"])
        where = "-".join(key)
        if row["ost_dockq"] and same_mapping:
            i = ost_dockq.get(key)
            if i is None:
                c.failures.append(f"{c.pair_id} {where}: no DockQ interface")
            else:
                c.equal("ost model chains", model_pair(s, key, i.model_chains, i.target_chains),
                        (row["ost_mdl_chain1"], row["ost_mdl_chain2"]), where)
                c.equal("ost receptor", ids[i.receptor], row["ost_receptor"], where)
                c.close("dockq (OST)", i.dockq, row["ost_dockq"], TOL_DOCKQ, where)
                c.close("fnat (OST)", i.fnat, row["ost_fnat"], 1e-6, where)
                c.equal("nnat (OST)", i.n_native_contacts, row["ost_nnat"], where)
                c.equal("nmdl (OST)", i.n_model_contacts, row["ost_nmdl"], where)
                c.close("fnonnat (OST)", i.fnonnat, row["ost_fnonnat"], TOL_FNONNAT, where)
                c.close("irmsd (OST)", i.irmsd, row["ost_irmsd"], TOL_IRMSD, where)
                c.close("lrmsd (OST)", i.lrmsd, row["ost_lrmsd"], TOL_LRMSD, where)
        if row["dockq"] and same_dockq_mapping:
            i = dq_dockq.get(key)
            if i is None:
                c.failures.append(f"{c.pair_id} {where}: no interface under DockQ's mapping")
            else:
                c.equal("DockQ model chains", model_pair(s, key, i.model_chains, i.target_chains),
                        (row["dockq_mdl_chain1"], row["dockq_mdl_chain2"]), where)
                c.equal("DockQ receptor", ids[i.receptor_dockq], row["dockq_receptor"], where)
                c.close("dockq (DockQ)", i.dockq_dockq_receptor, row["dockq"], TOL_DOCKQ, where)
                c.close("fnat (DockQ)", i.fnat, row["dockq_fnat"], 1e-6, where)
                c.equal("nat_total (DockQ)", i.n_native_contacts, row["dockq_nat_total"], where)
                c.equal("nat_correct (DockQ)", i.n_native_kept, row["dockq_nat_correct"], where)
                c.close("fnonnat (DockQ)", i.fnonnat, row["dockq_fnonnat"], TOL_FNONNAT, where)
                c.close("irmsd (DockQ)", i.irmsd, row["dockq_irmsd"], TOL_IRMSD, where)
                c.close("lrmsd (DockQ)", i.lrmsd_dockq_receptor, row["dockq_lrmsd"], TOL_LRMSD, where)
        if row["ost_qs_global_if"] and same_mapping:
            q = qs.get(key)
            c.close("qs_global per interface", q.qs_global if q else None, row["ost_qs_global_if"], TOL_QS, where)
            c.close("qs_best per interface", q.qs_best if q else None, row["ost_qs_best_if"], TOL_QS, where)
        if row["ost_ics_if"] and same_mapping:
            i = contact.get(key)
            for name in ("ics", "ips"):
                sim = getattr(i, name) if i else None
                for part, attr in (("", "score"), ("_precision", "precision"), ("_recall", "recall")):
                    c.close(f"{name}{part} per interface", getattr(sim, attr) if sim else None,
                            row[f"ost_{name}{part}_if"], TOL_CONTACT, where)


def _check_chains(c: _Checker, pair: ScoredComplex) -> None:
    chains = {(x.target_chain, x.model_chain): x for x in pair.scores.chains}
    for row in chain_rows().get(c.pair_id, []):
        where = f"chain {row['trg_chain']}:{row['mdl_chain']}"
        chain = chains.get((row["trg_chain"], row["mdl_chain"]))
        if chain is None or chain.scores is None:
            c.failures.append(f"{c.pair_id} {where}: not scored")
            continue
        c.equal("n_aligned", chain.n_aligned, row["n_aligned"], where)
        c.close("chain tm", chain.scores.tm_score, row["tm"], TOL_CHAIN_TM, where)
        c.close("chain lddt", chain.scores.lddt, row["lddt"], TOL_CHAIN_LDDT, where)
        c.close("chain rmsd", chain.scores.rmsd_ca, row["rmsd"], TOL_RMSD, where)
        c.at_least("chain gdt_ts", chain.scores.gdt_ts, row["gdt_ts"], TOL_CHAIN_GDT, where)
        c.at_least("chain gdt_ha", chain.scores.gdt_ha, row["gdt_ha"], TOL_CHAIN_GDT, where)


def check_pair(pair: ScoredComplex, deviations: Deviations) -> tuple[list[str], bool]:
    """(failures, whether the chain mapping is identical to OpenStructure 2.10's)."""
    c = _Checker(pair.reference["pair_id"], deviations)
    same_mapping = _check_mapping(c, pair)
    _check_complex_level(c, pair)
    _check_tm(c, pair)
    _check_interfaces(c, pair, same_mapping)
    _check_chains(c, pair)
    return c.failures, same_mapping
