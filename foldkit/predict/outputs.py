"""Per-record output contents: structures with pLDDT, scores / PAE / confidence JSON, ranking.

File formats:

* ``scores_<pred>.json``: ``model``, ``seed``, ``msa_mode``, ``plddt``
  (per residue, 0-100), ``mean_plddt``, ``ptm`` and ``max_pae`` (null without
  a PAE head), ``ranking_confidence``, ``num_recycles``,
  ``recycle_distance_changes`` (Å), ``early_stopped``; for a complex also
  ``iptm`` and ``chains`` (``[{"chain_id", "length", "mean_plddt"}]``), and
  ``ranking_confidence`` is 0.8 ipTM + 0.2 pTM.
* ``pae_<pred>.json``: AlphaFold DB format,
  ``[{"predicted_aligned_error": [[...]], "max_predicted_aligned_error": x}]``
  (written only for models with a PAE head, i.e. _ptm models).
* ``confidence_<pred>.json``: AlphaFold DB style, ``residueNumber``,
  ``confidenceScore``, ``confidenceCategory`` (VH > 90 >= H > 70 >= L > 50 >= VL);
  a complex adds ``chainId`` per residue (residue numbers restart in every chain).
* ``ranking_debug.json``: ``ranking_metric`` ('ptm' or 'plddt'), ``ptm`` and
  ``plddts`` per prediction, ``order`` (best first). Complexes (multimer
  models) use AlphaFold-Multimer's layout: ``ranking_metric`` 'iptm+ptm',
  ``iptm+ptm`` (0.8 ipTM + 0.2 pTM), ``iptm``, ``ptm``, ``plddts``, ``order``.
* ``ranked_0.cif``: mmCIF whose B_iso is pLDDT, plus ModelCIF quality
  categories (``_ma_qa_metric``, ``_ma_qa_metric_global``,
  ``_ma_qa_metric_local``) with per-residue pLDDT (0-100), global pTM and,
  for a complex, ipTM; one ``_struct_asym`` per chain.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from gemmi import cif

from foldkit import constants as rc
from foldkit.io.mmcif_format import chains_to_mmcif_string
from foldkit.io.pdb_format import chains_to_pdb_string
from foldkit.protein import Protein

CONFIDENCE_CATEGORIES = (("VH", 90.0), ("H", 70.0), ("L", 50.0), ("VL", -np.inf))  # label, score above


@dataclasses.dataclass(frozen=True)
class Prediction:
    """One (model, seed) prediction of a record, with its confidences.

    A complex has its chains in ``chains`` (ids A, B, ... in input order,
    residues numbered from 1 in every chain); its ``protein`` then holds the
    residues of all chains in that order (for per-residue arrays; write files
    with :func:`pdb_text` / :func:`model_cif_string`, which keep the chains).
    """

    name: str                         # e.g. 'model_1_ptm_seed_0'
    model: str
    seed: int
    protein: Protein                  # b_factors = pLDDT
    plddt: np.ndarray                 # [L] 0-100
    pae: np.ndarray | None            # [L, L] Å
    max_pae: float | None
    ptm: float | None
    num_recycles: int
    distance_changes: tuple[float, ...]
    early_stopped: bool
    iptm: float | None = None         # interface pTM (multimer models)
    chains: tuple[Protein, ...] = ()  # a complex's chains; () for a single chain

    @property
    def mean_plddt(self) -> float:
        return float(np.mean(self.plddt))

    @property
    def structure_chains(self) -> tuple[Protein, ...]:
        """The chains to write: a complex's chains, else the one chain."""
        return self.chains or (self.protein,)

    @property
    def chain_lengths(self) -> list[int]:
        return [len(chain) for chain in self.structure_chains]

    @property
    def ranking_confidence(self) -> float:
        """AlphaFold's ranking confidence: 0.8 ipTM + 0.2 pTM (multimer), pTM (_ptm), else mean pLDDT."""
        return ranking_value(self)


def prediction_name(model: str, seed: int) -> str:
    """'model_1_ptm' + 0 -> 'model_1_ptm_seed_0'; names not starting with 'model_' get that prefix."""
    base = model if model.startswith("model_") else f"model_{model}"
    return f"{base}_seed_{seed}"


def protein_from_outputs(outputs: dict, aatype: np.ndarray, residue_index: np.ndarray,
                         plddt: np.ndarray) -> Protein:
    """The predicted chain with pLDDT as B-factor; residues numbered from 1."""
    positions = np.asarray(outputs["structure_module/final_atom_positions"], np.float32)  # [L, 37, 3]
    mask = np.asarray(outputs["structure_module/final_atom_mask"], np.float32)            # [L, 37]
    return Protein(aatype=np.asarray(aatype, np.int32), atom_positions=positions, atom_mask=mask,
                   residue_index=np.asarray(residue_index, np.int32) + 1, chain_id="A",
                   b_factors=np.asarray(plddt, np.float32)[:, None] * mask)


def make_prediction(name: str, model: str, seed: int, outputs: dict, aatype: np.ndarray,
                    residue_index: np.ndarray, num_recycles: int, distance_changes: tuple[float, ...],
                    early_stopped: bool) -> Prediction:
    plddt = np.asarray(outputs["confidence/plddt"], np.float32)
    pae = outputs.get("confidence/predicted_aligned_error")
    ptm = outputs.get("confidence/ptm")
    max_pae = outputs.get("confidence/max_predicted_aligned_error")
    return Prediction(name=name, model=model, seed=seed,
                      protein=protein_from_outputs(outputs, aatype, residue_index, plddt), plddt=plddt,
                      pae=None if pae is None else np.asarray(pae, np.float32),
                      max_pae=None if max_pae is None else float(max_pae),
                      ptm=None if ptm is None else float(ptm), num_recycles=num_recycles,
                      distance_changes=tuple(float(c) for c in distance_changes), early_stopped=early_stopped)


def confidence_summary(prediction: Prediction) -> str:
    """'mean pLDDT 71.2, pTM 0.634' (and ', ipTM 0.512' for a complex) for progress lines."""
    text = f"mean pLDDT {prediction.mean_plddt:.1f}"
    if prediction.ptm is not None:
        text += f", pTM {prediction.ptm:.3f}"
    if prediction.iptm is not None:
        text += f", ipTM {prediction.iptm:.3f}"
    return text


# --------------------------------------------------------------------------- JSON contents

def _round(values: np.ndarray, digits: int = 2) -> list:
    return np.round(np.asarray(values, np.float64), digits).tolist()


def scores_json(prediction: Prediction, msa_mode: str) -> dict:
    content = {
        "model": prediction.model,
        "seed": prediction.seed,
        "msa_mode": msa_mode,
        "plddt": _round(prediction.plddt),
        "mean_plddt": round(prediction.mean_plddt, 2),
        "ptm": None if prediction.ptm is None else round(prediction.ptm, 4),
        "max_pae": None if prediction.max_pae is None else round(prediction.max_pae, 2),
        "ranking_confidence": round(ranking_value(prediction), 4),
        "num_recycles": prediction.num_recycles,
        "recycle_distance_changes": [round(c, 4) for c in prediction.distance_changes],
        "early_stopped": prediction.early_stopped,
    }
    if prediction.iptm is not None or prediction.chains:
        start = 0
        chains = []
        for chain in prediction.structure_chains:
            chains.append({"chain_id": chain.chain_id, "length": len(chain),
                           "mean_plddt": round(float(np.mean(prediction.plddt[start:start + len(chain)])), 2)})
            start += len(chain)
        content["iptm"] = None if prediction.iptm is None else round(prediction.iptm, 4)
        content["chains"] = chains
    return content


def pae_json(prediction: Prediction) -> list[dict]:
    """AlphaFold DB PAE format (one-element list)."""
    if prediction.pae is None:
        raise ValueError(f"{prediction.name} has no PAE (model without a PAE head)")
    return [{"predicted_aligned_error": _round(prediction.pae),
             "max_predicted_aligned_error": round(float(prediction.max_pae), 2)}]


def confidence_category(score: float) -> str:
    return next(label for label, above in CONFIDENCE_CATEGORIES if score > above)


def confidence_json(prediction: Prediction) -> dict:
    """AlphaFold DB style per-residue confidence."""
    scores = _round(prediction.plddt)
    content = {"residueNumber": [int(r) for r in prediction.protein.residue_index],
               "confidenceScore": scores,
               "confidenceCategory": [confidence_category(s) for s in scores]}
    if prediction.chains:
        content["chainId"] = [chain.chain_id for chain in prediction.chains for _ in range(len(chain))]
    return content


# --------------------------------------------------------------------------- ranking

IPTM_WEIGHT, PTM_WEIGHT = 0.8, 0.2     # AlphaFold-Multimer's ranking confidence


def _own_metric(prediction: Prediction) -> str:
    if prediction.iptm is not None and prediction.ptm is not None:
        return "iptm+ptm"
    return "ptm" if prediction.ptm is not None else "plddt"


def ranking_metric(predictions: list[Prediction]) -> str:
    """'iptm+ptm' when every prediction has ipTM (multimer), else 'ptm' when every one has pTM, else 'plddt'."""
    metrics = {_own_metric(p) for p in predictions}
    if not predictions or "plddt" in metrics:
        return "plddt"
    return "iptm+ptm" if metrics == {"iptm+ptm"} else "ptm"


def ranking_value(prediction: Prediction, metric: str | None = None) -> float:
    metric = metric or _own_metric(prediction)
    if metric == "iptm+ptm":
        return IPTM_WEIGHT * float(prediction.iptm) + PTM_WEIGHT * float(prediction.ptm)
    return float(prediction.ptm) if metric == "ptm" else prediction.mean_plddt


def rank_predictions(predictions: list[Prediction]) -> list[Prediction]:
    """Best first: by 0.8 ipTM + 0.2 pTM (multimer), else pTM when available for all, else mean pLDDT
    (stable for ties)."""
    metric = ranking_metric(predictions)
    return sorted(predictions, key=lambda p: -ranking_value(p, metric))


def ranking_debug_json(predictions: list[Prediction]) -> dict:
    metric = ranking_metric(predictions)
    ranked = rank_predictions(predictions)
    content = {"ranking_metric": metric}
    if metric == "iptm+ptm":
        content["iptm+ptm"] = {p.name: round(ranking_value(p, metric), 6) for p in predictions}
        content["iptm"] = {p.name: round(float(p.iptm), 6) for p in predictions}
    content["plddts"] = {p.name: round(p.mean_plddt, 4) for p in predictions}
    if metric in ("ptm", "iptm+ptm"):
        content["ptm"] = {p.name: round(float(p.ptm), 6) for p in predictions}
    content["order"] = [p.name for p in ranked]
    return content


# --------------------------------------------------------------------------- mmCIF with ModelCIF QA

def _loop(category: str, tags: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["loop_"] + [f"{category}.{tag}" for tag in tags]
    lines += [" ".join(row) for row in rows]
    return lines + ["#"]


def pdb_text(prediction: Prediction) -> str:
    """PDB text of a prediction: every chain, each closed by TER, pLDDT in the B-factor column."""
    return chains_to_pdb_string(prediction.structure_chains)


def model_cif_string(prediction: Prediction, block_name: str) -> str:
    """mmCIF of a prediction: pLDDT in B_iso and as ModelCIF local/global QA metrics."""
    return chains_to_mmcif_string(prediction.structure_chains, block_name) + modelcif_qa_text(prediction)


def modelcif_qa_text(prediction: Prediction) -> str:
    """The ModelCIF categories (model list, pLDDT / pTM / ipTM QA metrics) that follow a prediction's
    atom_site loop."""
    quote = cif.quote
    metrics = [["1", "pLDDT", quote("Predicted lDDT-Ca (0-100)"), "pLDDT", "local"],
               ["2", "pLDDT", quote("mean predicted lDDT-Ca (0-100)"), "pLDDT", "global"]]
    global_rows = [["1", "1", "2", f"{prediction.mean_plddt:.2f}"]]
    if prediction.ptm is not None:
        metrics.append(["3", "pTM", quote("predicted TM-score"), "pTM", "global"])
        global_rows.append(["2", "1", "3", f"{prediction.ptm:.4f}"])
    if prediction.iptm is not None:
        metrics.append(["4", "ipTM", quote("interface predicted TM-score"), "ipTM", "global"])
        global_rows.append([str(len(global_rows) + 1), "1", "4", f"{prediction.iptm:.4f}"])
    lines = _loop("_ma_model_list", ["ordinal_id", "model_id", "model_group_id", "model_name",
                                     "model_group_name", "model_type"],
                  [["1", "1", "1", quote(prediction.name), quote("foldkit predictions"),
                    quote("Ab initio model")]])
    lines += _loop("_ma_qa_metric", ["id", "name", "description", "type", "mode"], metrics)
    lines += _loop("_ma_qa_metric_global", ["ordinal_id", "model_id", "metric_id", "metric_value"], global_rows)
    local_rows = []
    for chain in prediction.structure_chains:
        chain_id = chain.chain_id.strip() or "A"
        offset = len(local_rows)
        local_rows += [[str(offset + i + 1), "1", chain_id, str(i + 1), rc.resname_of(int(a)), "1",
                        f"{prediction.plddt[offset + i]:.2f}"] for i, a in enumerate(chain.aatype)]
    lines += _loop("_ma_qa_metric_local", ["ordinal_id", "model_id", "label_asym_id", "label_seq_id",
                                           "label_comp_id", "metric_id", "metric_value"], local_rows)
    return "\n".join(lines) + "\n"
