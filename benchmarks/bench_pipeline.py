"""AlphaFold2 input pipeline benchmark: foldkit vs AlphaFold2's own tool invocations, same binaries and flags.

For each monomer case of ``shared/reference/af2/pipeline`` (miniature AlphaFold2 data directory):

* AlphaFold2 side: the programs AlphaFold2 v2.3 runs, with the exact commands of the case's
  ``tool_settings`` (jackhmmer ``--cpu 8``, HHblits ``-cpu 4``, HHsearch at its default), one after
  the other in AlphaFold2's order (UniRef90, MGnify, HHsearch on PDB70, BFD + UniRef30 or small BFD,
  Kalign realignments), plus AlphaFold2's Stockholm truncation and HHsearch query conversion. This is a
  lower bound of AlphaFold2's input pipeline: its Python parsing and template featurization are not
  included (AlphaFold2's code is not available here).
* foldkit side: each search alone (pyhmmer jackhmmer in-process, the HH-suite binaries through
  foldkit's wrapper, template featurization), then the whole input pipeline
  (``Af2InputPipeline.run``: concurrent searches on ``--cpu`` cores, templates, raw features) into a
  fresh folder, whose features are compared with AlphaFold2's ``raw_features.npz``.

Median of ``--repeats`` runs after one warm-up (file cache). Prints a table with ratios (AlphaFold2 /
foldkit) and the machine's load average, then the critical paths: the longest chain of dependent steps
(UniRef90 -> PDB70 -> templates, BFD/small BFD, MGnify) with AlphaFold2's tool times, which bounds what
running AlphaFold2's own calls concurrently could reach (sequential / longest chain), and the same chain
in foldkit's concurrent run (its per-step times from ``Af2Inputs.timings``).

``--scaled-data N`` runs the same comparison on a data directory built in a temporary folder whose
UniRef90, MGnify and small BFD hold the miniature's sequences plus ``N`` from ``shared/train/seqdb``
(:mod:`scaled_data`); no AlphaFold2 features exist for it, so foldkit's features are compared with
foldkit's featurization (``--use-precomputed-msas``) of the AlphaFold2 side's own tool outputs of the same
round, and the search outputs that differ are named.

    python benchmarks/bench_pipeline.py [--cpu 2] [--repeats 3] [--cases mono_full_templates ...]
    python benchmarks/bench_pipeline.py --cpu 2 --repeats 3 --scaled-data 600000
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from foldkit.io.fasta import read_fasta  # noqa: E402
from foldkit.msa import hhsuite  # noqa: E402
from foldkit.msa.af2_pipeline import Af2InputPipeline, Af2Settings  # noqa: E402
from foldkit.msa.databases import resolve_databases  # noqa: E402
from foldkit.msa.jackhmmer import QueryRecord, jackhmmer_stockholm, truncate_stockholm  # noqa: E402
from foldkit.msa.databases import LAYOUT  # noqa: E402
from foldkit.templates.query_msa import hhsearch_query_a3m  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaled_data import build_scaled_data_dir  # noqa: E402

SHARED = Path(os.environ.get("FOLDKIT_SHARED", REPO.parent / "shared"))
PIPELINE = SHARED / "reference" / "af2" / "pipeline"
CASES = ("mono_full_templates", "mono_reduced_datefilter", "mono_no_templates")


def fill(template: str, values: dict[str, str]) -> list[str]:
    """A case.json command with its <placeholders> replaced."""
    return [values.get(word, word) for word in template.split()]


class Af2Tools:
    """AlphaFold2's tool invocations for one case, timed step by step; the search outputs are written to
    ``work/msas`` with AlphaFold2's names and row limits (UniRef90 10,000, MGnify 501, as its
    ``run_msa_tool`` writes them)."""

    def __init__(self, case: str, work: Path, data_dir: Path):
        data = json.loads((PIPELINE / case / "case.json").read_text())
        self.case, self.data, self.work, self.data_dir = case, data, work, data_dir
        self.settings = data["tool_settings"]
        self.databases = resolve_databases(data_dir, data["db_preset"])
        self.query = PIPELINE / case / "input.fasta"
        self.msas = work / "msas"

    def _jackhmmer(self, database: Path, name: str, limit: int | None) -> str:
        out = self.work / f"{name}.tmp.sto"
        command = fill(self.settings["jackhmmer (alphafold.data.tools.jackhmmer defaults)"]["command"],
                       {"<out.sto>": str(out), "<query.fasta>": str(self.query), "<db>": str(database)})
        subprocess.run(command, check=True, capture_output=True)
        text = out.read_text()
        text = truncate_stockholm(text, limit) if limit else text
        (self.msas / f"{name}_hits.sto").write_text(text)
        return text

    def run(self) -> dict[str, float]:
        times, work, dbs = {}, self.work, self.databases
        self.msas.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        uniref90 = self._jackhmmer(dbs.uniref90, "uniref90", 10000)
        times["uniref90"] = time.perf_counter() - start
        t0 = time.perf_counter()
        self._jackhmmer(dbs.mgnify, "mgnify", 501)
        times["mgnify"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        (work / "query.a3m").write_text(hhsearch_query_a3m(uniref90))
        command = fill(self.settings["hhsearch (monomer templates)"]["command"],
                       {"<query.a3m>": str(work / "query.a3m"), "<out.hhr>": str(self.msas / "pdb_hits.hhr"),
                        "<pdb70>": str(dbs.pdb70)})
        subprocess.run(command, check=True, capture_output=True)
        times["pdb70"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if dbs.db_preset == "full_dbs":
            command = fill(self.settings["hhblits (full_dbs)"]["command"],
                           {"<query.fasta>": str(self.query), "<out.a3m>": str(self.msas / "bfd_uniref_hits.a3m"),
                            "<bfd>": str(dbs.bfd), "<uniref30>": str(dbs.uniref30)})
            subprocess.run(command, check=True, capture_output=True)
            times["bfd_uniref"] = time.perf_counter() - t0
        else:
            self._jackhmmer(dbs.small_bfd, "small_bfd", None)
            times["small_bfd"] = time.perf_counter() - t0
        # the Kalign calls this HHsearch output needs (found with foldkit's featurizer, not timed)
        pairs = kalign_pairs_of(self.case, (self.msas / "pdb_hits.hhr").read_text(), self.data_dir)
        t0 = time.perf_counter()
        for index, (old, new) in enumerate(pairs):
            (work / f"k{index}.fasta").write_text(f">1\n{old}\n>2\n{new}\n")
            command = fill(self.settings["kalign"]["command"], {"<in.fasta>": str(work / f"k{index}.fasta"),
                                                               "<out>": str(work / f"k{index}.out")})
            subprocess.run(command, check=True, capture_output=True)
        times["templates"] = time.perf_counter() - t0
        times["pipeline"] = sum(times.values())
        return times


def foldkit_settings(case: str, cpus: int, data_dir: Path, precomputed: bool = False) -> Af2Settings:
    data = json.loads((PIPELINE / case / "case.json").read_text())
    return Af2Settings(resolve_databases(data_dir, data["db_preset"]),
                       max_template_date=datetime.date.fromisoformat(data["max_template_date"]), cpus=cpus,
                       use_precomputed_msas=precomputed)


def query_record(case: str) -> QueryRecord:
    query = read_fasta(PIPELINE / case / "input.fasta")[0]
    return QueryRecord(query.id, query.description, query.sequence)


def foldkit_steps(case: str, cpus: int, work: Path, data_dir: Path) -> dict[str, float]:
    """Each foldkit search alone (sequentially), then template featurization of the stored outputs."""
    settings = foldkit_settings(case, cpus, data_dir).check()
    dbs, query, times = settings.databases, query_record(case), {}
    t0 = time.perf_counter()
    uniref90 = truncate_stockholm(jackhmmer_stockholm(query, dbs.uniref90, settings.jackhmmer, cpus).stockholm, 10000)
    times["uniref90"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    jackhmmer_stockholm(query, dbs.mgnify, settings.jackhmmer, cpus)
    times["mgnify"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    hhr = hhsuite.hhsearch(settings.hhsearch_binary, hhsearch_query_a3m(uniref90), dbs.pdb70, cpus=cpus).text
    times["pdb70"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    if dbs.db_preset == "full_dbs":
        fasta = f">{query.name} {query.description}\n{query.sequence}\n"
        hhsuite.hhblits(settings.hhblits_binary, fasta, dbs.hhblits_databases, cpus=cpus)
        times["bfd_uniref"] = time.perf_counter() - t0
    else:
        jackhmmer_stockholm(query, dbs.small_bfd, settings.jackhmmer, cpus)
        times["small_bfd"] = time.perf_counter() - t0
    pipeline = Af2InputPipeline(settings, log=lambda _: None)
    t0 = time.perf_counter()
    pipeline._templates(query, hhr, work / "pdb_hits.hhr")
    times["templates"] = time.perf_counter() - t0
    return times


def foldkit_pipeline(case: str, cpus: int, work: Path, data_dir: Path,
                     reference: dict[str, np.ndarray]) -> tuple[float, bool, dict[str, float]]:
    """The whole input pipeline into an empty folder; (seconds, features equal to ``reference``, the
    longest chain of its steps in this run)."""
    pipeline = Af2InputPipeline(foldkit_settings(case, cpus, data_dir), log=lambda _: None)
    t0 = time.perf_counter()
    result = pipeline.run(query_record(case), work / "msas")
    seconds = time.perf_counter() - t0
    steps = {key.removeprefix("search_"): value for key, value in result.timings.items()}
    differing = differing_features(result.raw_features, reference)
    if differing:
        print(f"# {case}: features differ: {', '.join(differing)}", flush=True)
    return seconds, not differing, {"chain": longest_chain(steps)}


def longest_chain(steps: dict[str, float]) -> float:
    """Seconds of the longest chain of dependent steps: UniRef90 -> PDB70 -> templates, BFD + UniRef30 or
    the small BFD, MGnify (what no scheduler can overlap)."""
    template_chain = sum(steps.get(key, 0.0) for key in ("uniref90", "pdb70", "templates"))
    return max(template_chain, steps.get("bfd_uniref", 0.0), steps.get("small_bfd", 0.0), steps.get("mgnify", 0.0))


def stored_features(case: str) -> dict[str, np.ndarray]:
    """AlphaFold2's own raw features of a case (``raw_features.npz``, miniature data directory)."""
    with np.load(PIPELINE / case / "raw_features.npz") as reference:
        return {name: reference[name] for name in reference.files}


def featurized_af2_outputs(case: str, msas: Path, data_dir: Path) -> dict[str, np.ndarray]:
    """foldkit's raw features of AlphaFold2's tool outputs in ``msas`` (``--use-precomputed-msas``: the
    stored-output path the golden runner proves equal to AlphaFold2's DataPipeline; no search runs)."""
    pipeline = Af2InputPipeline(foldkit_settings(case, 1, data_dir, precomputed=True), log=lambda _: None)
    result = pipeline.run(query_record(case), msas)
    if result.searched:
        raise RuntimeError(f"{case}: searches ran although AlphaFold2's outputs were stored: {result.searched}")
    return result.raw_features


def differing_features(raw: dict, reference: dict[str, np.ndarray]) -> list[str]:
    """Reference features that ``raw`` lacks or that differ: dtype and shape, template coordinates beyond
    1e-4 Å, any other value (integers, strings, other floats must be equal); [] when all are equal."""
    differing = []
    for name, theirs in reference.items():
        ours = raw.get(name)
        if ours is None or ours.dtype != theirs.dtype or ours.shape != theirs.shape:
            differing.append(name)
        elif name == "template_all_atom_positions":
            if not np.allclose(ours, theirs, atol=1e-4, rtol=0):
                differing.append(name)
        elif not np.array_equal(ours, theirs):
            differing.append(name)
    return differing


def kalign_pairs_of(case: str, hhr: str, data_dir: Path) -> list[tuple[str, str]]:
    """The (hit sequence, mmCIF sequence) pairs AlphaFold2 realigns with Kalign for these HHsearch hits."""
    from foldkit.templates import realign

    pairs, original = [], realign.kalign_align

    def recording(sequences, *args, **kwargs):
        pairs.append((sequences[0], sequences[1]))
        return original(sequences, *args, **kwargs)

    realign.kalign_align = recording
    try:
        settings = foldkit_settings(case, 1, data_dir)
        Af2InputPipeline(settings, log=lambda _: None)._templates(query_record(case), hhr, Path("pdb_hits.hhr"))
    finally:
        realign.kalign_align = original
    return pairs


def report_differing_outputs(case: str, ours: Path, theirs: Path) -> None:
    """Which of foldkit's search outputs differ from the AlphaFold2 side's (the golden runner's comparison:
    ``Date``/``Command`` lines of .hhr files and the ``#=GF AU`` line set aside)."""
    from foldkit.testing.cases_pipeline import file_checks

    differing = [f"{check.name} ({check.detail})" for check in file_checks(ours, theirs) if not check.passed]
    print(f"# {case}: search outputs that differ from AlphaFold2's: {', '.join(differing) or 'none'}", flush=True)


def residue_count(fasta: Path) -> int:
    with open(fasta) as handle:
        return sum(len(line.strip()) for line in handle if not line.startswith(">"))


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", type=int, default=2, help="cores for foldkit's searches (AlphaFold2's flags "
                                                           "stay as they are)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--scaled-data", type=int, metavar="N", default=None,
                        help="run on a data directory built in a temporary folder whose UniRef90, MGnify and small "
                             "BFD hold the miniature's sequences plus N from shared/train/seqdb (see "
                             "benchmarks/scaled_data.py); features are then compared with foldkit's featurization "
                             "of the AlphaFold2 side's own tool outputs")
    args = parser.parse_args(argv)
    missing = [b for b in ("jackhmmer", "hhblits", "hhsearch", "kalign") if shutil.which(b) is None]
    if missing:
        print(f"bench_pipeline: {', '.join(missing)} not on PATH (apt-get install hmmer hhsuite kalign)",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_data_") as data_tmp:
        data_dir = PIPELINE / "data"
        if args.scaled_data is not None:
            data_dir = Path(data_tmp) / "data"
            t0 = time.perf_counter()
            counts = build_scaled_data_dir(data_dir, args.scaled_data, PIPELINE / "data",
                                           SHARED / "train" / "seqdb" / "seqdb.fasta.gz")
            residues = {key: residue_count(data_dir / LAYOUT[key]) for key in counts}
            print(f"# scaled data directory ({time.perf_counter() - t0:.0f} s to build): " + ", ".join(
                f"{key} {counts[key]} sequences / {residues[key] / 1e6:.1f} M residues" for key in counts))
        return run_cases(args, data_dir)


def run_cases(args, data_dir: Path) -> int:
    scaled = args.scaled_data is not None
    load_before = os.getloadavg()
    print(f"# {datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"foldkit --cpu {args.cpu}, median of {args.repeats} after a warm-up; "
          f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}", flush=True)
    rows, paths, totals = [], [], {"af2": 0.0, "foldkit": 0.0}
    for case in args.cases:
        af2_runs, step_runs, whole_runs, identical = [], [], [], True
        for repeat in range(args.repeats + 1):
            with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as tmp:
                work = Path(tmp)
                (work / "af2").mkdir()
                (work / "steps").mkdir()
                af2 = Af2Tools(case, work / "af2", data_dir).run()
                # the reference: AlphaFold2's stored features (miniature), else the featurized outputs of the
                # AlphaFold2 side's tool calls just made (scaled: no stored AlphaFold2 features exist)
                reference = (featurized_af2_outputs(case, work / "af2" / "msas", data_dir) if scaled
                             else stored_features(case))
                steps = foldkit_steps(case, args.cpu, work / "steps", data_dir)
                whole, equal, chain = foldkit_pipeline(case, args.cpu, work / "whole", data_dir, reference)
                if scaled and not equal:
                    report_differing_outputs(case, work / "whole" / "msas", work / "af2" / "msas")
            identical &= equal
            print(f"# {case} round {repeat}: AlphaFold2 tools {af2['pipeline']:.2f} s, foldkit {whole:.2f} s, "
                  f"features equal: {equal}", flush=True)
            if repeat:                      # the first round warms the file cache
                af2_runs.append(af2)
                step_runs.append(steps)
                whole_runs.append({"pipeline": whole} | chain)
        af2, steps = median_of(af2_runs), median_of(step_runs) | median_of(whole_runs)
        for step in af2:
            rows.append((case, step, af2[step], steps[step], identical if step == "pipeline" else None))
        af2_chain = statistics.median(longest_chain(run) for run in af2_runs)
        paths.append((case, af2["pipeline"], af2_chain, steps["pipeline"], steps["chain"]))
        totals["af2"] += af2["pipeline"]
        totals["foldkit"] += steps["pipeline"]
    compared = "features = AlphaFold2 outputs' (featurized)" if scaled else "features = AlphaFold2's"
    print(f"\n| case | step | AlphaFold2 tools (s) | foldkit (s) | ratio | {compared} |")
    print("| --- | --- | --- | --- | --- | --- |")
    for case, step, theirs, ours, equal in rows:
        label = "**whole input pipeline**" if step == "pipeline" else step
        same = "" if equal is None else ("yes" if equal else "NO")
        print(f"| {case} | {label} | {theirs:.2f} | {ours:.2f} | {theirs / ours:.2f}x | {same} |")
    print(f"| all cases | **whole input pipeline** | {totals['af2']:.2f} | {totals['foldkit']:.2f} | "
          f"{totals['af2'] / totals['foldkit']:.2f}x | |")
    print("\n| case | AlphaFold2 tools, sequential (s) | AlphaFold2 tools, longest chain (s) | best ratio by "
          "overlapping AlphaFold2's calls | foldkit (s) | foldkit's longest chain in its run (s) | foldkit ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for case, sequential, chain, ours, our_chain in paths:
        print(f"| {case} | {sequential:.2f} | {chain:.2f} | {sequential / chain:.2f}x | {ours:.2f} | {our_chain:.2f} | "
              f"{sequential / ours:.2f}x |")
    load_after = os.getloadavg()
    print(f"\nload average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
