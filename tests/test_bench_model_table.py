"""benchmarks/bench_model.py: the result tables (CPU and accelerator runs, failed configurations, AlphaFold's
multimer reference rows and ratios, RESULTS.md rebuilt from a log)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str = "bench_model"):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
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
    features = _module("bench_model_multimer").synthetic_multimer_features(3, 5, num_rows=7, num_templates=2)
    assert features["msa"].shape == (7, 15) and list(features["asym_id"]) == [1] * 5 + [2] * 5 + [3] * 5
    assert features["template_all_atom_positions"].shape == (2, 15, 37, 3)


SETTINGS = {"msa": 64, "extra": 256, "templates": 4, "recycles": 3}


def _side_by_side_log() -> list[dict]:
    """A --reference-python run's log at 2x64: foldkit off / chunk 8, then AlphaFold off / subbatch 8."""
    ours = {"length": 128, "complex": "2x64", "bfloat16": False, **SETTINGS, "peak_rss_gib": 1.5,
            "rss_run_peak_gib": 1.4, "rss_ready_gib": 0.7}
    ref = {"tool": "alphafold-colabfold 2.3.6", "complex": "2x64", "length": 128, **SETTINGS, "reference": True,
           "rss_ready_gib": 0.9, "rss_run_peak_gib": 2.0}
    return [dict(ours, chunk_size=None, compile_s=20.4, predict_s_min=100.0),
            dict(ours, chunk_size=8, compile_s=25.0, predict_s_min=150.0),
            dict(ref, chunk_size=None, subbatch_size=None, compile_s=60.2, predict_s_min=200.0, peak_rss_gib=2.25),
            dict(ref, chunk_size=8, subbatch_size=8, compile_s=70.0, predict_s_min=180.0, peak_rss_gib=1.75)]


def test_reference_rows_and_ratios():
    bench = _module()
    records = _side_by_side_log()
    lines = bench.format_table(records).splitlines()
    assert lines[0].startswith("| tool | L | chunk | compile (s) | s / prediction | peak RSS (GiB)")
    assert lines[2] == "| foldkit | 2x64 (128) | off | 20 | 100.0 | 1.50 | 1.40 | 0.70 |"
    assert lines[4] == "| AlphaFold, colabfold 2.3.6 | 2x64 (128) | off | 60 | 200.0 | 2.25 | 2.00 | 0.90 |"
    ratios = bench.format_ratio_table(records).splitlines()
    assert ratios[0].startswith("| NxL | chunk | foldkit compile (s) | AlphaFold compile (s)")
    assert ratios[2] == "| 2x64 (128) | off | 20 | 60 | 100.0 | 200.0 | 2.00x | 1.50 | 2.25 |"
    assert ratios[3] == "| 2x64 (128) | 8 | 25 | 70 | 150.0 | 180.0 | 1.20x | 1.50 | 1.75 |"
    summary = bench.multimer_summary(records)
    assert "2x64 unchunked: AlphaFold 200 s, foldkit 100 s per prediction: foldkit is 2.00x" in summary
    assert "NOT met in these runs (ratios 1.20x to 2.00x)" in summary
    faster = [dict(r, predict_s_min=100.0) if r.get("chunk_size") == 8 and not r.get("reference") else r
              for r in records]
    assert "met in these runs (ratios 1.80x to 2.00x)" in bench.multimer_summary(faster)
    # a reference run at other settings, a failed one, or a bf16 foldkit run is never paired
    mismatched = [records[0], dict(records[1], bfloat16=True), dict(records[2], recycles=0),
                  dict(records[3], error="killed")]
    assert len(bench.format_ratio_table(mismatched).splitlines()) == 2
    assert "failed: killed" in bench.format_table(mismatched)


def test_from_log_rebuilds_the_multimer_section(tmp_path):
    bench = _module()
    log = tmp_path / "run.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in _side_by_side_log()))
    earlier = tmp_path / "earlier.jsonl"
    earlier.write_text(json.dumps(dict(_side_by_side_log()[0], complex="2x128", length=256, predict_s_min=977.0))
                       + "\n")
    results = tmp_path / "RESULTS.md"
    results.write_text("# foldkit benchmark results\n\n## Multimer model\n\nold\n\n## Other\n\nkept\n")
    assert bench.main(["--from-log", str(log), "--write-results", str(results),
                       "--earlier-log", str(earlier), "Earlier run (load 5-8), no reference:"]) == 0
    text = results.read_text()
    section = text.split("## Multimer model\n", 1)[1].split("## Other", 1)[0]
    assert "\nold\n" not in section and text.endswith("## Other\n\nkept\n")
    assert "| AlphaFold, colabfold 2.3.6 | 2x64 (128) | 8 | 70 | 180.0 | 1.75 | 2.00 | 0.90 |" in section
    assert "| 2x64 (128) | 8 | 25 | 70 | 150.0 | 180.0 | 1.20x | 1.50 | 1.75 |" in section
    assert "NOT met" in section and "`global_config.subbatch_size`" in section
    earlier_part = section.split("Earlier run (load 5-8), no reference:", 1)[1]
    assert "| 2x128 (256) | off | 20 | 977.0 | 1.50 | 1.40 | 0.70 |" in earlier_part
