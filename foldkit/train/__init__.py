"""Training pipeline for foldkit's AlphaFold2-architecture networks (optax, haiku).

Modules: ``config`` (TrainConfig from JSON), ``data`` (shards -> chains ->
crops -> features + targets, deterministic per (seed, example index)),
``ground_truth`` (frames, torsions, atom14, pseudo-beta from atom37),
``losses`` / ``violations`` (the published loss terms), ``loop`` (Trainer:
AdamW, warm-up + decay, clipping, accumulation, jitted steps), ``checkpoint``
(atomic npz, exact resume), ``metrics`` (JSONL + loss PNG), ``evaluate``
(predict a split, score with foldkit.eval, ideal-helix baseline).

Command line::

    foldkit train --config foldkit/train/configs/mini.json --data ../shared/train --out runs/mini
    foldkit train ... --out runs/mini --resume --steps 500     # continue, 500 more steps
    foldkit evaluate runs/mini --split valid --limit 100
"""
