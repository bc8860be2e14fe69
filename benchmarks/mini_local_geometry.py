"""Local backbone geometry of a trained model's predictions, against the native chains and an ideal helix.

    python benchmarks/mini_local_geometry.py --params P.npz [--config P.json] [--split valid]
        [--limit 12] [--max-length 150]

For each chain (single sequence, deterministic features) it measures the Cα
distances between residues i and i+k (k = 1..4) of the prediction, the native
and the ideal α-helix, and reads two things off them:

* whether the structure module builds plausible local geometry at all (a
  crumpled chain has Cα(i, i+3) well under the 5.0 Å of a helix);
* whether it tells helix from non-helix: a residue pair (i, i+3) counts as
  helical when its Cα distance is under 6 Å; the table gives the helical
  fraction of native and prediction and their agreement (Q2);

and, from the distogram head, how well the trunk alone separates helical from
non-helical (i, i+3) pairs (ROC AUC of its probability of a pseudo-β distance
under 6 Å; 0.5 = no information). A trunk that knows the local structure
(AUC well above 0.5) while the structure has none shows that the structure
module does not use what the trunk knows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.stats import mannwhitneyu

sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_mini import SHARED_DIR, Predictor, helix_baseline, load_model, model_outputs  # noqa: E402

from foldkit.train.data import Chain, load_chains  # noqa: E402

SEPARATIONS = (1, 2, 3, 4)
HELICAL_CA_I_I3 = 6.0          # Å: Cα(i, i+3) of a helix is ~5.0-5.5, of a strand ~10
CA_COLUMN = 1                  # atom37 index of CA


def pair_mask(mask: np.ndarray, residue_index: np.ndarray, k: int) -> np.ndarray:
    """[L-k] pairs (i, i+k) with both Cα present and consecutive numbering."""
    return mask[:-k] & mask[k:] & (residue_index[k:] - residue_index[:-k] == k)


def separated_distances(ca: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """Cα(i)-Cα(i+k) distances of the pairs in ``valid`` [L-k]."""
    return np.linalg.norm(ca[k:] - ca[:-k], axis=-1)[valid]


def close_probability(logits: np.ndarray, edges: np.ndarray, cutoff: float) -> np.ndarray:
    """P(pseudo-β distance < cutoff) per residue pair from distogram logits [L, L, bins]."""
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    below = int(np.searchsorted(edges, cutoff))      # bins 0..below end at or under edges[below]
    return probs[..., : below + 1].sum(-1)


def measure(predictor: Predictor, chains: Sequence[Chain]) -> dict:
    """Pooled distances per separation (prediction, native, helix) and the trunk's (i, i+3) scores.

    Every pair is measured on the native's observed, consecutively numbered
    residues, so the three structures' distances line up pair for pair.
    """
    pooled = {name: {k: [] for k in SEPARATIONS} for name in ("prediction", "native", "helix")}
    trunk_scores = []
    for chain in chains:
        _, outputs = model_outputs(predictor.runner, predictor.model, chain.sequence, chain.residue_index)
        positions37, mask37 = chain.atom37()
        traces = {"prediction": np.asarray(outputs["structure_module/final_atom_positions"])[:, CA_COLUMN],
                  "native": positions37[:, CA_COLUMN],                                   # [L, 3]
                  "helix": helix_baseline(chain.aatype, chain.residue_index).atom_positions[:, CA_COLUMN]}
        observed = mask37[:, CA_COLUMN] > 0                                              # [L]
        for k in SEPARATIONS:
            valid = pair_mask(observed, chain.residue_index, k)
            for name, ca in traces.items():
                pooled[name][k].append(separated_distances(ca, valid, k))
        close = close_probability(np.asarray(outputs["distogram/logits"]), np.asarray(outputs["distogram/bin_edges"]),
                                  HELICAL_CA_I_I3)
        trunk_scores.append(np.diagonal(close, offset=3)[pair_mask(observed, chain.residue_index, 3)])
    distances = {name: {k: np.concatenate(v) for k, v in by_k.items()} for name, by_k in pooled.items()}
    return {"distances": distances, "trunk_close": np.concatenate(trunk_scores)}


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positives, negatives = scores[labels], scores[~labels]
    if len(positives) == 0 or len(negatives) == 0:
        return float("nan")
    return float(mannwhitneyu(positives, negatives).statistic / (len(positives) * len(negatives)))


def report(measured: dict, n_chains: int) -> list[str]:
    lines = [f"{n_chains} chains, {len(measured['trunk_close'])} (i, i+3) pairs", "",
             "| Cα(i, i+k) median [5%, 95%] Å | " + " | ".join(f"k={k}" for k in SEPARATIONS) + " |",
             "|---|" + "---|" * len(SEPARATIONS)]
    for name, by_k in measured["distances"].items():
        cells = [f"{np.median(d):.2f} [{np.percentile(d, 5):.2f}, {np.percentile(d, 95):.2f}]" for d in by_k.values()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    native = measured["distances"]["native"][3] < HELICAL_CA_I_I3
    predicted = measured["distances"]["prediction"][3] < HELICAL_CA_I_I3
    lines += ["",
              f"helical (i, i+3) pairs (Cα < {HELICAL_CA_I_I3:.0f} Å): native {native.mean():.2f}, "
              f"prediction {predicted.mean():.2f}; agreement (Q2) {np.mean(native == predicted):.3f} "
              f"(always the native majority class: {max(native.mean(), 1 - native.mean()):.3f})",
              f"trunk (distogram) ROC AUC for helical (i, i+3) pairs: "
              f"{roc_auc(measured['trunk_close'], native):.3f}"]
    return lines


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", required=True, type=Path)
    parser.add_argument("--config", type=Path, help="model or training config JSON (default: sidecar .json)")
    parser.add_argument("--data", type=Path, default=SHARED_DIR / "train")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--limit", type=int, default=12, help="first N chains of the split")
    parser.add_argument("--max-length", type=int, default=150)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    predictor = Predictor(load_model(args.params, args.config))
    chains = load_chains(args.data, args.split, max_length=args.max_length)[: args.limit]
    print(f"# local geometry: {args.params} on {args.split}")
    print("\n".join(report(measure(predictor, chains), len(chains))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
