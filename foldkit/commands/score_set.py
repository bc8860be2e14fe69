"""``foldkit score-set``: score every model of a CASP-style target set against its references."""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from foldkit.errors import InputError
from foldkit.eval.casp import plan_target_set, read_domains
from foldkit.eval.gdt_plot import plot_gdt_curves
from foldkit.eval.ranking import SUMMARY_COLUMNS, format_summary, summarize
from foldkit.eval.target_set import (CURVE_COLUMNS, SCORE_COLUMNS, ComplexModelFile, FileResult,
                                     complex_score_columns, interface_columns, plan_complex_set, read_rows, row_key,
                                     score_complex_file, score_model_file, write_rows_atomic)

SAVE_EVERY = 16   # rewrite scores.csv after this many finished files (resume granularity)
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score-set", help="score a CASP-style set of models against their natives",
        description="Walk --models recursively, pair each CASP-named model (T1024TS427_1, T1024TS427_1-D1; "
                    "TS files may hold several models) with natives/<unit>.pdb and score it. Writes scores.csv, "
                    "summary.csv (per group, CASP z-scores), gdt_curves.csv and gdt_curves.png next to -o. "
                    "Assembly models (H1106TS427_1 with natives/H1106.pdb, T1106TS427_1o with natives/T1106o.pdb) "
                    "are scored as complexes: their rows in scores.csv carry the complex scores too (chain mapping, "
                    "QS-score, DockQ, ICS/IPS, lDDT, multi-chain TM-score; gdt_ts/rmsd_ca are the oligomeric "
                    "GDT_TS/RMSD) and interfaces.csv has one row per native interface. "
                    "Pairs already in scores.csv are skipped (resume).")
    parser.add_argument("--models", required=True, type=Path, help="folder of model files (searched recursively)")
    parser.add_argument("--natives", required=True, type=Path, help="folder of reference files (<unit>.pdb)")
    parser.add_argument("--domains", type=Path, default=None,
                        help="domains.tsv (columns unit, residue_ranges): domains without a native file are cut "
                             "from the whole-target native")
    parser.add_argument("-o", "--output", required=True, type=Path, help="scores.csv to write")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: all cores)")
    parser.add_argument("--align", action="store_true", help="match residues by sequence alignment")
    parser.add_argument("--force", action="store_true", help="score even where residue names differ")
    parser.add_argument("--no-plot", action="store_true", help="do not draw gdt_curves.png")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for folder, flag in ((args.models, "--models"), (args.natives, "--natives")):
        if not folder.is_dir():
            raise InputError(f"{flag} is not a folder", path=str(folder))
    domains = read_domains(args.domains) if args.domains else None
    files, problems = plan_target_set(args.models, args.natives, domains)
    complex_files, complex_problems = plan_complex_set(args.models, args.natives)
    claimed = {f.path for f in complex_files} | {path for path, _ in complex_problems}
    files = [f for f in files if f.path not in claimed] + complex_files
    for path, message in [p for p in problems if p[0] not in claimed] + complex_problems:
        _warn(f"{path}: {message}")

    out = args.output
    old_rows = read_rows(out, SCORE_COLUMNS)
    old_curves = read_rows(_sibling(out, "gdt_curves.csv"), CURVE_COLUMNS)
    old_interfaces = read_rows(_sibling(out, "interfaces.csv"), interface_columns())
    done = frozenset(row_key(r) for r in old_rows)
    if done:
        print(f"resuming: {len(done)} pairs already in {out}", file=sys.stderr)

    rows, curves, interfaces = list(old_rows), list(old_curves), list(old_interfaces)
    assemblies = complex_files or any(r.get("qs_global") is not None for r in old_rows)
    columns = complex_score_columns() if assemblies else SCORE_COLUMNS     # monomer sets: unchanged columns
    n_new, n_failed, n_skipped = 0, 0, 0
    start = time.perf_counter()
    for count, result in enumerate(_results(files, done, args), start=1):
        for path, message in result.problems:
            _warn(f"{path}: {message}")
        n_failed += len(result.problems)
        n_new += len(result.rows)
        n_skipped += result.skipped
        rows.extend(result.rows)
        curves.extend(result.curves)
        interfaces.extend(result.interfaces)
        if result.rows and count % SAVE_EVERY == 0:
            _save(out, rows, interfaces, columns)
    elapsed = time.perf_counter() - start

    if not rows:
        _warn("nothing could be scored")
        return 1
    _save(out, rows, interfaces, columns)
    curve_keys = {row_key(r) for r in rows}
    curves = [c for c in {row_key(c): c for c in curves}.values() if row_key(c) in curve_keys]
    write_rows_atomic(_sibling(out, "gdt_curves.csv"), curves, CURVE_COLUMNS)
    summaries = summarize(rows)
    write_rows_atomic(_sibling(out, "summary.csv"), [s.as_row() for s in summaries], SUMMARY_COLUMNS)
    if not args.no_plot:
        plot_gdt_curves(curves, _sibling(out, "gdt_curves.png"))
    print(format_summary(summaries))
    rate = f", {n_new / elapsed:.1f} pairs/s" if n_new and elapsed > 0 else ""
    print(f"scored {n_new} new pairs ({n_skipped} already done, {n_failed} failed{rate}) -> {out}")
    return 0


def _save(out: Path, rows: list[dict], interfaces: list[dict], columns: tuple[str, ...]) -> None:
    """scores.csv (and, for assemblies, interfaces.csv: the rows of the pairs in scores.csv), atomically."""
    if columns != SCORE_COLUMNS:
        keys = {row_key(r) for r in rows}
        kept = {(row_key(i), i["native_chains"]): i for i in interfaces if row_key(i) in keys}
        write_rows_atomic(_sibling(out, "interfaces.csv"), list(kept.values()), interface_columns())
    write_rows_atomic(out, rows, columns)


def _results(files, done, args):
    """FileResults as they finish, with a progress bar; in-process for --jobs 1."""
    from tqdm import tqdm

    files = sorted(files, key=lambda f: -f.path.stat().st_size)   # big files first: better load balance
    bar = tqdm(total=len(files), unit="file", desc="scoring", file=sys.stderr, disable=not files)
    try:
        if args.jobs <= 1 or len(files) <= 1:
            for f in files:
                yield _safe(f, done, args.align, args.force)
                bar.update()
            return
        saved = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update({k: "1" for k in _THREAD_VARS})   # one BLAS thread per worker (spawned children read it)
        try:
            pool = ProcessPoolExecutor(max_workers=args.jobs, mp_context=get_context("spawn"))
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        with pool:
            futures = {pool.submit(_safe, f, _done_for(done, f), args.align, args.force): f for f in files}
            for future in as_completed(futures):
                yield future.result()
                bar.update()
    finally:
        bar.close()


def _done_for(done: frozenset, model_file) -> frozenset:
    """The resume keys that concern one file's target (keeps what is sent to workers small)."""
    return frozenset(k for k in done if k[0] == model_file.name.target)


def _safe(model_file, done, align, force) -> FileResult:
    """score_model_file (score_complex_file for assemblies), turning any unexpected failure into a per-file
    problem."""
    try:
        if isinstance(model_file, ComplexModelFile):
            return score_complex_file(model_file, done)
        return score_model_file(model_file, done, align=align, force=force)
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the set
        return FileResult(rows=[], curves=[], problems=[(str(model_file.path), f"{type(exc).__name__}: {exc}")])


def _sibling(path: Path, name: str) -> Path:
    return path.with_name(name)


def _warn(message: str) -> None:
    print(f"foldkit score-set: {message}", file=sys.stderr)
