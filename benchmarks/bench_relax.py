"""Amber relax speed: foldkit relax vs AlphaFold v2.3.2's relax on the reference structures.

foldkit is timed here, in this process: ``foldkit.relax.relax_chains`` on each
``shared/reference/relax/inputs/<case>.pdb`` (read, pdbfixer clean-up,
minimisation rounds, violation checks, unrestrained energy; no file writing,
no interpreter start-up, after one warm-up relaxation that loads OpenMM and
the force field), wall time and CPU time of the process (all OpenMM
threads), with ``--threads`` CPU threads (AlphaFold's runs used OpenMM's
default, 2 on this machine). AlphaFold2's times are the ones recorded in
``reference.csv`` (``wall_s``/``cpu_s`` with OpenMM 7.7.0, ``omm8_wall_s``/
``omm8_cpu_s`` with OpenMM 8.6.1), measured on a machine of this kind while it
was loaded (1-minute load 4.5-7.6), so wall times are inflated by an unknown
factor on both sides; the load average at each of our starts is printed too.
AlphaFold's own relax code cannot be rerun here (foldkit is a clean-room
reimplementation and does not ship or fetch it).

Usage: python benchmarks/bench_relax.py [--shared ../shared] [--cases a,b] [--threads 2]
                                        [--figure benchmarks/relax_times.png]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from foldkit.io.structure import read_chains
from foldkit.relax import RelaxSettings, relax_chains


def _float(value: str) -> float:
    return float(value) if value not in ("", None) else float("nan")


def measure(path: Path, threads: int) -> dict:
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    result = relax_chains(read_chains(path), RelaxSettings(cpu_threads=threads), str(path))
    return {"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "load": load,
            "rounds": result.metrics.outer_iterations, "violations": result.metrics.remaining_violations_count,
            "minimise_s": sum(i.seconds for i in result.metrics.iterations)}


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for axis, kind, title in ((axes[0], "wall", "wall time"), (axes[1], "cpu", "CPU time (all threads)")):
        for label, key, marker in (("foldkit relax (OpenMM 8.6.1)", f"fk_{kind}", "o"),
                                   ("AlphaFold v2.3.2 relax, OpenMM 7.7.0", f"af_{kind}", "s"),
                                   ("AlphaFold v2.3.2 relax, OpenMM 8.6.1", f"af8_{kind}", "^")):
            points = sorted((r["residues"], r[key]) for r in rows if np.isfinite(r[key]) and r[key] > 0)
            if points:
                axis.plot(*zip(*points), marker=marker, linestyle="-", label=label)
        axis.set_xlabel("residues")
        axis.set_yscale("log")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("seconds per structure")
    axes[0].legend(fontsize=8)
    fig.suptitle("Amber relax of the reference structures (2-core machine; AlphaFold's runs under load 4.5-7.6)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("FOLDKIT_SHARED", "../shared")))
    parser.add_argument("--cases", default="", help="comma-separated case names (default: every case)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--figure", type=Path, default=Path("benchmarks/relax_times.png"))
    args = parser.parse_args()
    folder = args.shared / "reference" / "relax"
    with open(folder / "reference.csv") as handle:
        reference = list(csv.DictReader(handle))
    wanted = {c.strip() for c in args.cases.split(",") if c.strip()}
    import openmm

    print(f"# foldkit relax vs AlphaFold v2.3.2 relax; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, OpenMM {openmm.__version__}, "
          f"{args.threads} threads, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", flush=True)
    start = time.perf_counter()
    measure(folder / "inputs" / "af_model_output.pdb", args.threads)      # imports, force field, platform
    print(f"warm-up (once per process: imports, AMBER99SB parsing, first context), not counted below: "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    header = ("case", "res", "foldkit wall s", "foldkit CPU s", "load", "AF2 7.7 wall s (CPU)",
              "AF2 8.6 wall s (CPU)", "AF2 7.7 / foldkit wall", "AF2 7.7 / foldkit CPU", "AF2 8.6 / foldkit CPU",
              "rounds foldkit / AF2", "violations left foldkit / AF2")
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    rows = []
    for ref in sorted(reference, key=lambda r: int(r["n_residues"])):
        if wanted and ref["case"] not in wanted:
            continue
        ours = measure(folder / ref["input_file"], args.threads)
        row = {"case": ref["case"], "residues": int(ref["n_residues"]), "fk_wall": ours["wall"],
               "fk_cpu": ours["cpu"], "af_wall": _float(ref["wall_s"]), "af_cpu": _float(ref["cpu_s"]),
               "af8_wall": _float(ref["omm8_wall_s"]), "af8_cpu": _float(ref["omm8_cpu_s"])}
        rows.append(row)
        ok = ref["status"] == "ok"

        def ratio(a: float, b: float) -> str:
            return f"{a / b:.2f}" if ok and a > 0 else "–"

        af_rounds = ref["af_outer_iterations"] or "–"
        af_viol = ref["af_viol_residues_after"] or ("error" if not ok else "–")
        print(f"| {ref['case']} | {row['residues']} | {ours['wall']:.1f} | {ours['cpu']:.1f} | {ours['load']:.1f} | "
              + (f"{row['af_wall']:.1f} ({row['af_cpu']:.1f}) | {row['af8_wall']:.1f} ({row['af8_cpu']:.1f}) | "
                 if ok else "error | error | ")
              + f"{ratio(row['af_wall'], ours['wall'])} | {ratio(row['af_cpu'], ours['cpu'])} | "
              f"{ratio(row['af8_cpu'], ours['cpu'])} | {ours['rounds']} / {af_rounds} | "
              f"{ours['violations']} / {af_viol} |", flush=True)
    done = [r for r in rows if np.isfinite(r["af_wall"]) and r["af_wall"] > 0]
    if done:
        totals = {k: sum(r[k] for r in done) for k in ("fk_wall", "fk_cpu", "af_wall", "af_cpu", "af8_wall", "af8_cpu")}
        print(f"\nTotals over the {len(done)} cases AlphaFold relaxed: foldkit {totals['fk_wall']:.0f} s wall, "
              f"{totals['fk_cpu']:.0f} s CPU; AlphaFold (OpenMM 7.7.0) {totals['af_wall']:.0f} s wall, "
              f"{totals['af_cpu']:.0f} s CPU; AlphaFold (OpenMM 8.6.1) {totals['af8_wall']:.0f} s wall, "
              f"{totals['af8_cpu']:.0f} s CPU")
    if rows and args.figure:
        figure(rows, args.figure)
        print(f"figure: {args.figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
