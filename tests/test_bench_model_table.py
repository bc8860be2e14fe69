"""benchmarks/bench_model.py: the result tables (CPU and accelerator runs, failed configurations)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_model.py"


def _module():
    spec = importlib.util.spec_from_file_location("bench_model", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_and_accelerator_tables():
    bench = _module()
    cpu = {"length": 64, "chunk_size": None, "compile_s": 12.3, "predict_s_min": 33.94, "peak_rss_gib": 1.361,
           "rss_run_peak_gib": 1.21, "rss_ready_gib": 0.73}
    failed = {"length": 256, "chunk_size": 8, "error": "MemoryError"}
    lines = bench.format_table([cpu, failed]).splitlines()
    assert lines[0].startswith("| L | chunk | compile (s)") and len(lines) == 4
    assert lines[2] == "| 64 | off | 12 | 33.9 | 1.36 | 1.21 | 0.73 |"
    assert lines[3] == "| 256 | 8 | failed: MemoryError |  |  |  |  |"
    gpu = dict(cpu, device="NVIDIA H200", bfloat16=True, predict_s_min=0.4581, device_peak_gib=1.2251)
    lines = bench.format_table([gpu]).splitlines()
    assert lines[0].startswith("| device | L | precision | chunk")
    assert lines[2] == "| NVIDIA H200 | 64 | bf16 | off | 12.3 | 0.458 | 1.23 |"


def test_multimer_sizes_in_the_table():
    bench = _module()
    record = {"length": 256, "complex": "2x128", "chunk_size": 8, "compile_s": 40.2, "predict_s_min": 812.34,
              "peak_rss_gib": 2.5, "rss_run_peak_gib": 2.25, "rss_ready_gib": 0.8}
    failed = {"length": 300, "complex": "3x100", "chunk_size": None, "error": "MemoryError"}
    lines = bench.format_table([record, failed]).splitlines()
    assert lines[2] == "| 2x128 (256) | 8 | 40 | 812.3 | 2.50 | 2.25 | 0.80 |"
    assert lines[3].startswith("| 3x100 (300) | off | failed: MemoryError")
    features = bench.synthetic_multimer_features(3, 5, num_rows=7, num_templates=2)
    assert features["msa"].shape == (7, 15) and list(features["asym_id"]) == [1] * 5 + [2] * 5 + [3] * 5
    assert features["template_all_atom_positions"].shape == (2, 15, 37, 3)
