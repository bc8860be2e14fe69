"""Complex scoring speed: foldkit vs DockQ 2.1.3 and OpenStructure's compare-structures, same pairs and cores.

Pairs: the 40 development pairs of ../shared/scoring/complex. Every tool runs the pairs with ``--jobs``
workers at a time (default: all cores), one run after the other in this process, so the load is the same.
Timed (wall clock over the whole set, pairs/second):

* foldkit library, warm (worker processes that have loaded the compiled kernels; each pair reads both files
  and shares nothing with the others):
  - all metrics (``score_complex``: mapping, QS, DockQ, ICS/IPS, lDDT/ilDDT, TM-scores, rigid, per chain);
  - DockQ's work (read, chain grouping, contacts, DockQ 2's own mapping search, DockQ per interface);
  - OpenStructure 2.3.1's legacy work (read, QS mapping, QS-score, lDDT over the complex);
* ``foldkit score --json`` as a process per pair (Python start, imports and loading the compiled kernels
  from numba's cache included), all metrics;
* ``foldkit score-set --jobs N`` on the same pairs laid out as a CASP assembly set (models named
  ``H1001TS001_1`` / ``T1002TS001_1o`` next to natives ``H1001.pdb`` / ``T1002o.pdb``), all metrics, wall
  clock including worker start-up;
* ``DockQ M T --n_cpu 1 --json`` per pair (``--allowed_mismatches 1`` where the reference used it);
* OpenStructure 2.3.1 (Debian ``openstructure``) legacy ``compare-structures --qs-score --lddt`` per pair,
  started as the reference README describes (the package's ``ost_startup.py`` run by ``/usr/bin/python3``).

Values are checked on the way: foldkit's GlobalDockQ and per-interface DockQ (DockQ's receptor convention)
against DockQ's output (0.005), foldkit's QS_global and complex lDDT against OpenStructure 2.3.1's legacy
numbers where both map the chains alike (legacy QS differs by up to 0.01, legacy lDDT by up to 0.007 and
much more with extra model chains: README). The numba compilation (once per installation) is timed
separately in a fresh process with an empty cache.

DockQ 2.1.3 needs numpy < 2 (its compiled ``operations`` module is built for numpy 1.x) and is not a
foldkit dependency: install it into its own environment, e.g.
``python -m venv /tmp/dockq-venv && /tmp/dockq-venv/bin/pip install DockQ==2.1.3 numpy==1.26.4 biopython==1.88``
and pass ``--dockq /tmp/dockq-venv/bin/DockQ``. OpenStructure: ``apt-get install -y openstructure clustalw``.

Usage: python benchmarks/bench_complex_scoring.py [--shared ../shared] [--jobs N] [--limit N]
       [--dockq PATH] [--ost-python /usr/bin/python3] [--skip-dockq] [--skip-ost]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor  # noqa: E402
from multiprocessing import get_context  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
OST_STARTUP = "/usr/lib/python3/dist-packages/ost/ost_startup.py"
OST_ACTION = "/usr/bin/ost-compare-structures"
OST_CHEMLIB = "/var/cache/openstructure/compounds.chemlib"
TOL_DOCKQ = 0.005
TOL_LEGACY_QS = 0.01
TOL_LEGACY_LDDT = 0.007


# ----------------------------------------------------------------------------------------------- pairs

def read_pairs(shared: Path, limit: int | None) -> list[dict]:
    folder = shared / "scoring" / "complex"
    with open(folder / "reference_scores.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    pairs = [{"id": r["pair_id"], "model": str(folder / r["model_file"]), "target": str(folder / r["target_file"]),
              "dockq_options": r["dockq_options"].split()} for r in rows]
    return pairs[:limit] if limit else pairs


# ----------------------------------------------------------------------------------------- foldkit work

def _foldkit_all(pair: dict) -> dict:
    from foldkit.eval.complex.scoring import score_complex
    from foldkit.eval.complex.structure import read_complex

    s = score_complex(read_complex(pair["model"]), read_complex(pair["target"]))
    return {"qs_global": s.qs.qs_global, "lddt": s.lddt.lddt.score, "global_dockq": s.global_dockq.global_dockq,
            "mapping": s.chain_mapping()}


def _foldkit_dockq_work(pair: dict) -> dict:
    """What DockQ computes: its mapping (maximum summed DockQ) and DockQ per interface."""
    from foldkit.eval.complex.alignment import group_chains
    from foldkit.eval.complex.contacts import ComplexContacts
    from foldkit.eval.complex.dockq import DockqCalculator, global_dockq
    from foldkit.eval.complex.mapping import MAX_ENUMERATED, choose_mapping, count_mappings
    from foldkit.eval.complex.qs import QsCalculator
    from foldkit.eval.complex.residue_map import PairAlignments
    from foldkit.eval.complex.structure import read_complex

    model, target = read_complex(pair["model"]), read_complex(pair["target"])
    groups = group_chains(target, model)
    alignments = PairAlignments(target, model)
    target_contacts, model_contacts = ComplexContacts.of(target), ComplexContacts.of(model)
    calc = DockqCalculator(alignments, target_contacts, model_contacts)
    fallback = tuple(-1 for _ in target.chains)
    if count_mappings(groups) > MAX_ENUMERATED:       # too many to enumerate: start from the QS mapping
        fallback = choose_mapping(QsCalculator(alignments, target_contacts, model_contacts), groups, target,
                                  model).chain_map
    result = global_dockq(calc, groups, fallback)
    ids_t, ids_m = target.chain_ids, model.chain_ids
    return {"global_dockq": result.global_dockq,
            "interfaces": {"".join(sorted((ids_m[i.model_chains[0]], ids_m[i.model_chains[1]]))):
                           i.dockq_dockq_receptor for i in result.interfaces},
            "mapping": {ids_t[t]: ids_m[m] for t, m in enumerate(result.chain_map) if m >= 0}}


def _foldkit_legacy_ost_work(pair: dict) -> dict:
    """What OpenStructure 2.3.1's legacy action computes here: a QS chain mapping, QS-score, lDDT of the complex."""
    from foldkit.eval.complex.alignment import group_chains
    from foldkit.eval.complex.complex_lddt import complex_lddt
    from foldkit.eval.complex.contacts import ComplexContacts
    from foldkit.eval.complex.mapping import choose_mapping
    from foldkit.eval.complex.qs import QsCalculator, qs_scores
    from foldkit.eval.complex.residue_map import PairAlignments, residue_map
    from foldkit.eval.complex.structure import read_complex

    model, target = read_complex(pair["model"]), read_complex(pair["target"])
    groups = group_chains(target, model)
    alignments = PairAlignments(target, model)
    calc = QsCalculator(alignments, ComplexContacts.of(target), ComplexContacts.of(model))
    mapping = residue_map(alignments, choose_mapping(calc, groups, target, model).chain_map)
    qs = qs_scores(calc, mapping)
    lddt = complex_lddt(target, model, mapping)
    return {"qs_global": qs.qs_global, "lddt": lddt.lddt.score,
            "mapping": {target.chain_ids[t]: model.chain_ids[m] for t, m in mapping.mapped_pairs}}


WORK = {"all": _foldkit_all, "dockq": _foldkit_dockq_work, "legacy_ost": _foldkit_legacy_ost_work}


def _warm_worker(pair: dict) -> None:
    for work in WORK.values():
        work(pair)


def _run_work(args: tuple[str, dict]) -> tuple[str, dict]:
    name, pair = args
    return pair["id"], WORK[name](pair)


def time_foldkit_library(pairs: list[dict], jobs: int, warm_pair: dict) -> dict[str, tuple[float, dict]]:
    """{work: (wall seconds, {pair id: values})} with ``jobs`` warm worker processes."""
    out = {}
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"), initializer=_warm_worker,
                             initargs=(warm_pair,)) as pool:
        list(pool.map(_run_work, [("all", warm_pair)] * jobs))                  # every worker started and warm
        for name in WORK:
            start = time.perf_counter()
            values = dict(pool.map(_run_work, [(name, p) for p in pairs]))
            out[name] = (time.perf_counter() - start, values)
    return out


# ------------------------------------------------------------------------------------- subprocess tools

def _run_processes(commands: list[tuple[str, list[str], dict | None]], jobs: int) -> tuple[float, dict]:
    """Run (pair id, argv, env) commands ``jobs`` at a time; (wall seconds, {pair id: (rc, seconds)})."""
    def one(item):
        pair_id, argv, env = item
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"  {pair_id}: {argv[0]} exited {proc.returncode}: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return pair_id, (proc.returncode, time.perf_counter() - start, proc.stdout)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = dict(pool.map(one, commands))
    return time.perf_counter() - start, results


def time_foldkit_cli(pairs: list[dict], jobs: int) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    commands = [(p["id"], [sys.executable, "-m", "foldkit.cli", "score", p["model"], p["target"], "--json"], env)
                for p in pairs]
    wall, results = _run_processes(commands, jobs)
    return wall, {k: json.loads(v[2]) for k, v in results.items() if v[0] == 0}


def time_foldkit_score_set(pairs: list[dict], jobs: int, workdir: Path) -> tuple[float, int]:
    """Wall seconds of ``foldkit score-set`` over the pairs as an assembly set, and the rows it wrote."""
    from foldkit.eval.complex.alignment import group_chains
    from foldkit.eval.complex.structure import read_complex

    models, natives = workdir / "set_models", workdir / "set_natives"
    models.mkdir()
    natives.mkdir()
    units: dict[str, str] = {}
    for k, pair in enumerate(pairs):
        if pair["target"] not in units:
            target = read_complex(pair["target"])
            homomer = any(len(g) > 1 for g in group_chains(target, target).target)
            units[pair["target"]] = f"T{1001 + len(units)}o" if homomer else f"H{1001 + len(units)}"
            (natives / f"{units[pair['target']]}.pdb").symlink_to(pair["target"])
        unit = units[pair["target"]]
        name = f"{unit.rstrip('o')}TS{k + 1:03d}_1" + ("o" if unit.endswith("o") else "")
        (models / f"{name}.pdb").symlink_to(pair["model"])
    out = workdir / "set_out" / "scores.csv"
    argv = [sys.executable, "-m", "foldkit.cli", "score-set", "--models", str(models), "--natives", str(natives),
            "-o", str(out), "--jobs", str(jobs), "--no-plot"]
    start = time.perf_counter()
    subprocess.run(argv, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, check=True)
    wall = time.perf_counter() - start
    return wall, len(out.read_text().splitlines()) - 1


def time_dockq(pairs: list[dict], jobs: int, dockq: str, workdir: Path) -> tuple[float, dict]:
    commands = [(p["id"], [dockq, p["model"], p["target"], *p["dockq_options"], "--json",
                           str(workdir / f"{p['id']}.dockq.json")], None) for p in pairs]
    wall, results = _run_processes(commands, jobs)
    values = {}
    for pair_id, (rc, _, _) in results.items():
        if rc == 0:
            data = json.loads((workdir / f"{pair_id}.dockq.json").read_text())
            values[pair_id] = {"global_dockq": data["GlobalDockQ"],
                               "interfaces": {"".join(sorted((r["chain1"], r["chain2"]))): r["DockQ"]
                                              for r in data["best_result"].values()}}
    return wall, values


def time_ost_legacy(pairs: list[dict], jobs: int, python: str, workdir: Path) -> tuple[float, dict]:
    env = {**os.environ, "DNG_ROOT": "/usr", "OST_EXEC_DIR": "/usr/bin"}
    for key in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(key, None)
    commands = [(p["id"], [python, "-c", f"exec(open('{OST_STARTUP}').read())", OST_ACTION, "-m", p["model"],
                           "-r", p["target"], "-o", str(workdir / f"{p['id']}.ost.json"), "--qs-score", "--lddt",
                           "-cl", OST_CHEMLIB], env) for p in pairs]
    wall, results = _run_processes(commands, jobs)
    values = {}
    for pair_id, (rc, _, _) in results.items():
        if rc != 0:
            continue
        data = json.loads((workdir / f"{pair_id}.ost.json").read_text())["result"]
        result = next(iter(next(iter(data.values())).values()))
        values[pair_id] = {"qs_global": result["qs_score"]["global_score"],
                           "lddt": result["lddt"]["oligo_lddt"]["global_score"],
                           "mapping": result["info"]["mapping"]["chain_mapping"]}
    return wall, values


def time_compilation(pair: dict) -> tuple[float, float]:
    """(seconds with an empty numba cache, seconds with the cache filled): one pair in a fresh process."""
    code = ("import time; t = time.perf_counter(); from foldkit.eval.complex.scoring import score_complex; "
            "from foldkit.eval.complex.structure import read_complex; "
            f"score_complex(read_complex({pair['model']!r}), read_complex({pair['target']!r})); "
            "print(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "PYTHONPATH": str(REPO), "NUMBA_CACHE_DIR": cache}
        cold = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1])
        warm = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                    check=True).stdout.split()[-1])
    return cold, warm


# ------------------------------------------------------------------------------------------ value checks

def check_dockq(ours: dict, theirs: dict) -> tuple[int, int, list[str]]:
    """(pairs agreeing, pairs compared, problems): GlobalDockQ and per-interface DockQ within 0.005."""
    agree, problems = 0, []
    for pair_id, ref in theirs.items():
        mine = ours.get(pair_id)
        if mine is None:
            continue
        bad = abs((mine["global_dockq"] or 0.0) - ref["global_dockq"]) > TOL_DOCKQ
        for key, value in ref["interfaces"].items():
            if key in mine["interfaces"] and abs(mine["interfaces"][key] - value) > TOL_DOCKQ:
                bad = True
        if bad:
            problems.append(f"{pair_id}: GlobalDockQ foldkit {mine['global_dockq']:.4f} "
                            f"DockQ {ref['global_dockq']:.4f}")
        agree += not bad
    return agree, len(theirs), problems


def check_legacy_ost(ours: dict, theirs: dict) -> tuple[int, int, int, list[str]]:
    """(QS within 0.01, lDDT within 0.007, pairs compared on the same mapping, problems)."""
    qs_ok = lddt_ok = compared = 0
    problems = []
    for pair_id, ref in theirs.items():
        mine = ours.get(pair_id)
        if mine is None or mine["mapping"] != ref["mapping"]:
            continue
        compared += 1
        qs_ok += abs(mine["qs_global"] - ref["qs_global"]) <= TOL_LEGACY_QS
        if abs(mine["lddt"] - ref["lddt"]) <= TOL_LEGACY_LDDT:
            lddt_ok += 1
        else:
            problems.append(f"{pair_id}: lDDT foldkit {mine['lddt']:.4f} legacy OST {ref['lddt']:.4f}")
    return qs_ok, lddt_ok, compared, problems


# ------------------------------------------------------------------------------------------------- main

def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=None, help="first N pairs only")
    parser.add_argument("--dockq", default=shutil.which("DockQ") or "DockQ", help="DockQ 2.1.3 executable")
    parser.add_argument("--ost-python", default="/usr/bin/python3", help="Python of the Debian openstructure package")
    parser.add_argument("--skip-dockq", action="store_true")
    parser.add_argument("--skip-ost", action="store_true")
    args = parser.parse_args()

    pairs = read_pairs(args.shared, args.limit)
    warm_pair = next(p for p in pairs if p["id"].startswith("1AY7")) if any(
        p["id"].startswith("1AY7") for p in pairs) else pairs[0]
    load = os.getloadavg()
    print(f"{len(pairs)} pairs, {args.jobs} jobs; {_cpu_name()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; 1-min load at start {load[0]:.2f}")
    cold, warm = time_compilation(warm_pair)
    print(f"numba compilation: one pair in a fresh process {cold:.1f} s with an empty cache, {warm:.1f} s cached")

    library = time_foldkit_library(pairs, args.jobs, warm_pair)
    rows = [(f"foldkit library, {name}", wall, len(values)) for name, (wall, values) in
            (("all metrics", library["all"]), ("DockQ's work", library["dockq"]),
             ("OST 2.3.1's work (QS + lDDT)", library["legacy_ost"]))]
    cli_wall, cli_values = time_foldkit_cli(pairs, args.jobs)
    rows.append(("foldkit score --json, process per pair (all metrics)", cli_wall, len(cli_values)))
    checks = []
    with tempfile.TemporaryDirectory() as workdir:
        set_wall, set_rows = time_foldkit_score_set(pairs, args.jobs, Path(workdir))
        rows.append((f"foldkit score-set --jobs {args.jobs} (all metrics, incl. start-up)", set_wall, set_rows))
        if not args.skip_dockq:
            dq_wall, dq_values = time_dockq(pairs, args.jobs, args.dockq, Path(workdir))
            rows.append(("DockQ 2.1.3 --n_cpu 1, process per pair", dq_wall, len(dq_values)))
            agree, total, problems = check_dockq(library["dockq"][1], dq_values)
            checks.append(f"DockQ: GlobalDockQ and every interface's DockQ within {TOL_DOCKQ} in {agree}/{total} pairs")
            checks += [f"  {p}" for p in problems]
        if not args.skip_ost:
            ost_wall, ost_values = time_ost_legacy(pairs, args.jobs, args.ost_python, Path(workdir))
            rows.append(("OpenStructure 2.3.1 compare-structures --qs-score --lddt", ost_wall, len(ost_values)))
            qs_ok, lddt_ok, compared, problems = check_legacy_ost(library["legacy_ost"][1], ost_values)
            checks.append(f"OpenStructure 2.3.1 (legacy): same chain mapping in {compared}/{len(ost_values)} pairs; "
                          f"on those QS_global within {TOL_LEGACY_QS} in {qs_ok}, lDDT within {TOL_LEGACY_LDDT} "
                          f"in {lddt_ok}")
            checks += [f"  {p}" for p in problems]

    print("\n| tool | pairs | wall s | pairs/s |\n| --- | --- | --- | --- |")
    rate = {}
    for name, wall, n in rows:
        rate[name] = n / wall if wall > 0 else float("nan")
        print(f"| {name} | {n} | {wall:.2f} | {rate[name]:.2f} |")
    print()

    def ratio(ours: str, theirs: str) -> None:
        if ours in rate and theirs in rate:
            print(f"{ours} / {theirs}: {rate[ours] / rate[theirs]:.1f}x")

    for theirs, same_work in (("DockQ 2.1.3 --n_cpu 1, process per pair", "foldkit library, DockQ's work"),
                              ("OpenStructure 2.3.1 compare-structures --qs-score --lddt",
                               "foldkit library, OST 2.3.1's work (QS + lDDT)")):
        for ours in (same_work, "foldkit library, all metrics",
                     f"foldkit score-set --jobs {args.jobs} (all metrics, incl. start-up)",
                     "foldkit score --json, process per pair (all metrics)"):
            ratio(ours, theirs)
    print("\n" + "\n".join(checks))
    print(f"1-min load at the end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
