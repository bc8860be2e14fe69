"""``ComplexScores`` as JSON (OpenStructure compare-structures' key names where the metric is the same),
as a short text table, and as flat CSV rows (one per pair, one per interface) for ``score-set``."""

from __future__ import annotations

import math

from foldkit.eval.complex.contact_scores import Similarity
from foldkit.eval.complex.scoring import ComplexScores

SCORE_DIGITS = 4
DISTANCE_DIGITS = 3


def _num(value, digits: int = SCORE_DIGITS):
    if value is None:
        return None
    value = float(value)
    return None if not math.isfinite(value) else round(value, digits)


def _pair(ids, pair) -> list[str]:
    return [ids[pair[0]], ids[pair[1]]]


def _sim(prefix: str, sim: Similarity) -> dict:
    return {prefix: _num(sim.score), f"{prefix}_precision": _num(sim.precision), f"{prefix}_recall": _num(sim.recall)}


def to_json(scores: ComplexScores) -> dict:
    """The JSON record of ``foldkit score --json`` for a complex."""
    trg, mdl = scores.target.chain_ids, scores.model.chain_ids
    qs_mapped = [i for i in scores.qs.interfaces if i.model_chains is not None]
    dockq = scores.dockq.interfaces
    contact_ifs = scores.contact.interfaces
    out = {
        "model": scores.model.name, "reference": scores.target.name,
        "model_chains": list(mdl), "reference_chains": list(trg),
        "chem_groups": [[trg[t] for t in g] for g in scores.groups.target],
        "chain_mapping": scores.chain_mapping(),
        "mapping_method": scores.mapping.method, "n_possible_mappings": scores.mapping.n_candidates,
        "qs_global": _num(scores.qs.qs_global), "qs_best": _num(scores.qs.qs_best),
        "qs_reference_interfaces": [_pair(trg, i.target_chains) for i in scores.qs.interfaces],
        "qs_model_interfaces": [_pair(mdl, p) for p in scores.qs.model_interfaces],
        "qs_interfaces": [_pair(trg, i.target_chains) for i in qs_mapped],
        "per_interface_qs_global": [_num(i.qs_global) for i in qs_mapped],
        "per_interface_qs_best": [_num(i.qs_best) for i in qs_mapped],
        "dockq_reference_interfaces": [_pair(trg, p) for p in scores.dockq.reference_interfaces],
        "dockq_interfaces": [_pair(trg, i.target_chains) for i in dockq],
        "dockq_model_interfaces": [_pair(mdl, i.model_chains) for i in dockq],
        "dockq": [_num(i.dockq) for i in dockq], "fnat": [_num(i.fnat) for i in dockq],
        "fnonnat": [_num(i.fnonnat) for i in dockq],
        "irmsd": [_num(i.irmsd, DISTANCE_DIGITS) for i in dockq],
        "lrmsd": [_num(i.lrmsd, DISTANCE_DIGITS) for i in dockq],
        "nnat": [i.n_native_contacts for i in dockq], "nmdl": [i.n_model_contacts for i in dockq],
        "dockq_receptor": [trg[i.receptor] for i in dockq],
        "dockq_ave": _num(scores.dockq.dockq_ave), "dockq_wave": _num(scores.dockq.dockq_wave),
        "dockq_ave_full": _num(scores.dockq.dockq_ave_full), "dockq_wave_full": _num(scores.dockq.dockq_wave_full),
        "lrmsd_dockq_receptor": [_num(i.lrmsd_dockq_receptor, DISTANCE_DIGITS) for i in dockq],
        "dockq_dockq_receptor": [_num(i.dockq_dockq_receptor) for i in dockq],
        "global_dockq": _num(scores.global_dockq.global_dockq),
        "global_dockq_chain_mapping": {trg[t]: mdl[m] for t, m in enumerate(scores.global_dockq.chain_map) if m >= 0},
        "contact_reference_interfaces": [_pair(trg, p) for p in scores.contact.reference_interfaces],
        "contact_model_interfaces": [_pair(mdl, p) for p in scores.contact.model_interfaces],
        **_sim("ics", scores.contact.ics), **_sim("ips", scores.contact.ips),
        "ics_trimmed": _num(scores.contact.ics_trimmed.score), "ips_trimmed": _num(scores.contact.ips_trimmed.score),
        "contact_interfaces": [_pair(trg, i.target_chains) for i in contact_ifs],
        "per_interface_ics": [_num(i.ics.score) for i in contact_ifs],
        "per_interface_ics_precision": [_num(i.ics.precision) for i in contact_ifs],
        "per_interface_ics_recall": [_num(i.ics.recall) for i in contact_ifs],
        "per_interface_ips": [_num(i.ips.score) for i in contact_ifs],
        "per_interface_ips_precision": [_num(i.ips.precision) for i in contact_ifs],
        "per_interface_ips_recall": [_num(i.ips.recall) for i in contact_ifs],
        "lddt": _num(scores.lddt.lddt.score), "ilddt": _num(scores.lddt.ilddt.score),
        "bb_lddt": _num(scores.lddt.bb_lddt.score),
        "rmsd": _num(scores.rigid.rmsd, DISTANCE_DIGITS), "oligo_gdtts": _num(scores.rigid.gdt_ts),
        "oligo_gdtha": _num(scores.rigid.gdt_ha),
        "rigid_chain_mapping": {trg[t]: mdl[m] for t, m in enumerate(scores.rigid.chain_map) if m >= 0},
        "tm_score": _num(scores.tm.tm_score), "tm_score_seqdep": _num(scores.tm.seqdep_tm),
        "tm_n_aligned": scores.tm.n_aligned,
        "per_chain": [_chain_json(c) for c in scores.chains],
        "messages": list(scores.messages),
    }
    return out


def _chain_json(chain) -> dict:
    s = chain.scores
    base = {"reference_chain": chain.target_chain, "model_chain": chain.model_chain, "n_aligned": chain.n_aligned}
    if s is None:
        return base
    return {**base, "gdt_ts": _num(s.gdt_ts), "gdt_ha": _num(s.gdt_ha), "tm_score": _num(s.tm_score),
            "lddt": _num(s.lddt), "lddt_ca": _num(s.lddt_ca), "rmsd_ca": _num(s.rmsd_ca, DISTANCE_DIGITS),
            "n_native": s.n_native, "n_common": s.n_common}


def _fmt(value, spec: str = ".4f") -> str:
    return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) else format(value, spec)


def format_table(scores: ComplexScores) -> str:
    """A readable summary: mapping, complex scores, then one line per interface and per chain."""
    trg, mdl = scores.target.chain_ids, scores.model.chain_ids
    rows = [
        ("model", scores.model.name), ("native", scores.target.name),
        ("chains (model / native)", f"{len(mdl)} / {len(trg)}"),
        ("chain mapping (native:model)", scores.mapping_text() or "none"),
        ("QS-score global / best", f"{_fmt(scores.qs.qs_global)} / {_fmt(scores.qs.qs_best)}"),
        ("DockQ ave / wave", f"{_fmt(scores.dockq.dockq_ave)} / {_fmt(scores.dockq.dockq_wave)}"),
        ("ICS / IPS", f"{_fmt(scores.contact.ics.score)} / {_fmt(scores.contact.ips.score)}"),
        ("lDDT / ilDDT (no stereochecks)", f"{_fmt(scores.lddt.lddt.score)} / {_fmt(scores.lddt.ilddt.score)}"),
        ("TM-score (by native)", f"{_fmt(scores.tm.tm_score)}  (sequence-dependent {_fmt(scores.tm.seqdep_tm)})"),
        ("RMSD CA [A] / oligo GDT_TS", f"{_fmt(scores.rigid.rmsd, '.3f')} / "
                                       f"{_fmt(None if scores.rigid.gdt_ts is None else 100 * scores.rigid.gdt_ts, '.2f')}"),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    if scores.dockq.interfaces:
        lines.append("")
        lines.append(f"{'interface':<10} {'model':<7} {'DockQ':>6} {'fnat':>6} {'iRMSD':>6} {'LRMSD':>6} "
                     f"{'QS':>6} {'ICS':>6} {'IPS':>6}")
        qs = {i.target_chains: i for i in scores.qs.interfaces}
        contact = {i.target_chains: i for i in scores.contact.interfaces}
        for i in scores.dockq.interfaces:
            q, c = qs.get(i.target_chains), contact.get(i.target_chains)
            lines.append(f"{'-'.join(_pair(trg, i.target_chains)):<10} {'-'.join(_pair(mdl, i.model_chains)):<7} "
                         f"{_fmt(i.dockq, '6.3f')} {_fmt(i.fnat, '6.3f')} {_fmt(i.irmsd, '6.2f')} "
                         f"{_fmt(i.lrmsd, '6.2f')} {_fmt(q.qs_global if q else None, '6.3f')} "
                         f"{_fmt(c.ics.score if c else None, '6.3f')} {_fmt(c.ips.score if c else None, '6.3f')}")
    if scores.chains:
        lines.append("")
        lines.append(f"{'chain':<10} {'GDT_TS':>7} {'TM':>6} {'lDDT':>6} {'RMSD':>6}")
        for c in scores.chains:
            s = c.scores
            label = f"{c.target_chain}:{c.model_chain}"
            lines.append(f"{label:<10} " + ("no residues in common" if s is None else
                         f"{_fmt(s.gdt_ts, '7.2f')} {_fmt(s.tm_score, '6.3f')} {_fmt(s.lddt, '6.3f')} "
                         f"{_fmt(s.rmsd_ca, '6.2f')}"))
    lines += [f"note: {m}" for m in scores.messages]
    return "\n".join(lines)


COMPLEX_COLUMNS = ("chain_mapping", "qs_global", "qs_best", "dockq_ave", "dockq_wave", "dockq_ave_full",
                   "dockq_wave_full", "global_dockq", "ics", "ips", "ics_trimmed", "ips_trimmed", "lddt", "ilddt",
                   "bb_lddt", "tm_score", "tm_score_seqdep", "rmsd", "oligo_gdtts", "oligo_gdtha", "n_model_chains",
                   "n_native_chains")
INTERFACE_COLUMNS = ("native_chains", "model_chains", "dockq", "fnat", "fnonnat", "irmsd", "lrmsd", "nnat", "nmdl",
                     "qs_global", "qs_best", "ics", "ips")


def _cell(value, digits: int = SCORE_DIGITS) -> str:
    value = _num(value, digits)
    return "" if value is None else f"{value:.{digits}f}"


def complex_row(scores: ComplexScores) -> dict:
    """One CSV row of complex-level scores (``score-set``)."""
    return {"chain_mapping": scores.mapping_text(), "qs_global": _cell(scores.qs.qs_global),
            "qs_best": _cell(scores.qs.qs_best), "dockq_ave": _cell(scores.dockq.dockq_ave),
            "dockq_wave": _cell(scores.dockq.dockq_wave), "dockq_ave_full": _cell(scores.dockq.dockq_ave_full),
            "dockq_wave_full": _cell(scores.dockq.dockq_wave_full),
            "global_dockq": _cell(scores.global_dockq.global_dockq), "ics": _cell(scores.contact.ics.score),
            "ips": _cell(scores.contact.ips.score), "ics_trimmed": _cell(scores.contact.ics_trimmed.score),
            "ips_trimmed": _cell(scores.contact.ips_trimmed.score), "lddt": _cell(scores.lddt.lddt.score),
            "ilddt": _cell(scores.lddt.ilddt.score), "bb_lddt": _cell(scores.lddt.bb_lddt.score),
            "tm_score": _cell(scores.tm.tm_score), "tm_score_seqdep": _cell(scores.tm.seqdep_tm),
            "rmsd": _cell(scores.rigid.rmsd, DISTANCE_DIGITS), "oligo_gdtts": _cell(scores.rigid.gdt_ts),
            "oligo_gdtha": _cell(scores.rigid.gdt_ha), "n_model_chains": str(len(scores.model.chains)),
            "n_native_chains": str(len(scores.target.chains))}


def interface_rows(scores: ComplexScores) -> list[dict]:
    """One CSV row per native interface (DockQ interfaces and chain pairs with QS contacts only); native chains
    in alphabetical order, model chains in the same order."""
    trg, mdl = scores.target.chain_ids, scores.model.chain_ids
    dockq = {i.target_chains: i for i in scores.dockq.interfaces}
    qs = {i.target_chains: i for i in scores.qs.interfaces}
    contact = {i.target_chains: i for i in scores.contact.interfaces}
    chain_map = scores.residues.chain_map
    rows = []
    for pair in set(scores.dockq.reference_interfaces) | set(qs):
        d, q, c = dockq.get(pair), qs.get(pair), contact.get(pair)
        ordered = sorted(pair, key=lambda t: trg[t])
        mapped = all(chain_map[t] >= 0 for t in ordered)
        rows.append({"native_chains": "-".join(trg[t] for t in ordered),
                     "model_chains": "-".join(mdl[chain_map[t]] for t in ordered) if mapped else "",
                     "dockq": _cell(d.dockq if d else None), "fnat": _cell(d.fnat if d else None),
                     "fnonnat": _cell(d.fnonnat if d else None),
                     "irmsd": _cell(d.irmsd if d else None, DISTANCE_DIGITS),
                     "lrmsd": _cell(d.lrmsd if d else None, DISTANCE_DIGITS),
                     "nnat": str(d.n_native_contacts) if d else "", "nmdl": str(d.n_model_contacts) if d else "",
                     "qs_global": _cell(q.qs_global if q else None), "qs_best": _cell(q.qs_best if q else None),
                     "ics": _cell(c.ics.score if c else None), "ips": _cell(c.ips.score if c else None)})
    return sorted(rows, key=lambda r: r["native_chains"])
