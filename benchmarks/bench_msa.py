"""MSA search benchmark: pyhmmer jackhmmer (in-process) vs the HMMER ``jackhmmer`` binary.

Both run the same queries against the same FASTA database with AlphaFold2's
settings (-N 1, -E/--incE 1e-4, --F1 5e-4 --F2 5e-5 --F3 5e-7) on all cores.
Reports wall time, hits (included target sequences) per engine and their overlap.

    python benchmarks/bench_msa.py [--queries 8] [--db ../shared/train/seqdb/seqdb.fasta.gz] [--cpu N]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from foldkit.io.msa_files import read_stockholm  # noqa: E402
from foldkit.msa.database import read_fasta_database  # noqa: E402
from foldkit.msa.search import UNIREF90_SETTINGS, SequenceDatabase, default_cpus, jackhmmer_search  # noqa: E402

SHARED = REPO.parent / "shared"


def pick_queries(records, count: int, seed: int = 0):
    """``count`` random database sequences of 60-300 residues (they are their own top hit)."""
    rng = np.random.default_rng(seed)
    eligible = [r for r in records if 60 <= len(r.sequence) <= 300]
    chosen = rng.choice(len(eligible), count, replace=False)
    return [(eligible[i].name, eligible[i].sequence) for i in sorted(chosen)]


def binary_hits(binary: str, name: str, sequence: str, database: Path, cpus: int, work: Path,
                settings=UNIREF90_SETTINGS) -> set[str]:
    s = settings
    query = work / f"{name}.fasta"
    query.write_text(f">{name}\n{sequence}\n")
    sto = work / f"{name}.sto"
    command = [binary, "-o", "/dev/null", "-A", str(sto), "--noali", "--F1", str(s.f1), "--F2", str(s.f2),
               "--F3", str(s.f3), "--incE", str(s.e_value), "-E", str(s.e_value), "--cpu", str(cpus),
               "-N", str(s.iterations), str(query), str(database)]
    subprocess.run(command, check=True, capture_output=True)
    if not sto.is_file() or sto.stat().st_size == 0:
        return set()
    msa = read_stockholm(sto)
    return {d.split("/")[0] for d in msa.descriptions[1:]}  # row 0 is the query


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, action="append",
                        help="FASTA database(s), concatenated (default: shared/train/seqdb/seqdb.fasta.gz)")
    parser.add_argument("--iterations", type=int, default=UNIREF90_SETTINGS.iterations, help="-N")
    parser.add_argument("--queries", type=int, default=8)
    parser.add_argument("--cpu", type=int, default=default_cpus())
    args = parser.parse_args(argv)
    binary = shutil.which("jackhmmer")
    if binary is None:
        print("bench_msa: the jackhmmer binary is not on PATH (apt-get install hmmer)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench_msa_") as tmp:
        work = Path(tmp)
        sources = args.db or [SHARED / "train" / "seqdb" / "seqdb.fasta.gz"]
        database = work / "database.fasta"
        with open(database, "wb") as dst:
            for source in sources:
                with (gzip.open(source, "rb") if source.suffix == ".gz" else open(source, "rb")) as src:
                    shutil.copyfileobj(src, dst)
        start = time.perf_counter()
        records = read_fasta_database(database)
        db = SequenceDatabase(records, database)
        load_seconds = time.perf_counter() - start
        queries = pick_queries(records, args.queries)

        start = time.perf_counter()
        settings = dataclasses.replace(UNIREF90_SETTINGS, iterations=args.iterations)
        msas = jackhmmer_search(queries, db, settings, cpus=args.cpu, progress=False)
        pyhmmer_seconds = time.perf_counter() - start
        py_hits = [{d.split("/")[0] for d in m.descriptions[1:]} for m in msas]

        start = time.perf_counter()
        bin_hits = [binary_hits(binary, n, s, database, args.cpu, work, settings) for n, s in queries]
        binary_seconds = time.perf_counter() - start

    version = subprocess.run([binary, "-h"], capture_output=True, text=True).stdout.splitlines()[1].strip("# ")
    names = " + ".join(p.name for p in sources)
    print(f"database {names}: {len(records)} sequences (load + digitize {load_seconds:.1f} s); "
          f"{len(queries)} queries; -N {args.iterations}; {args.cpu} threads; {platform.processor() or platform.machine()}")
    print(f"{'query':<10} {'len':>4} {'pyhmmer':>8} {'binary':>7} {'both':>5} {'jaccard':>7}")
    total_py = total_bin = total_both = 0
    for (name, seq), p, b in zip(queries, py_hits, bin_hits):
        both = len(p & b)
        union = len(p | b) or 1
        total_py, total_bin, total_both = total_py + len(p), total_bin + len(b), total_both + both
        print(f"{name:<10} {len(seq):>4} {len(p):>8} {len(b):>7} {both:>5} {both / union:>7.3f}")
    union = total_py + total_bin - total_both
    print(f"total hits: pyhmmer {total_py}, binary {total_bin}, shared {total_both} "
          f"(jaccard {total_both / max(union, 1):.3f})")
    print(f"wall time: pyhmmer {pyhmmer_seconds:.1f} s, jackhmmer binary ({version}) {binary_seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
