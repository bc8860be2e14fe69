"""AlphaFold-Multimer input pipeline benchmark: foldkit vs AlphaFold2's own tool invocations, same binaries.

For each multimer case of ``shared/reference/af2/pipeline`` (miniature AlphaFold2 data directory):

* AlphaFold2 side: per distinct chain, the programs AlphaFold-Multimer v2.3 runs with the exact commands
  of the case's ``tool_settings``, one after the other in its order: jackhmmer on UniRef90 and MGnify
  (``--cpu 8``), HHblits on BFD + UniRef30 (``-cpu 4``) or jackhmmer on the small BFD, ``hmmbuild --hand``
  + ``hmmsearch`` on pdb_seqres (``--cpu 8``), and for heteromers jackhmmer on UniProt; plus AlphaFold2's
  Stockholm truncation and template-query conversion. A lower bound of AlphaFold2's pipeline: its Python
  parsing, template featurization and pairing/merging are not run (its code is not available here).
* foldkit side: ``ComplexSearchPipeline.run`` into an empty folder (concurrent searches per chain on
  ``--cpu`` cores, templates, pairing, merging, padding), whose features are compared with AlphaFold's
  ``processed_features.npz``; and the multimer featurization alone (chain conversion, pairing, merging,
  padding) from the chains' raw features.

Median of ``--repeats`` runs after one warm-up. Prints a table with ratios (AlphaFold2 / foldkit).

    python benchmarks/bench_multimer_inputs.py [--cpu 2] [--repeats 3]
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

from foldkit.features.multimer import complex_features_from_chain_features  # noqa: E402
from foldkit.io.complexes import read_complexes  # noqa: E402
from foldkit.msa.af2_complex import ComplexSearchPipeline  # noqa: E402
from foldkit.msa.af2_pipeline import Af2Settings  # noqa: E402
from foldkit.msa.databases import resolve_databases  # noqa: E402
from foldkit.msa.jackhmmer import truncate_stockholm  # noqa: E402
from foldkit.templates.query_msa import hmmbuild_query_sto  # noqa: E402

SHARED = Path(os.environ.get("FOLDKIT_SHARED", REPO.parent / "shared"))
PIPELINE = SHARED / "reference" / "af2" / "pipeline"
CASES = ("multi_hetero_2chain", "multi_homo_2copies")


def fill(template: str, values: dict[str, str]) -> list[str]:
    return [values.get(word, word) for word in template.split()]


def case_data(case: str) -> dict:
    return json.loads((PIPELINE / case / "case.json").read_text())


def af2_tools(case: str, work: Path) -> dict[str, float]:
    """AlphaFold-Multimer's tool calls for every distinct chain, sequentially; seconds per step."""
    data = case_data(case)
    tools = data["tool_settings"]
    dbs = resolve_databases(PIPELINE / "data", data["db_preset"], model_preset="multimer")
    (complex_,) = read_complexes(PIPELINE / case / "input.fasta", "multimer")
    times: dict[str, float] = {}
    start = time.perf_counter()

    def jackhmmer(query: Path, database: Path, out: Path, limit: int | None) -> str:
        command = fill(tools["jackhmmer (alphafold.data.tools.jackhmmer defaults)"]["command"],
                       {"<out.sto>": str(out), "<query.fasta>": str(query), "<db>": str(database)})
        subprocess.run(command, check=True, capture_output=True)
        return truncate_stockholm(out.read_text(), limit) if limit else out.read_text()

    def timed(step: str, function, *args):
        t0 = time.perf_counter()
        result = function(*args)
        times[step] = times.get(step, 0.0) + time.perf_counter() - t0
        return result

    for chain in complex_.distinct_chains:
        query = work / f"chain_{chain.chain_id}.fasta"
        query.write_text(f">chain_{chain.chain_id}\n{chain.sequence}\n")
        uniref90 = timed("uniref90", jackhmmer, query, dbs.uniref90, work / "uniref90.sto", 10000)
        timed("mgnify", jackhmmer, query, dbs.mgnify, work / "mgnify.sto", 501)

        def templates():
            (work / "query.sto").write_text(hmmbuild_query_sto(uniref90))
            subprocess.run(fill(tools["hmmsearch (multimer templates)"]["hmmbuild"],
                                {"<out.hmm>": str(work / "q.hmm"), "<query.sto>": str(work / "query.sto")}),
                           check=True, capture_output=True)
            subprocess.run(fill(tools["hmmsearch (multimer templates)"]["command"],
                                {"<out.sto>": str(work / "pdb.sto"), "<query.hmm>": str(work / "q.hmm"),
                                 "<pdb_seqres.txt>": str(dbs.pdb_seqres)}), check=True, capture_output=True)

        timed("pdb_seqres", templates)
        if dbs.db_preset == "full_dbs":
            command = fill(tools["hhblits (full_dbs)"]["command"],
                           {"<query.fasta>": str(query), "<out.a3m>": str(work / "bfd.a3m"), "<bfd>": str(dbs.bfd),
                            "<uniref30>": str(dbs.uniref30)})
            timed("bfd_uniref", lambda: subprocess.run(command, check=True, capture_output=True))
        else:
            timed("small_bfd", jackhmmer, query, dbs.small_bfd, work / "small_bfd.sto", None)
        if complex_.is_heteromer:
            timed("uniprot", jackhmmer, query, dbs.uniprot, work / "uniprot.sto", None)
    times["pipeline"] = time.perf_counter() - start
    return times


def foldkit_run(case: str, cpus: int, work: Path) -> tuple[dict[str, float], bool]:
    data = case_data(case)
    settings = Af2Settings(resolve_databases(PIPELINE / "data", data["db_preset"], model_preset="multimer"),
                           max_template_date=datetime.date.fromisoformat(data["max_template_date"]), cpus=cpus)
    (complex_,) = read_complexes(PIPELINE / case / "input.fasta", "multimer")
    t0 = time.perf_counter()
    inputs = ComplexSearchPipeline(settings, log=lambda _: None).run(complex_, work / "msas")
    seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    repeats = 20
    for _ in range(repeats):
        complex_features_from_chain_features(complex_, inputs.chain_features)
    featurize = (time.perf_counter() - t0) / repeats
    return {"pipeline": seconds, "featurize": featurize}, features_equal(inputs.features, case)


def features_equal(features: dict, case: str) -> bool:
    with np.load(PIPELINE / case / "processed_features.npz") as reference:
        for name in reference.files:
            ours, theirs = features[name], reference[name]
            if ours.dtype != theirs.dtype or ours.shape != theirs.shape:
                return False
            close = np.allclose(ours, theirs, atol=1e-4, rtol=0) if name == "template_all_atom_positions" else \
                np.array_equal(ours, theirs)
            if not close:
                return False
    return True


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    args = parser.parse_args(argv)
    missing = [b for b in ("jackhmmer", "hmmbuild", "hmmsearch", "hhblits") if shutil.which(b) is None]
    if missing:
        print(f"bench_multimer_inputs: {', '.join(missing)} not on PATH (apt-get install hmmer hhsuite)",
              file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f"# {datetime.date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"foldkit --cpu {args.cpu}, median of {args.repeats} after a warm-up; load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("\n| case | step | AlphaFold2 tools (s) | foldkit (s) | ratio | features = AlphaFold's |")
    print("| --- | --- | --- | --- | --- | --- |")
    totals = {"af2": 0.0, "foldkit": 0.0}
    for case in args.cases:
        af2_runs, ours_runs, identical = [], [], True
        for repeat in range(args.repeats + 1):
            with tempfile.TemporaryDirectory(prefix="bench_multimer_") as tmp:
                (Path(tmp) / "af2").mkdir()
                af2 = af2_tools(case, Path(tmp) / "af2")
                ours, equal = foldkit_run(case, args.cpu, Path(tmp))
            identical &= equal
            if repeat:
                af2_runs.append(af2)
                ours_runs.append(ours)
        af2, ours = median_of(af2_runs), median_of(ours_runs)
        for step, seconds in af2.items():
            if step != "pipeline":
                print(f"| {case} | {step} (all chains) | {seconds:.2f} | | | |")
        print(f"| {case} | multimer featurization alone | | {ours['featurize']:.3f} | | |")
        print(f"| {case} | **whole input pipeline** | {af2['pipeline']:.2f} | {ours['pipeline']:.2f} | "
              f"{af2['pipeline'] / ours['pipeline']:.2f}x | {'yes' if identical else 'NO'} |")
        totals["af2"] += af2["pipeline"]
        totals["foldkit"] += ours["pipeline"]
    print(f"| all cases | **whole input pipeline** | {totals['af2']:.2f} | {totals['foldkit']:.2f} | "
          f"{totals['af2'] / totals['foldkit']:.2f}x | |")
    load = os.getloadavg()
    print(f"\nload average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
