"""The HH-suite wrapper: AlphaFold2's commands, missing binaries, failures and timeouts."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from foldkit.errors import FoldkitError
from foldkit.msa import hhsuite
from tests.msa.af2_data import DATA_DIR, PIPELINE, case_json, query_of


def _placeholders(command: list[str], mapping: dict[str, str]) -> str:
    return " ".join(mapping.get(word, word) for word in command)


def test_commands_are_alphafold2s():
    settings = case_json("mono_full_templates")["tool_settings"]
    hhblits = hhsuite.hhblits_command("hhblits", Path("Q"), [Path("B"), Path("U")], Path("O"),
                                      hhsuite.HHblitsSettings(), cpus=4)
    assert _placeholders(hhblits, {"Q": "<query.fasta>", "O": "<out.a3m>", "B": "<bfd>", "U": "<uniref30>"}) == \
        settings["hhblits (full_dbs)"]["command"]
    hhsearch = hhsuite.hhsearch_command("hhsearch", Path("Q"), Path("P"), Path("O"), hhsuite.HHsearchSettings(),
                                        cpus=2)
    assert _placeholders(hhsearch, {"Q": "<query.a3m>", "O": "<out.hhr>", "P": "<pdb70>"}) == \
        settings["hhsearch (monomer templates)"]["command"]
    # fewer cores than AlphaFold2's -cpu 4: the thread count follows (it does not change the results)
    assert hhsuite.hhblits_command("hhblits", Path("Q"), [Path("B")], Path("O"), hhsuite.HHblitsSettings(),
                                   cpus=1)[4] == "1"


def test_simd_dispatch_link_runs_the_program_the_script_would(tmp_path, monkeypatch):
    libexec = tmp_path / "libexec" / "hhsuite"
    libexec.mkdir(parents=True)
    (tmp_path / "bin").mkdir()
    dispatch = libexec / "simd-dispatch"
    dispatch.write_text("#!/bin/bash\n")
    (tmp_path / "bin" / "hhsearch").symlink_to(dispatch)
    for name in ("hhsearch-avx2", "hhsearch-sse4.1", "hhsearch-plain"):
        (libexec / name).write_text("#!/bin/sh\n")
        (libexec / name).chmod(0o755)
    link = str(tmp_path / "bin" / "hhsearch")
    monkeypatch.setattr(hhsuite, "_cpuinfo", lambda: "flags\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx avx2\n")
    assert hhsuite.simd_binary(link) == str(libexec / "hhsearch-avx2")
    monkeypatch.setattr(hhsuite, "_cpuinfo", lambda: "flags\t: fpu sse sse2 ssse3 sse4_1\n")
    assert hhsuite.simd_binary(link) == str(libexec / "hhsearch-sse4.1")      # grep's "." matches the "_"
    monkeypatch.setattr(hhsuite, "_cpuinfo", lambda: "flags\t: fpu\n")
    assert hhsuite.simd_binary(link) == str(libexec / "hhsearch-plain")
    script = tmp_path / "bin" / "kalign"
    script.write_text("#!/bin/sh\n")
    assert hhsuite.simd_binary(str(script)) == str(script)       # not the dispatch script: unchanged


@pytest.mark.skipif(shutil.which("hhsearch") is None or
                    Path(shutil.which("hhsearch")).resolve().name != "simd-dispatch",
                    reason="HH-suite not installed as Debian's package")
def test_simd_binary_writes_what_the_dispatch_script_writes(tmp_path):
    query = (PIPELINE / "mono_reduced_datefilter" / "input.fasta").read_text()
    database = DATA_DIR / "pdb70" / "pdb70"
    direct = hhsuite.hhsearch(shutil.which("hhsearch"), query, database, cpus=1, timeout=120)
    assert direct.command[0] == hhsuite.simd_binary(shutil.which("hhsearch")) != shutil.which("hhsearch")
    (tmp_path / "query.fasta").write_text(query)
    hhsuite.run_binary([shutil.which("hhsearch"), "-i", tmp_path / "query.fasta", "-o", tmp_path / "out.hhr",
                        "-maxseq", "1000000", "-cpu", "1", "-d", database], "hhsearch", timeout=120)
    kept = lambda text: [line for line in text.splitlines() if not line.startswith(("Date", "Command"))]  # noqa: E731
    assert kept(direct.text) == kept((tmp_path / "out.hhr").read_text())


def test_missing_binary_names_option_and_installation(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FoldkitError) as error:
        hhsuite.find_binary("hhblits", None, "the BFD/UniRef30 search")
    message = str(error.value)
    assert "--hhblits-binary" in message and "bioconda hhsuite" in message and "apt-get install hhsuite" in message
    with pytest.raises(FoldkitError, match="--kalign-binary /nope/kalign: not an executable"):
        hhsuite.find_binary("kalign", "/nope/kalign", "template realignment")


def test_failure_and_timeout_name_the_binary(tmp_path):
    script = tmp_path / "fake_hhblits"
    script.write_text("#!/bin/sh\necho '- 12:00:00.000 ERROR: could not open file db_cs219.ffdata' >&2\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(FoldkitError, match=r"hhblits failed with exit code 1: .*could not open file db_cs219"):
        hhsuite.run_binary([str(script)], "hhblits")
    sleeper = tmp_path / "slow"
    sleeper.write_text("#!/bin/sh\nsleep 5\n")
    sleeper.chmod(0o755)
    with pytest.raises(FoldkitError, match="hhsearch did not finish within 0 s"):
        hhsuite.run_binary([str(sleeper)], "hhsearch", timeout=0.2)


@pytest.mark.skipif(shutil.which("hhsearch") is None, reason="HH-suite not installed (.ci/run installs it)")
def test_hhsearch_on_a_broken_database_is_one_error(tmp_path):
    for part in ("a3m", "hhm", "cs219"):
        for kind in ("ffindex", "ffdata"):
            (tmp_path / f"broken_{part}.{kind}").write_text("garbage\n")
    with pytest.raises(FoldkitError, match="^hhsearch failed"):
        hhsuite.hhsearch(shutil.which("hhsearch"), ">q\nMKV\n", tmp_path / "broken", timeout=60)


@pytest.mark.skipif(shutil.which("hhblits") is None, reason="HH-suite not installed (.ci/run installs it)")
def test_hhblits_output_equals_alphafold2s():
    query = query_of("mono_no_templates")
    databases = [DATA_DIR / "bfd" / "bfd_metaclust_clu_complete_id30_c90_final_seq.sorted_opt",
                 DATA_DIR / "uniref30" / "UniRef30_2021_03"]
    run = hhsuite.hhblits(shutil.which("hhblits"), f">{query.name} {query.description}\n{query.sequence}\n",
                          databases, cpus=min(2, os.cpu_count() or 1))
    assert run.text == (PIPELINE / "mono_no_templates" / "msas" / "bfd_uniref_hits.a3m").read_text()
    assert "-oa3m" in run.command and "-maxres" in run.command and run.seconds > 0
