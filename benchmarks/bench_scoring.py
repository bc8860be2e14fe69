"""Scoring speed: foldkit's evaluator vs the TM-score program on every pair of ../shared/casp.

One core each: BLAS is limited to one thread before numpy is imported, and
TMscore is single-threaded. Pairs are those ``foldkit score-set`` makes from the
set (domain models vs their domain native, full-length models vs each domain
native and the whole native). Timed:

* foldkit, full: read both files + GDT_TS/HA + TM-score + lDDT (all-atom and CA) + RMSD;
* foldkit, TMscore's work: read both files + GDT + TM-score + CA RMSD (no lDDT);
* TMscore: one process per pair (as pipelines call it), TM-score + GDT + RMSD;
* ``foldkit score-set --jobs N`` wall time (all cores), pairs/second: on the set as it is (start-up
  dominates 90 pairs) and with every model file repeated ``--set-copies`` times (symlinks named as
  further models of the same group), closer to a real CASP set's hundreds of models per target.

Usage: python benchmarks/bench_scoring.py [--shared ../shared] [--jobs 2] [--repeat 1] [--set-copies 8]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from foldkit.eval.casp import MODEL_NAME, plan_target_set, structure_stem  # noqa: E402
from foldkit.eval.gdt import GDT_CUTOFFS, gdt_from_search  # noqa: E402
from foldkit.eval.rmsd import ca_rmsd  # noqa: E402
from foldkit.eval.scores import CA, match_residues, score_structures  # noqa: E402
from foldkit.eval.search import search  # noqa: E402
from foldkit.eval.superpose import PairMoments  # noqa: E402
from foldkit.eval.target_set import load_reference  # noqa: E402
from foldkit.eval.tm import tm_d0, tm_from_search, tm_search_radius  # noqa: E402
from foldkit.io.structure import read_structure  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def casp_pairs(shared: Path) -> list[tuple[Path, Path]]:
    """(model file, native file) for every pair score-set would score (whole natives, domain natives)."""
    files, _ = plan_target_set(shared / "casp" / "models", shared / "casp" / "natives")
    return [(f.path, ref.path) for f in files for ref in f.references if ref.residue_ranges is None]


def gdt_tm_rmsd(model, native) -> tuple[float, float, float]:
    """The work TMscore does: correspondence, GDT, TM-score, CA RMSD."""
    corr = match_residues(model, native)
    has_ca = (model.ca_mask[corr.model_index] > 0) & (native.ca_mask[corr.native_index] > 0)
    x = model.atom_positions[corr.model_index[has_ca], CA]
    y = native.atom_positions[corr.native_index[has_ca], CA]
    n_native = int((native.ca_mask > 0).sum())
    d0 = tm_d0(n_native)
    moments = PairMoments.of(x, y)
    outcome = search(moments, radii=GDT_CUTOFFS + (tm_search_radius(d0),), cutoffs=GDT_CUTOFFS, d0=d0)
    return (gdt_from_search(outcome, moments, n_native).gdt_ts, tm_from_search(outcome, moments, n_native, d0).tm_score,
            ca_rmsd(x, y))


def time_foldkit(pairs, full: bool, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for model_path, native_path in pairs:
            model, native = read_structure(model_path), read_structure(native_path)
            if full:
                score_structures(model, native)
            else:
                gdt_tm_rmsd(model, native)
        best = min(best, time.perf_counter() - start)
    return best


def time_tmscore(pairs, binary: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for model_path, native_path in pairs:
            subprocess.run([binary, str(model_path), str(native_path)], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def replicated_models(models: Path, dest: Path, copies: int) -> Path:
    """Symlink every model file ``copies`` times under ``dest`` as models 1+10k, 2+10k ... of its group."""
    for path in sorted(p for p in models.rglob("*") if p.is_file()):
        stem = structure_stem(path)
        name = MODEL_NAME.match(stem)
        if not name or name.group("model") is None:
            continue
        for k in range(copies):
            index = int(name.group("model")) + 10 * k
            target = dest / path.relative_to(models).parent / (stem[:name.start("model")] + str(index)
                                                                 + path.name[name.end("model"):])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path.resolve())
    return dest


def time_score_set(shared: Path, jobs: int, copies: int = 1) -> tuple[float, int]:
    """Wall time and pairs scored by ``foldkit score-set`` on the set (each model ``copies`` times)."""
    with tempfile.TemporaryDirectory() as tmp:
        models = shared / "casp" / "models"
        if copies > 1:
            models = replicated_models(models, Path(tmp) / "models", copies)
        out = Path(tmp) / "scores.csv"
        cmd = [sys.executable, "-m", "foldkit.cli", "score-set", "--models", str(models),
               "--natives", str(shared / "casp" / "natives"), "-o", str(out), "--jobs", str(jobs), "--no-plot"]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        n = len(out.read_text().splitlines()) - 1
    return wall, n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=1, help="timing repeats (best is reported)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N pairs")
    parser.add_argument("--set-copies", type=int, default=8,
                        help="also time score-set on the set with every model file repeated this many times")
    args = parser.parse_args()

    pairs = casp_pairs(args.shared)[: args.limit]
    load_reference.cache_clear()
    print(f"{len(pairs)} pairs from {args.shared / 'casp'}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    # warm-up (imports, Biopython/scipy first use) outside the timings
    gdt_tm_rmsd(read_structure(pairs[0][0]), read_structure(pairs[0][1]))

    t_read = time_foldkit_read(pairs)
    t_core = time_foldkit(pairs, full=False, repeat=args.repeat)
    t_full = time_foldkit(pairs, full=True, repeat=args.repeat)
    rows = [("foldkit read only (1 core)", t_read),
            ("foldkit GDT+TM+RMSD incl. reading (1 core)", t_core),
            ("foldkit all metrics incl. lDDT (1 core)", t_full)]
    binary = shutil.which("TMscore")
    t_tm = None
    if binary:
        t_tm = time_tmscore(pairs, binary, args.repeat)
        rows.append(("TMscore binary, one process per pair (1 core)", t_tm))
    else:
        print("note: TMscore not found (Debian package tm-align); binary comparison skipped")
    wall, n_set = time_score_set(args.shared, args.jobs)
    wall_big, n_big = time_score_set(args.shared, args.jobs, args.set_copies) if args.set_copies > 1 else (0.0, 0)

    print(f"{'what':<50} {'seconds':>9} {'pairs/s':>9}")
    for name, seconds in rows:
        print(f"{name:<50} {seconds:>9.2f} {len(pairs) / seconds:>9.1f}")
    print(f"{f'foldkit score-set --jobs {args.jobs} (wall, incl. start-up)':<50} {wall:>9.2f} {n_set / wall:>9.1f}")
    if n_big:
        label = f"score-set --jobs {args.jobs}, {n_big} pairs (x{args.set_copies}, wall)"
        print(f"{label:<50} {wall_big:>9.2f} {n_big / wall_big:>9.1f}")
    if t_tm:
        print(f"throughput ratio foldkit/TMscore: GDT+TM+RMSD {t_tm / t_core:.2f}x, all metrics {t_tm / t_full:.2f}x")
    return 0


def time_foldkit_read(pairs) -> float:
    start = time.perf_counter()
    for model_path, native_path in pairs:
        read_structure(model_path), read_structure(native_path)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
