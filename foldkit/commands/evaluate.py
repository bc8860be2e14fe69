"""``foldkit evaluate RUN_DIR --split test [--limit N]``: predict a split and score it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foldkit.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="predict a data split with a training run's parameters and score it",
        description="Predict every chain of SPLIT with the latest parameters of RUN_DIR and score it "
                    "against the experimental chain (GDT_TS, TM-score, lDDT-CA), next to an ideal "
                    "alpha-helix baseline of the same length. Per-chain results go to "
                    "RUN_DIR/eval_<split>.jsonl; the summary is printed.")
    parser.add_argument("run_dir", help="training run folder (from `foldkit train`)")
    parser.add_argument("--split", default="test", help="split to predict (default: test)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N chains")
    parser.add_argument("--max-length", type=int, default=None, metavar="L", help="skip chains longer than L")
    parser.add_argument("--data", default=None, help="data folder (default: the one the run was trained on)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from foldkit.train.evaluate import evaluate_run

    run_dir = Path(args.run_dir)
    data_dir = args.data
    if data_dir is None:
        try:
            data_dir = json.loads((run_dir / "run.json").read_text())["data"]
        except (OSError, ValueError, KeyError):
            raise InputError("cannot tell which data folder the run used; pass --data DIR",
                             path=str(run_dir)) from None
    _, summary = evaluate_run(run_dir, data_dir, args.split, limit=args.limit, max_length=args.max_length)
    if args.json:
        print(json.dumps(summary))
    else:
        for key, value in summary.items():
            print(f"{key:<24} {value}")
    return 0
