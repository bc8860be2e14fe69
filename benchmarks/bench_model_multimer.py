"""bench_model.py's multimer side: synthetic complex features, the foldkit worker, AlphaFold's reference run
(``bench_multimer_reference.py`` under another interpreter), and the side-by-side table and ratios.

Imports only numpy and the standard library at module level: bench_multimer_reference.py imports it from
AlphaFold's environment (no foldkit there).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REFERENCE_SCRIPT = HERE / "bench_multimer_reference.py"
MULTIMER_MODEL_NAME = "model_1_multimer_v3"
SPEEDUP_GOAL = 1.3          # issue #18: foldkit at least 1.3x faster than AlphaFold's multimer network


def parse_complex(size: str) -> tuple[int, int]:
    """'2x128' -> (2 chains, 128 residues each)."""
    chains, chain_length = (int(x) for x in size.split("x"))
    return chains, chain_length


def synthetic_multimer_features(num_chains: int, chain_length: int, num_rows: int, num_templates: int,
                                seed: int = 0) -> dict[str, np.ndarray]:
    """Multimer features (the padded ``pad_msa`` dict the network reads) of ``num_chains`` distinct chains."""
    rng = np.random.default_rng(seed)
    num_res = num_chains * chain_length
    chain = np.repeat(np.arange(1, num_chains + 1), chain_length).astype(np.float32)     # [L]
    msa = rng.integers(0, 22, (num_rows, num_res)).astype(np.int32)                     # [rows, L]
    msa[0] = rng.integers(0, 20, num_res)
    coords = np.cumsum(rng.normal(0, 2.2, (num_templates, num_res, 1, 3)), axis=1) + rng.normal(
        0, 1.0, (num_templates, num_res, 37, 3))                                         # [T, L, 37, 3]
    return {
        "aatype": msa[0].copy(), "residue_index": np.tile(np.arange(chain_length), num_chains).astype(np.int32),
        "asym_id": chain, "entity_id": chain, "sym_id": np.ones(num_res, np.float32),
        "seq_mask": np.ones(num_res, np.float32), "msa": msa,
        "deletion_matrix": (rng.random((num_rows, num_res)) < 0.05).astype(np.float32),
        "msa_mask": np.ones((num_rows, num_res), np.float32), "bert_mask": np.ones((num_rows, num_res), np.float32),
        "cluster_bias_mask": np.eye(1, num_rows, dtype=np.float32)[0],
        "template_aatype": rng.integers(0, 21, (num_templates, num_res)).astype(np.int32),
        "template_all_atom_positions": coords.astype(np.float32),
        "template_all_atom_mask": (rng.random((num_templates, num_res, 37)) < 0.8).astype(np.float32),
    }


# --------------------------------------------------------------------------- worker side

def run_multimer_worker(args) -> dict:
    """Compile and time foldkit's multimer network on one complex size (``bench_model.py --worker --complex``)."""
    import jax
    import jax.numpy as jnp

    from bench_model import RssSampler, random_params, rss_bytes
    from foldkit.model.msa_sampling import alphafold_rng_scope
    from foldkit.model.multimer_config import multimer_preset
    from foldkit.model.multimer_runner import MultimerRunner, _jitted_apply, pad_multimer_features
    from foldkit.model.runner import RunnerConfig, release_freed_host_memory

    chains, chain_length = parse_complex(args.complex)
    num_res = chains * chain_length
    chunk = None if args.chunk_size in (None, "none") else int(args.chunk_size)
    cfg = multimer_preset(MULTIMER_MODEL_NAME, {
        "model.num_recycle": args.recycles, "model.recycle_early_stop_tolerance": 0.0,
        "model.embeddings_and_evoformer.num_msa": args.msa,
        "model.embeddings_and_evoformer.num_extra_msa": args.extra})
    runner = MultimerRunner(cfg, random_params(model_name=MULTIMER_MODEL_NAME),
                            RunnerConfig(chunk_size=chunk, bfloat16=args.bfloat16, buckets=(num_res,)))
    features = synthetic_multimer_features(chains, chain_length, args.msa + args.extra, args.templates)
    batch = {k: jnp.asarray(v) for k, v in pad_multimer_features(features, num_res, num_res).items()}
    rss_ready = rss_bytes()
    apply = _jitted_apply(cfg.model, runner.runner.global_config(cfg.model), False, False)
    key = jax.random.PRNGKey(0)
    with alphafold_rng_scope():
        start = time.perf_counter()
        compiled = apply.lower(runner.params, key, batch, None).compile()
        compile_seconds = time.perf_counter() - start
        release_freed_host_memory()
        rss_compiled = rss_bytes()
        times = []
        with RssSampler() as sampler:
            for _ in range(args.repeats):
                start = time.perf_counter()
                outputs = jax.block_until_ready(compiled(runner.params, key, batch, None))
                times.append(time.perf_counter() - start)
    device = jax.devices()[0]
    device_stats = (device.memory_stats() or {}) if device.platform != "cpu" else {}
    return {
        "length": num_res, "complex": args.complex, "chunk_size": chunk, "bfloat16": args.bfloat16,
        "msa": args.msa, "extra": args.extra, "templates": args.templates, "recycles": args.recycles,
        "num_recycles_run": int(outputs["num_recycles"]),
        "compile_s": compile_seconds, "predict_s": times, "predict_s_min": min(times),
        "rss_ready_gib": rss_ready / 2 ** 30, "rss_compiled_gib": rss_compiled / 2 ** 30,
        "rss_run_peak_gib": sampler.peak / 2 ** 30,
        "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2 ** 30,
        "finite_outputs": bool(np.all(np.isfinite(np.asarray(outputs["predicted_lddt/logits"])))),
        "jax": jax.__version__, "backend": jax.default_backend(), "device": device.device_kind,
        **({"device_peak_gib": device_stats["peak_bytes_in_use"] / 2 ** 30}
           if "peak_bytes_in_use" in device_stats else {}),
    }


# --------------------------------------------------------------------------- driver side

def run_reference(args, size: str, chunk: str, log) -> dict:
    """AlphaFold's multimer network on the same inputs and settings, under ``args.reference_python``.

    ``chunk`` (foldkit's chunk size, or 'none') becomes AlphaFold's ``global_config.subbatch_size``: the
    same knob (rows per chunk in its attention, triangle and transition layers at inference).
    ``args.reference_xla_flags``: XLA_FLAGS for the reference process only (its jaxlib is older)."""
    command = [str(args.reference_python), str(REFERENCE_SCRIPT), "--complex", size,
               "--subbatch-size", chunk, "--msa", str(args.msa), "--extra", str(args.extra),
               "--templates", str(args.templates), "--recycles", str(args.recycles),
               "--repeats", str(args.repeats)]
    chains, chain_length = parse_complex(size)
    env = dict(os.environ, **({"XLA_FLAGS": args.reference_xla_flags} if args.reference_xla_flags else {}))
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, env=env)
    subbatch = None if chunk == "none" else int(chunk)
    if result.returncode != 0:
        tail = [line for line in (result.stderr or result.stdout).strip().splitlines()
                if "reference implementation being executed" not in line][-3:]
        record = {"length": chains * chain_length, "complex": size, "subbatch_size": subbatch,
                  "error": " | ".join(tail)}
    else:
        record = json.loads(result.stdout.strip().splitlines()[-1])
    record.update(reference=True, chunk_size=subbatch, wall_s=time.perf_counter() - start,
                  **({"xla_flags": args.reference_xla_flags} if args.reference_xla_flags else {}))
    print(json.dumps(record), file=log, flush=True)
    return record


def reference_label(record: dict) -> str:
    return record.get("tool", "AlphaFold (reference)").replace("alphafold-colabfold", "AlphaFold, colabfold")


def format_ratio_table(records: list[dict]) -> str:
    """Per complex size and chunk setting: foldkit's and AlphaFold's seconds per prediction and their ratio."""
    lines = ["| NxL | chunk | foldkit compile (s) | AlphaFold compile (s) | foldkit s / prediction "
             "| AlphaFold s / prediction | AlphaFold s / foldkit s | foldkit peak RSS (GiB) "
             "| AlphaFold peak RSS (GiB) |", "|" + " --- |" * 9]
    for ours, ref in _pairs(records):
        chunk = "off" if ours["chunk_size"] is None else str(ours["chunk_size"])
        lines.append(f"| {ours['complex']} ({ours['length']}) | {chunk} | {ours['compile_s']:.0f} "
                     f"| {ref['compile_s']:.0f} | {ours['predict_s_min']:.1f} | {ref['predict_s_min']:.1f} "
                     f"| {ref['predict_s_min'] / ours['predict_s_min']:.2f}x | {ours['peak_rss_gib']:.2f} "
                     f"| {ref['peak_rss_gib']:.2f} |")
    return "\n".join(lines)


def _pairs(records: list[dict]) -> list[tuple[dict, dict]]:
    """(foldkit record, reference record) of the same complex, chunk and settings; finished runs only."""
    ok = [r for r in records if "error" not in r and r.get("complex")]
    settings = ("complex", "chunk_size", "msa", "extra", "templates", "recycles")
    pairs = []
    for ours in (r for r in ok if not r.get("reference") and not r.get("bfloat16")):
        ref = next((r for r in ok if r.get("reference") and all(r.get(k) == ours.get(k) for k in settings)), None)
        if ref:
            pairs.append((ours, ref))
    return pairs


def multimer_summary(records: list[dict]) -> str:
    """Chunking's memory / time change per size, then the ratios against AlphaFold and the goal's verdict."""
    notes = []
    ok = [r for r in records if "error" not in r and not r.get("reference")]
    for size in dict.fromkeys(r["complex"] for r in ok if r.get("complex")):
        off = next((r for r in ok if r.get("complex") == size and r["chunk_size"] is None), None)
        for r in (r for r in ok if r.get("complex") == size and r["chunk_size"] is not None):
            if off:
                notes.append(f"{size}: chunk {r['chunk_size']} changes foldkit's peak RSS during prediction "
                             f"{off['rss_run_peak_gib']:.2f} -> {r['rss_run_peak_gib']:.2f} GiB and time "
                             f"{off['predict_s_min']:.0f} -> {r['predict_s_min']:.0f} s.")
    pairs = _pairs(records)
    for ours, ref in pairs:
        chunk = "unchunked" if ours["chunk_size"] is None else f"chunk {ours['chunk_size']}"
        notes.append(f"{ours['complex']} {chunk}: AlphaFold {ref['predict_s_min']:.0f} s, foldkit "
                     f"{ours['predict_s_min']:.0f} s per prediction: foldkit is "
                     f"{ref['predict_s_min'] / ours['predict_s_min']:.2f}x AlphaFold's speed.")
    if pairs:
        ratios = [ref["predict_s_min"] / ours["predict_s_min"] for ours, ref in pairs]
        met = min(ratios) >= SPEEDUP_GOAL
        notes.append(f"Goal (at least {SPEEDUP_GOAL}x AlphaFold's speed on the same CPU at equal settings): "
                     + ("met" if met else "NOT met") + f" in these runs (ratios {min(ratios):.2f}x to "
                     f"{max(ratios):.2f}x).")
    return " ".join(notes)
