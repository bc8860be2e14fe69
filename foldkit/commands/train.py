"""``foldkit train --config CONFIG.json --data DIR --out RUN_DIR [--resume] [--steps N]``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from foldkit.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a network on the foldkit training set (resumable), or export a run",
        description="Train the network described by CONFIG.json on the chains in DIR (the layout of "
                    "shared/train: shard_index.tsv, structures/, msas/). RUN_DIR receives config.json, "
                    "metrics.jsonl, loss.png, checkpoint.npz and, when all steps are done, "
                    "params_<name>.npz + params_<name>.json (usable with `foldkit predict --params-dir`).")
    parser.add_argument("--config", help="training config JSON (see foldkit/train/configs/)")
    parser.add_argument("--data", help="training data folder")
    parser.add_argument("--out", required=True, help="run folder (created)")
    parser.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint.npz")
    parser.add_argument("--steps", type=int, default=None, metavar="N",
                        help="stop after N more steps in this call (the schedule still spans the config's steps)")
    parser.add_argument("--init-from", type=Path, default=None, metavar="PATH.npz",
                        help="start from these parameters (a run's checkpoint.npz or a parameter file from "
                             "--export / AlphaFold, same architecture) with a fresh optimizer at step 0")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--export", type=Path, default=None, metavar="PATH.npz",
                        help="only write the latest checkpoint of RUN_DIR as PATH.npz + PATH.json (the "
                             "parameter file + config sidecar `foldkit predict` reads); no training")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from foldkit.train.config import load_config
    from foldkit.train.loop import Trainer

    if args.export is not None:
        from foldkit.train.loop import export_run

        path, step = export_run(args.out, args.export)
        print(f"wrote {path} and {path.with_suffix('.json').name} (step {step})")
        return 0
    if args.config is None or args.data is None:
        raise InputError("--config and --data are required to train (only --export works without them)")
    config = load_config(args.config)
    data_dir, run_dir = Path(args.data), Path(args.out)
    if not data_dir.is_dir():
        raise InputError("training data folder not found", path=str(data_dir))
    if args.steps is not None and args.steps < 1:
        raise InputError("--steps must be at least 1")
    if args.init_from is not None and args.resume:
        raise InputError("--init-from starts a new run; it cannot be combined with --resume")
    if run_dir.joinpath("checkpoint.npz").is_file() and not args.resume:
        raise InputError("run folder already holds a checkpoint; pass --resume to continue it "
                         "or choose another --out", path=str(run_dir))
    run_dir.mkdir(parents=True, exist_ok=True)
    run_info_path = run_dir / "run.json"
    run_info = json.loads(run_info_path.read_text()) if args.resume and run_info_path.is_file() else {}
    run_info.update({"data": str(data_dir.resolve()), "config_file": str(Path(args.config).resolve())})
    if args.init_from is not None:
        run_info["init_from"] = str(args.init_from.resolve())
    run_info_path.write_text(json.dumps(run_info) + "\n")
    trainer = Trainer(config, data_dir, run_dir, init_from=args.init_from)
    state = trainer.run(resume=args.resume, max_steps=args.steps, progress=not args.quiet)
    print(f"{config.name}: step {state.step}/{config.steps}; run folder {run_dir}")
    return 0
