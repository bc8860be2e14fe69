"""AlphaFold2's input pipeline: reuse of search outputs, AlphaFold2's own folders, bad files, `foldkit msa`."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
import shutil

import numpy as np
import pytest

from foldkit import cli
from foldkit.errors import InputError
from foldkit.msa import af2_files
from foldkit.msa.af2_pipeline import Af2InputPipeline, Af2Settings, plan_searches
from foldkit.msa.databases import resolve_databases
from tests.msa.af2_data import DATA_DIR, PIPELINE, case_json, copy_msas, have_binaries, query_of

pytestmark = pytest.mark.skipif(not have_binaries(), reason="HH-suite/kalign not installed (.ci/run installs them)")


def _settings(case: str, **changes) -> Af2Settings:
    data = case_json(case)
    databases = resolve_databases(DATA_DIR, data["db_preset"])
    return Af2Settings(databases, max_template_date=datetime.date.fromisoformat(data["max_template_date"]),
                       cpus=2, **changes)


def _run(case: str, msa_dir, **changes):
    lines: list[str] = []
    result = Af2InputPipeline(_settings(case, **changes), log=lines.append).run(query_of(case), msa_dir)
    return result, lines


def _assert_reference_features(case: str, raw: dict) -> None:
    with np.load(PIPELINE / case / "raw_features.npz") as reference:
        for name in reference.files:
            assert raw[name].dtype == reference[name].dtype, name
            if name == "template_all_atom_positions":
                np.testing.assert_allclose(raw[name], reference[name], atol=1e-4, rtol=0)
            else:
                np.testing.assert_array_equal(raw[name], reference[name], err_msg=name)


def test_search_then_rerun_repeats_no_search(tmp_path):
    """reduced_dbs: four searches on two cores, one progress line each; a rerun reuses every file."""
    case = "mono_reduced_datefilter"
    first, lines = _run(case, tmp_path / "msas")
    assert sorted(first.searched) == ["mgnify_hits.sto", "pdb_hits.hhr", "small_bfd_hits.sto", "uniref90_hits.sto"]
    progress = [line for line in lines if re.match(r"^\w+: (jackhmmer|hhsearch) on .*: \d+ hits, [\d.]+ s", line)]
    assert len(progress) == 4
    assert all(int(re.search(r"\((\d+) thread", line).group(1)) <= 2 for line in progress)   # --cpu bounds them
    assert {"search_uniref90", "search_mgnify", "search_small_bfd", "search_pdb70", "templates",
            "features"} <= set(first.timings)
    _assert_reference_features(case, first.raw_features)
    recorded = json.loads((tmp_path / "msas" / af2_files.SEARCHES_JSON).read_text())
    assert set(recorded) == set(first.searched)

    again, lines = _run(case, tmp_path / "msas")
    assert again.searched == [] and sum("reusing" in line for line in lines) == 4
    _assert_reference_features(case, again.raw_features)

    # another MGnify limit changes only what MGnify's file depends on: only that search runs again
    changed, _ = _run(case, tmp_path / "msas", mgnify_max_hits=10)
    assert changed.searched == ["mgnify_hits.sto"]
    assert len(changed.msa) < len(first.msa)


def test_alphafold2_written_folder_is_reused_without_search(tmp_path, monkeypatch):
    """--use-precomputed-msas on a copy of AlphaFold2's own msas/: no search, no binary but kalign needed."""
    case = "mono_full_templates"
    msa_dir = copy_msas(case, tmp_path / "msas")
    result, lines = _run(case, msa_dir, use_precomputed_msas=True)
    assert result.searched == [] and sum("--use-precomputed-msas" in line for line in lines) == 4
    assert result.template_log == case_json(case)["template_processing_log"]
    _assert_reference_features(case, result.raw_features)


def test_missing_file_is_searched_under_precomputed(tmp_path):
    case = "mono_no_templates"
    msa_dir = copy_msas(case, tmp_path / "msas")
    (msa_dir / "mgnify_hits.sto").unlink()
    result, _ = _run(case, msa_dir, use_precomputed_msas=True)
    assert result.searched == ["mgnify_hits.sto"]
    assert (msa_dir / "mgnify_hits.sto").read_text() == (PIPELINE / case / "msas" / "mgnify_hits.sto").read_text()


@pytest.mark.parametrize("name, damage, message", [
    ("uniref90_hits.sto", lambda t: t[: len(t) // 2], r"uniref90_hits.sto, line \d+: truncated Stockholm"),
    ("mgnify_hits.sto", lambda t: t.replace("\n\n", "\nbroken line here\n", 2),
     r"mgnify_hits.sto, line \d+: expected 'name aligned_sequence'"),
    ("bfd_uniref_hits.a3m", lambda t: t.replace("\n", "\n1234\n", 3), r"bfd_uniref_hits.a3m, .*line \d+"),
    ("pdb_hits.hhr", lambda t: t[: len(t) // 3], r"pdb_hits.hhr"),
])
def test_malformed_precomputed_file_is_one_input_error(tmp_path, name, damage, message):
    case = "mono_full_templates"
    msa_dir = copy_msas(case, tmp_path / "msas")
    (msa_dir / name).write_text(damage((msa_dir / name).read_text()))
    with pytest.raises(InputError, match=message) as error:
        af2_files.validate_msa_folder(msa_dir, query_of(case).sequence)
    assert "\n" not in str(error.value)


def test_custom_templates_replace_pdb70(tmp_path):
    structures = tmp_path / "structures"
    structures.mkdir()
    for entry in ("1ncb", "4i39"):
        shutil.copyfile(DATA_DIR / "pdb_mmcif" / "mmcif_files" / f"{entry}.cif", structures / f"{entry}.cif")
    settings = _settings("mono_reduced_datefilter", custom_templates=structures)
    assert [s.key for s in plan_searches(settings)][-1] == "custom_templates"
    result = Af2InputPipeline(settings, log=lambda _: None).run(query_of("mono_reduced_datefilter"),
                                                                tmp_path / "msas")
    names = set(result.raw_features["template_domain_names"])
    assert names and names <= {"1ncb_H", "1ncb_N", "1ncb_L", "4i39_A"}
    assert (tmp_path / "msas" / af2_files.CUSTOM_TEMPLATES_STO).is_file()
    assert not (tmp_path / "msas" / "pdb_hits.hhr").exists()


def test_settings_need_uniref90_for_pdb70_templates():
    databases = resolve_databases(None, None, {"mgnify": DATA_DIR / "mgnify" / "mgy_clusters_2022_05.fa",
                                               "pdb70": DATA_DIR / "pdb70" / "pdb70",
                                               "template_mmcif_dir": DATA_DIR / "pdb_mmcif" / "mmcif_files"})
    with pytest.raises(InputError, match="templates need the UniRef90 search"):
        Af2Settings(databases).check()
    assert dataclasses.replace(Af2Settings(databases), use_precomputed_msas=False).msa_mode == "af2_full_dbs"


# --------------------------------------------------------------------------- foldkit msa

def _msa(tmp_path, *extra):
    return cli.main(["msa", str(PIPELINE / "mono_no_templates" / "input.fasta"), "-o", str(tmp_path / "out"),
                     "--af2-data-dir", str(DATA_DIR), "--cpu", "2", *extra])


def test_msa_command_writes_alphafold2_folder_and_reruns_without_search(tmp_path, capsys):
    assert _msa(tmp_path, "--max-template-date", "1993-01-01") == 0
    folder = tmp_path / "out" / "T1027" / "msas"
    for name in ("uniref90_hits.sto", "mgnify_hits.sto", "bfd_uniref_hits.a3m", "pdb_hits.hhr"):
        assert (folder / name).is_file(), name
    assert (folder / "bfd_uniref_hits.a3m").read_text() == \
        (PIPELINE / "mono_no_templates" / "msas" / "bfd_uniref_hits.a3m").read_text()
    first = capsys.readouterr().err
    assert len(re.findall(r": \d+ hits, [\d.]+ s", first)) == 4
    assert _msa(tmp_path, "--max-template-date", "1993-01-01") == 0
    second = capsys.readouterr().err
    assert second.count("reusing") == 4 and " hits, " in second and "jackhmmer on" not in second


@pytest.mark.parametrize("extra, message", [
    (["--max-template-date", "2021-13-01"], "--max-template-date '2021-13-01' is not a date in the form YYYY-MM-DD"),
    (["--uniref90", "/nope/uniref90.fasta"], "/nope/uniref90.fasta: file not found (given with --uniref90)"),
    (["--db-preset", "reduced_dbs", "--bfd", str(DATA_DIR / "bfd" / "x")], "--bfd"),
    (["--iterations", "3"], "--iterations applies to the plain database search"),
])
def test_msa_command_bad_options_one_line_exit_2(tmp_path, capsys, extra, message):
    assert _msa(tmp_path, *extra) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_search_record_reuses_only_an_unchanged_file(tmp_path):
    record = af2_files.SearchRecord(tmp_path)
    described = {"tool": "jackhmmer", "query": "q"}
    record.write("uniref90_hits.sto", "# STOCKHOLM 1.0\n//\n", described)
    again = af2_files.SearchRecord(tmp_path)                       # a later run reads the JSON back
    assert again.matching_text("uniref90_hits.sto", described) == "# STOCKHOLM 1.0\n//\n"
    assert again.matching_text("uniref90_hits.sto", {**described, "query": "other"}) is None
    (tmp_path / "uniref90_hits.sto").write_text("# STOCKHOLM 1.0\n")   # replaced behind the record's back
    assert again.matching_text("uniref90_hits.sto", described) is None


def test_msa_only_databases_give_alphafold2s_empty_templates(tmp_path):
    databases = resolve_databases(None, None, {"uniref90": DATA_DIR / "uniref90" / "uniref90.fasta",
                                               "mgnify": DATA_DIR / "mgnify" / "mgy_clusters_2022_05.fa"})
    result = Af2InputPipeline(Af2Settings(databases, cpus=2), log=lambda _: None).run(
        query_of("mono_no_templates"), tmp_path / "msas")
    assert sorted(result.searched) == ["mgnify_hits.sto", "uniref90_hits.sto"]
    reference = np.load(PIPELINE / "mono_no_templates" / "raw_features.npz")
    for name in ("template_aatype", "template_domain_names", "template_all_atom_positions"):
        assert result.raw_features[name].shape == (0,)
        assert result.raw_features[name].dtype == reference[name].dtype


def test_bad_obsolete_file_fails_before_any_search(tmp_path):
    bad = tmp_path / "obsolete.dat"
    bad.write_text("OBSLTE    31-JAN-94\n")
    databases = resolve_databases(DATA_DIR, "reduced_dbs", {"obsolete_pdbs": bad})
    with pytest.raises(InputError, match="obsolete.dat"):
        Af2InputPipeline(Af2Settings(databases, cpus=2), log=lambda _: None)
