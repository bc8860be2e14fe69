"""Speed and memory of the full-size network (model_1_ptm, or model_1_multimer_v3; random weights).

    python benchmarks/bench_model.py [--lengths 64 128 256] [--chunk-sizes none 32]
        [--msa 64] [--extra 256] [--templates 4] [--recycles 3] [--repeats 1]
        [--write-results benchmarks/RESULTS.md]
    python benchmarks/bench_model.py --multimer 2x128 3x100 [same options]

``--multimer NxL``: N chains of L residues (distinct sequences) through the
full-size AlphaFold-Multimer v3 network (its MSA sampling inside the network:
``--msa`` clusters and ``--extra`` extra rows from an MSA of that many rows,
every recycle run: early stop off); the table goes to RESULTS.md's
"Multimer model" section. ``--reference-python PY``: for each complex size,
right after foldkit's configurations, AlphaFold's own multimer network
(``bench_multimer_reference.py``, run by PY, an interpreter with AlphaFold
installed) at each chunk size (AlphaFold's ``subbatch_size``) on the same
inputs; the table then lists both and the ratios AlphaFold s / foldkit s.
``--from-log F`` rebuilds the tables from a ``--log`` file;
``--earlier-log F NOTE`` adds an earlier run's table to the section.

Each (length, chunk size) runs in its own subprocess so that peak memory is
per configuration. A worker builds full-size random parameters (from the
packaged parameter spec), synthetic processed features with the given MSA /
extra-MSA / template depths and ``recycles + 1`` batch slices, compiles the
runner's jitted function ahead of time (compile seconds), then times
``repeats`` predictions (steady-state seconds per prediction). Memory: the
process's peak RSS (``ru_maxrss``, includes compilation) and the peak RSS
sampled every 20 ms while predictions run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

if str(Path(__file__).resolve().parent) not in sys.path:       # the multimer side, a sibling module
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_model_multimer import (MULTIMER_MODEL_NAME, format_ratio_table, multimer_summary,  # noqa: E402
                                  reference_label, run_multimer_worker, run_reference)

REPO_ROOT = Path(__file__).resolve().parents[1]
MODEL_NAME = "model_1_ptm"
REFERENCE_MULTIMER_NOTE = (
    "AlphaFold rows: `benchmarks/bench_multimer_reference.py`, AlphaFold's own multimer network "
    "(alphafold-colabfold 2.3.6: `modules_multimer.AlphaFold` under `hk.transform` and `jax.jit`, jax 0.4.26, "
    "its own interpreter given by `--reference-python`) on the same synthetic features, the same weights "
    "(same recipe and seed), float32, the same recycles (R + 1 calls of its compiled network, `prev` fed back), "
    "run right after foldkit's configurations of that size; foldkit's chunk size is AlphaFold's "
    "`global_config.subbatch_size` (off = None). Ratio = AlphaFold s / foldkit s per prediction (> 1: foldkit "
    "faster).")
REFERENCE_NOTE = ("AlphaFold2 v2.3.2 reference on a 2-core machine, L=64, same settings: "
                  "172 s per prediction, compile 56 s, peak RSS 2.0 GiB")


# --------------------------------------------------------------------------- worker side

def random_param_values(name: str, shape, rng: np.random.Generator) -> np.ndarray:
    """One parameter array by the benchmarks' recipe (numpy only: AlphaFold's reference side uses it too):
    unit LayerNorm scales, zero biases and offsets, N(0, 0.02) weights."""
    if name == "scale":
        return np.ones(shape, np.float32)
    if name in ("offset", "bias") or name.endswith("_b"):
        return np.zeros(shape, np.float32)
    return rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)


def random_params(seed: int = 0, model_name: str = MODEL_NAME) -> dict:
    """Full-size parameters of ``model_name`` as device arrays (no host copy kept):
    N(0, 0.02) weights, zero biases and offsets, unit LayerNorm scales.

    Drawn with numpy, one array at a time, so the process holds what a real
    parameter file would (0.35 GiB), not the many small executables that
    per-shape ``jax.random`` calls compile."""
    import jax.numpy as jnp

    from foldkit.model.params import flat_to_nested, packaged_spec

    rng = np.random.default_rng(seed)
    flat = {}
    for name_key, shape in sorted(packaged_spec(model_name).items()):
        values = random_param_values(name_key.split("//", 1)[1], shape, rng)
        flat[name_key] = jnp.asarray(values)
        del values
    return flat_to_nested(flat)


def synthetic_features(num_res: int, num_msa: int, num_extra: int, num_templates: int, batch: int,
                       seed: int = 0) -> dict[str, np.ndarray]:
    """Processed features of the shapes the network reads (random but well formed)."""
    from foldkit.model.all_atom import atom14_atom37_tables

    rng = np.random.default_rng(seed)
    aatype = rng.integers(0, 20, num_res).astype(np.int32)
    tables = {k: np.asarray(v) for k, v in atom14_atom37_tables(aatype).items()}
    one = np.ones
    msa_feat = np.zeros((num_msa, num_res, 49), np.float32)
    msa_feat[np.arange(num_msa)[:, None], np.arange(num_res)[None], rng.integers(0, 21, (num_msa, num_res))] = 1
    msa_feat[..., 25:48] = rng.dirichlet(np.ones(23), (num_msa, num_res))
    target = np.zeros((num_res, 22), np.float32)
    target[np.arange(num_res), aatype + 1] = 1
    coords = np.cumsum(rng.normal(0, 2.2, (num_templates, num_res, 1, 3)), axis=1) + rng.normal(
        0, 1.0, (num_templates, num_res, 37, 3))
    single = {
        "aatype": aatype, "residue_index": np.arange(num_res, dtype=np.int32),
        "seq_mask": one(num_res, np.float32), "target_feat": target, "msa_feat": msa_feat,
        "msa_mask": one((num_msa, num_res), np.float32),
        "extra_msa": rng.integers(0, 22, (num_extra, num_res)).astype(np.int32),
        "extra_msa_mask": one((num_extra, num_res), np.float32),
        "extra_has_deletion": (rng.random((num_extra, num_res)) < 0.1).astype(np.float32),
        "extra_deletion_value": (rng.random((num_extra, num_res)) * 0.2).astype(np.float32),
        "template_aatype": rng.integers(0, 21, (num_templates, num_res)).astype(np.int32),
        "template_all_atom_positions": coords.astype(np.float32),
        "template_all_atom_masks": np.broadcast_to(tables["atom37_atom_exists"],
                                                   (num_templates, num_res, 37)).astype(np.float32),
        "template_pseudo_beta": coords[:, :, 3].astype(np.float32),
        "template_pseudo_beta_mask": one((num_templates, num_res), np.float32),
        "template_mask": one(num_templates, np.float32),
        **{k: v.astype(np.int32 if "residx" in k else np.float32) for k, v in tables.items()},
    }
    return {k: np.broadcast_to(v, (batch,) + v.shape).copy() for k, v in single.items()}


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class RssSampler:
    """Peak resident memory sampled every ``interval`` seconds in a background thread."""

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = rss_bytes()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())


def run_worker(args) -> dict:
    import jax
    import jax.numpy as jnp

    from foldkit.model import config as config_lib
    from foldkit.model.runner import (ModelRunner, RunnerConfig, _jitted_apply, pad_features,
                                      release_freed_host_memory)

    chunk = None if args.chunk_size in (None, "none") else int(args.chunk_size)
    cfg = config_lib.preset(MODEL_NAME, {"model.num_recycle": args.recycles,
                                         "data.common.num_recycle": args.recycles})
    params = random_params()
    features = synthetic_features(args.length, args.msa, args.extra, args.templates, args.recycles + 1)
    runner = ModelRunner(cfg, params, RunnerConfig(chunk_size=chunk, bfloat16=args.bfloat16,
                                                   buckets=(args.length,)))
    del params
    batch = {k: jnp.asarray(v) for k, v in pad_features(features, args.length, args.length).items()}
    rss_ready = rss_bytes()
    apply = _jitted_apply(cfg.model, runner.runner.global_config(cfg.model), False)
    start = time.perf_counter()
    compiled = apply.lower(runner.params, batch).compile()
    compile_seconds = time.perf_counter() - start
    release_freed_host_memory()       # as ModelRunner does after compiling a length bucket
    rss_compiled = rss_bytes()
    times = []
    with RssSampler() as sampler:
        for _ in range(args.repeats):
            start = time.perf_counter()
            outputs = jax.block_until_ready(compiled(runner.params, batch))
            times.append(time.perf_counter() - start)
    plddt_logits = np.asarray(outputs["predicted_lddt/logits"])
    device = jax.devices()[0]
    device_stats = (device.memory_stats() or {}) if device.platform != "cpu" else {}
    return {
        "length": args.length, "chunk_size": chunk, "bfloat16": args.bfloat16, "msa": args.msa,
        "extra": args.extra, "templates": args.templates, "recycles": args.recycles,
        "compile_s": compile_seconds, "predict_s": times, "predict_s_min": min(times),
        "rss_ready_gib": rss_ready / 2 ** 30, "rss_compiled_gib": rss_compiled / 2 ** 30,
        "rss_run_peak_gib": sampler.peak / 2 ** 30,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2 ** 30,
        "finite_outputs": bool(np.all(np.isfinite(plddt_logits))),
        "jax": jax.__version__, "backend": jax.default_backend(), "device": device.device_kind,
        # accelerator memory: peak of the allocator over the process (parameters, compiled
        # scratch and activations); absent on CPU
        **({"device_peak_gib": device_stats["peak_bytes_in_use"] / 2 ** 30}
           if "peak_bytes_in_use" in device_stats else {}),
    }


# --------------------------------------------------------------------------- driver side

def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kib / 2 ** 20:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def run_configuration(args, length: int | str, chunk: str, log) -> dict:
    """One configuration in its own process; ``length``: residues, or 'NxL' for a complex (multimer)."""
    size = ["--complex", length] if isinstance(length, str) else ["--length", str(length)]
    command = [sys.executable, __file__, "--worker", *size, "--chunk-size", chunk,
               "--msa", str(args.msa), "--extra", str(args.extra), "--templates", str(args.templates),
               "--recycles", str(args.recycles), "--repeats", str(args.repeats)]
    if args.bfloat16:
        command.append("--bfloat16")
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        record = {"length": length, "chunk_size": None if chunk == "none" else int(chunk), "bfloat16": args.bfloat16,
                  "error": " | ".join(tail), "wall_s": time.perf_counter() - start}
        if isinstance(length, str):
            chains, residues = (int(x) for x in length.split("x"))
            record.update(length=chains * residues, complex=length)
    else:
        record = json.loads(result.stdout.strip().splitlines()[-1])
        record["wall_s"] = time.perf_counter() - start
    print(json.dumps(record), file=log, flush=True)
    return record


def _chunk(r: dict) -> str:
    return "off" if r.get("chunk_size") is None else str(r["chunk_size"])


def _size(r: dict) -> str:
    """'64', or '2x128 (256)' for a complex of 2 chains of 128 residues."""
    return f"{r['complex']} ({r['length']})" if r.get("complex") else str(r["length"])


def _gib(key: str):
    """Cell of a memory figure in GiB ('' where the record has none)."""
    return lambda r: f"{r[key]:.2f}" if key in r else ""


# (header, cell) per column; columns after "chunk" need a finished run
CPU_COLUMNS = [
    ("L", _size), ("chunk", _chunk),
    ("compile (s)", lambda r: f"{r['compile_s']:.0f}"), ("s / prediction", lambda r: f"{r['predict_s_min']:.1f}"),
    ("peak RSS (GiB)", _gib("peak_rss_gib")), ("RSS during prediction (GiB)", _gib("rss_run_peak_gib")),
    ("RSS before compile (GiB)", _gib("rss_ready_gib"))]
TOOL_COLUMN = ("tool", lambda r: reference_label(r) if r.get("reference") else "foldkit")
ACCELERATOR_COLUMNS = [
    ("device", lambda r: r.get("device", "")), ("L", _size),
    ("precision", lambda r: "bf16" if r.get("bfloat16") else "fp32"), ("chunk", _chunk),
    ("compile (s)", lambda r: f"{r['compile_s']:.1f}"), ("s / prediction", lambda r: f"{r['predict_s_min']:.3f}"),
    ("device memory peak (GiB)", lambda r: f"{r.get('device_peak_gib', float('nan')):.2f}")]


def format_table(records: list[dict]) -> str:
    """Markdown table of the records: CPU columns, or accelerator columns (device memory) where measured;
    a leading 'tool' column where AlphaFold's reference runs are among them."""
    columns = ACCELERATOR_COLUMNS if any("device_peak_gib" in r for r in records) else CPU_COLUMNS
    if any(r.get("reference") for r in records):
        columns = [TOOL_COLUMN, *columns]
    known = [header for header, _ in columns].index("chunk") + 1
    lines = ["| " + " | ".join(header for header, _ in columns) + " |", "|" + " --- |" * len(columns)]
    for r in records:
        if "error" in r:
            cells = [cell(r) for _, cell in columns[:known]] + [f"failed: {r['error'][:80]}"]
            cells += [""] * (len(columns) - len(cells))
        else:
            cells = [cell(r) for _, cell in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(path: Path, table: str, args, records: list[dict], earlier: list[tuple[str, list[dict]]] = ()
                  ) -> None:
    """Replace (or append) the '## Model' (or, for complexes, '## Multimer model') section of RESULTS.md;
    ``args.note``: paragraphs after the summary; ``earlier``: (note, records) of earlier runs, each shown as
    its own table under its note."""
    command = "python benchmarks/bench_model.py " + shlex.join(sys.argv[1:])
    multimer = any(r.get("complex") for r in records)
    summary = multimer_summary(records) if multimer else _summary(records)
    heading = "## Multimer model" if multimer else "## Model"
    model = (f"{MULTIMER_MODEL_NAME} (NxL: N chains of L residues, distinct sequences; MSA sampling, masking "
             "and clustering inside the network; early stop off, every recycle run)" if multimer else MODEL_NAME)
    ratios = format_ratio_table(records) if multimer and any(r.get("reference") for r in records) else ""
    section = "\n".join([
        heading,
        "",
        f"`benchmarks/bench_model.py`: full-size {model} with random weights, MSA depth {args.msa}, "
        f"extra MSA {args.extra}, {args.templates} templates, {args.recycles} recycles, float32, CPU; "
        "each configuration in its own process; compile = ahead-of-time compilation of the runner's "
        "jitted function; s / prediction = fastest of the timed runs after compilation; peak RSS = "
        "ru_maxrss of the process (includes compilation), RSS during prediction = sampled every 20 ms.",
        *([REFERENCE_MULTIMER_NOTE] if ratios else []),
        f"{datetime.date.today().isoformat()}, {machine_description()} (shared with other jobs).",
        "",
        table,
        "",
        *([ratios, ""] if ratios else []),
        *([] if multimer else [f"Reference: {REFERENCE_NOTE}."]),
        *([summary] if summary else []),
        *[line for note in args.note for line in ("", note)],
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
    ])
    for note, earlier_records in earlier:
        section += "\n".join(["", note, "", format_table(earlier_records), "", multimer_summary(earlier_records), ""])
        section += "\n"
    text = path.read_text() if path.exists() else "# foldkit benchmark results\n\n"
    pattern = re.compile(rf"^{heading}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def _summary(records: list[dict]) -> str:
    ok = [r for r in records if "error" not in r]
    notes = []
    base = next((r for r in ok if r["length"] == 64 and r["chunk_size"] is None), None)
    if base:
        notes.append(f"At L=64 foldkit takes {base['predict_s_min']:.0f} s per prediction "
                     f"({172 / base['predict_s_min']:.2f}x the reference's speed) and compiles in "
                     f"{base['compile_s']:.0f} s.")
    for length in sorted({r["length"] for r in ok}):
        off = next((r for r in ok if r["length"] == length and r["chunk_size"] is None), None)
        on = [r for r in ok if r["length"] == length and r["chunk_size"] is not None]
        for r in on:
            if off:
                notes.append(f"L={length}: chunk {r['chunk_size']} changes peak RSS during prediction "
                             f"{off['rss_run_peak_gib']:.2f} -> {r['rss_run_peak_gib']:.2f} GiB "
                             f"({off['rss_run_peak_gib'] / r['rss_run_peak_gib']:.2f}x) and time "
                             f"{off['predict_s_min']:.0f} -> {r['predict_s_min']:.0f} s.")
    return " ".join(notes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=None,
                        help="monomer lengths (default 64 128 256, none when --multimer is given)")
    parser.add_argument("--multimer", nargs="+", default=[], metavar="NxL",
                        help="complex sizes for model_1_multimer_v3, e.g. 2x128 3x100")
    parser.add_argument("--chunk-sizes", nargs="+", default=["none", "32"],
                        help="'none' (unchunked) and/or integers")
    parser.add_argument("--msa", type=int, default=64)
    parser.add_argument("--extra", type=int, default=256)
    parser.add_argument("--templates", type=int, default=4)
    parser.add_argument("--recycles", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--bfloat16", action="store_true")
    parser.add_argument("--log", type=Path, default=None, help="append one JSON line per configuration")
    parser.add_argument("--write-results", type=Path, default=None, help="RESULTS.md to update")
    parser.add_argument("--from-log", type=Path, default=None,
                        help="do not run: build the table (and RESULTS.md section) from a --log file")
    parser.add_argument("--reference-python", type=Path, default=None, metavar="PY",
                        help="also run AlphaFold's multimer network (bench_multimer_reference.py) under this "
                             "interpreter for each --multimer size and chunk size")
    parser.add_argument("--reference-xla-flags", default=None, metavar="FLAGS",
                        help="XLA_FLAGS for the reference runs only, e.g. --xla_cpu_use_mkl_dnn=false")
    parser.add_argument("--earlier-log", nargs=2, action="append", default=[], metavar=("LOG", "NOTE"),
                        help="with --write-results: also show an earlier run's log as its own table under NOTE")
    parser.add_argument("--note", action="append", default=[], help="with --write-results: a paragraph to add")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--complex", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--chunk-size", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(run_multimer_worker(args) if args.complex else run_worker(args)))
        return 0
    for size in args.multimer:
        if not re.fullmatch(r"[1-9]\d*x[1-9]\d*", size):
            parser.error(f"--multimer sizes are NxL (chains x residues), not {size!r}")
    lengths = args.lengths if args.lengths is not None else ([] if args.multimer else [64, 128, 256])
    if args.from_log:
        records = [json.loads(line) for line in args.from_log.read_text().splitlines() if line.strip()]
    else:
        log = open(args.log, "a") if args.log else sys.stdout
        records = [run_configuration(args, length, chunk, log) for length in lengths for chunk in args.chunk_sizes]
        for size in args.multimer:          # foldkit's configurations of a size, then AlphaFold's
            records += [run_configuration(args, size, chunk, log) for chunk in args.chunk_sizes]
            if args.reference_python:
                records += [run_reference(args, size, chunk, log) for chunk in args.chunk_sizes]
    table = format_table(records)
    print(table)
    if any(r.get("reference") for r in records):
        print(format_ratio_table(records))
    if args.write_results:
        earlier = [(note, [json.loads(line) for line in Path(log_path).read_text().splitlines() if line.strip()])
                   for log_path, note in args.earlier_log]
        write_results(args.write_results, table, args, records, earlier)
    return 0 if all("error" not in r for r in records) else 1


if __name__ == "__main__":
    sys.exit(main())
