"""``foldkit predict --msa-server http://127.0.0.1:PORT`` end to end against the local ColabFold API server.

The server (tests/msa/server/fake_server.py) answers with hits cut from the
AlphaFold2 pipeline reference case mono_full_templates (a Fab heavy chain)
and mono_no_templates (CASP14 T1027), shortened to 60 and 40 residues so that
the tiny random-weight model runs in seconds; its template endpoint serves the
miniature pdb70 and mmCIF files. It counts every request, so the tests can
check that a rerun or a resumed run sends nothing new.
"""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest

from foldkit import cli
from foldkit.features.config import FeatureConfig
from foldkit.features.process import process_features
from foldkit.features.raw import make_msa_features
from foldkit.io.fasta import read_fasta
from foldkit.io.msa_files import Msa, merge_msas, read_a3m, read_stockholm
from foldkit.msa.server import ServerSettings
from foldkit.predict import resolve_models
from tests.conftest import AF2_REFERENCE
from tests.msa.server.fake_server import FakeColabFoldServer
from tests.msa.server.reference_data import SequenceHits, hit_rows, m8_from_hhr, mmcif_files, pdb70_entries
from tests.predict.helpers import make_tiny_params_dir

PIPELINE = AF2_REFERENCE / "pipeline"
CASES = {"vh": ("mono_full_templates", 60), "t1027": ("mono_no_templates", 40)}
FAST = ServerSettings(poll_interval=0.0, poll_jitter=0.0, retry_delay=0.0, backoff_initial=0.0, max_retries=2,
                      max_backoffs=4, request_timeout=10.0, download_timeout=10.0)
PER_RECORD = ("ranked_0.pdb", "ranked_0.cif", "model_tiny_ptm_seed_0.pdb", "scores_model_tiny_ptm_seed_0.json",
              "pae_model_tiny_ptm_seed_0.json", "ranking_debug.json", "timings.json", "features.npz", "msa.a3m",
              "plddt.png", "msa_coverage.png", "finished.json")
HAS_TEMPLATE_TOOLS = all(shutil.which(b) for b in ("hhsearch", "kalign"))


def _cut(msa: Msa, width: int) -> Msa:
    """The first ``width`` columns (rows without a residue there dropped), as a server would align a shorter query."""
    keep = [i for i, row in enumerate(msa.sequences) if i == 0 or row[:width].strip("-")]
    return Msa(tuple(msa.sequences[i][:width] for i in keep), tuple(msa.deletion_matrix[i][:width] for i in keep),
               tuple(msa.descriptions[i] for i in keep))


def _case_hits(case: str, width: int) -> tuple[str, SequenceHits, Msa, Msa]:
    """(query, server answers, UniRef part, environmental part) of a reference case cut to ``width`` residues."""
    folder = PIPELINE / case
    full = read_fasta(folder / "input.fasta")[0].sequence
    msas = folder / "msas"
    uniref = _cut(read_stockholm(msas / "uniref90_hits.sto", query_sequence=full), width)
    if (msas / "bfd_uniref_hits.a3m").is_file():
        bfd = read_a3m(msas / "bfd_uniref_hits.a3m", query_sequence=full)
    else:
        bfd = read_stockholm(msas / "small_bfd_hits.sto", query_sequence=full)
    env = merge_msas([_cut(bfd, width), _cut(read_stockholm(msas / "mgnify_hits.sto", query_sequence=full), width)])
    m8 = m8_from_hhr(msas / "pdb_hits.hhr") if (msas / "pdb_hits.hhr").is_file() else ()
    return full[:width], SequenceHits(hit_rows(uniref), hit_rows(env), m8), uniref, env


@pytest.fixture(scope="module")
def cases():
    return {name: _case_hits(case, width) for name, (case, width) in CASES.items()}


@pytest.fixture(scope="module")
def params(tmp_path_factory):
    return make_tiny_params_dir(tmp_path_factory.mktemp("server_params") / "params")


@pytest.fixture
def server(cases):
    data = PIPELINE / "data"
    with FakeColabFoldServer({seq: hits for seq, hits, _, _ in cases.values()},
                             templates=pdb70_entries(data), cifs=mmcif_files(data)) as running:
        yield running


def fast_client(monkeypatch, sleep=None):
    """Every fetch_server_msas call of the CLI with short waits (and, given, an injected sleep)."""
    from foldkit.msa.server import fetch as fetch_module

    original = fetch_module.fetch_server_msas

    def fast(*args, **kwargs):
        kwargs["settings"] = FAST
        if sleep is not None:
            kwargs["sleep"] = sleep
        return original(*args, **kwargs)

    monkeypatch.setattr(fetch_module, "fetch_server_msas", fast)
    monkeypatch.setattr("foldkit.msa.server.fetch_server_msas", fast)


def write_fasta(path, cases, names):
    path.write_text("".join(f">{name} test record\n{cases[name][0]}\n" for name in names))
    return path


def predict(fasta, out, params, *extra):
    return cli.main(["predict", str(fasta), "-o", str(out), "--params-dir", str(params), "--num-recycle", "0",
                     "--models-to-relax", "none", *extra])


def test_predict_with_server_msas_then_rerun_sends_nothing(server, cases, params, tmp_path, capsys, monkeypatch):
    fast_client(monkeypatch)
    fasta = write_fasta(tmp_path / "in.fasta", cases, ["vh", "t1027"])
    out = tmp_path / "out"
    assert predict(fasta, out, params, "--msa-server", server.url) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"msa-server: sending 2 sequence(s) of 2 record(s) to {server.url}"
    # one MSA job for both records, UniRef30 + environmental databases, no template download
    assert server.counts["submit_msa"] == 1 and server.counts["download"] == 1 and server.counts["template"] == 0
    endpoint, mode, query = server.submitted[0]
    assert (endpoint, mode) == ("ticket/msa", "env")
    assert query == f">101\n{cases['t1027'][0]}\n>102\n{cases['vh'][0]}\n"     # shortest record first

    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert [row["id"] for row in rows] == ["vh", "t1027"]
    for name, (sequence, _, uniref, env) in cases.items():
        record = out / name
        for file in PER_RECORD:
            assert (record / file).is_file(), (name, file)
        # the downloaded A3M entries are kept in the record's MSA folder
        entries = list((record / "msas" / "server").glob("env_*"))
        assert len(entries) == 1
        for file in ("uniref.a3m", "bfd.mgnify30.metaeuk30.smag30.a3m", "pdb70.m8", "source.json"):
            assert (entries[0] / file).is_file(), (name, file)
        assert not list((record / "msas" / "server").glob("ticket_*"))
        # the server's rows (UniRef first, then environmental, duplicates dropped) feed the usual featurization
        expected = merge_msas([uniref, env])
        written = read_a3m(record / "msa.a3m", query_sequence=sequence)
        assert written.sequences == expected.sequences and len(written) > 20
        assert written.descriptions[0] == name
        with np.load(record / "features.npz") as features:
            np.testing.assert_array_equal(features["msa"], make_msa_features([expected])["msa"])
            np.testing.assert_array_equal(features["deletion_matrix_int"],
                                          make_msa_features([expected])["deletion_matrix_int"])
            assert not any(key.startswith("template_") for key in features.files)
        scores = json.loads((record / "scores_model_tiny_ptm_seed_0.json").read_text())
        assert scores["msa_mode"] == "mmseqs2_uniref_env"
        settings = json.loads((record / "finished.json").read_text())["settings"]
        assert settings["msa_mode"] == "mmseqs2_uniref_env"
        assert settings["msa_server"] == {"url": server.url, "templates": False, "max_template_date": None}

    # the same command again: every record is finished, nothing is sent
    server.reset_counts()
    assert predict(fasta, out, params, "--msa-server", server.url) == 0
    err = capsys.readouterr().err
    assert sum(server.counts.values()) == 0
    assert err.splitlines()[0] == f"msa-server: every record is finished; nothing is sent to {server.url}"
    assert err.count("already finished") == 2

    # a record left unfinished (killed while predicting) is redone from the cached MSAs: nothing is sent
    (out / "vh" / "finished.json").unlink()
    assert predict(fasta, out, params, "--msa-server", server.url) == 0
    err = capsys.readouterr().err
    assert sum(server.counts.values()) == 0 and (out / "vh" / "finished.json").is_file()
    assert err.splitlines()[0] == (f"msa-server: all 1 record(s) found in the cache; no sequence is sent to "
                                   f"{server.url}")
    assert "t1027 (40 aa): already finished" in err

    # another server or UniRef30 only is another MSA: the finished records are not mixed with it
    assert predict(fasta, out, params, "--msa-server", server.url, "--msa-server-uniref-only") == 2
    assert "msa_mode: 'mmseqs2_uniref_env' -> 'mmseqs2_uniref'" in capsys.readouterr().err
    assert sum(server.counts.values()) == 0


@pytest.mark.skipif(not HAS_TEMPLATE_TOOLS, reason="HH-suite/kalign not installed (.ci/run installs them)")
def test_interrupted_run_resumes_its_ticket_with_templates(server, cases, params, tmp_path, capsys, monkeypatch):
    """Ctrl-C while the server job runs: the ticket is kept; the rerun polls it (no new job) and uses templates."""
    def interrupt(seconds):
        raise KeyboardInterrupt

    fasta = write_fasta(tmp_path / "in.fasta", cases, ["vh"])
    out = tmp_path / "out"
    server.scripts.poll = ["RUNNING"]
    fast_client(monkeypatch, sleep=interrupt)
    assert predict(fasta, out, params, "--msa-server", server.url, "--templates") == 130
    assert "interrupted" in capsys.readouterr().err
    assert server.counts["submit_msa"] == 1 and server.counts["download"] == 0
    cache = out / "vh" / "msas" / "server"
    assert len(list(cache.glob("ticket_*.json"))) == 1
    assert sorted(p.name for p in (out / "vh").iterdir()) == ["msas"] and not (out / "summary.csv").exists()

    server.reset_counts()
    fast_client(monkeypatch)
    assert predict(fasta, out, params, "--msa-server", server.url, "--templates") == 0
    err = capsys.readouterr().err
    assert server.counts["submit_msa"] == 0 and server.counts["status"] >= 1
    assert server.counts["download"] == 1 and server.counts["template"] == 1
    assert not list(cache.glob("ticket_*.json"))
    record = out / "vh"
    for file in PER_RECORD:
        assert (record / file).is_file(), file
    entry = next(cache.glob("env_*"))
    assert (entry / "templates" / "1igy.cif").is_file() and (entry / "templates" / "pdb70_a3m.ffindex").is_file()
    hhr = (cache / "templates_pdb70.hhr").read_text()
    assert hhr.startswith("Query") and "1igy_B" in hhr
    assert "templates: hhsearch on the server's pdb70 subset:" in err
    with np.load(record / "features.npz") as features:
        names = [str(name) for name in features["template_domain_names"]]
        assert "1igy_B" in names and len(names) <= 20
        assert features["template_all_atom_positions"].shape == (len(names), 60, 37, 3)
        assert features["template_aatype"].shape == (len(names), 60, 22)
        assert features["template_all_atom_masks"].sum() > 0
        raw = {key: features[key] for key in features.files}
    # the model (model_1_ptm's config, which uses templates) receives them
    feature_config = FeatureConfig.from_data_config(resolve_models(params)[0].data_tree, num_recycle=0)
    assert feature_config.use_templates
    processed = process_features(raw, feature_config, 0)
    assert processed["template_mask"].sum() == min(len(names), feature_config.max_templates) > 0
    timings = json.loads((record / "timings.json").read_text())
    assert {"msa", "templates", "features"} <= set(timings)
    settings = json.loads((record / "finished.json").read_text())["settings"]
    assert settings["msa_server"] == {"url": server.url, "templates": True, "max_template_date": None}

    # --overwrite with a release-date cut-off: nothing is sent; 1igy (released 1998-04-15) is no template now
    server.reset_counts()
    assert predict(fasta, out, params, "--msa-server", server.url, "--templates", "--max-template-date",
                   "1997-12-31", "--overwrite") == 0
    assert sum(server.counts.values()) == 0
    assert "found in the cache; no sequence is sent" in capsys.readouterr().err
    with np.load(record / "features.npz") as features:
        dated = [str(name) for name in features["template_domain_names"]]
    assert "1igy_B" not in dated and set(dated) < set(names)
    settings = json.loads((record / "finished.json").read_text())["settings"]
    assert settings["msa_server"]["max_template_date"] == "1997-12-31"


@pytest.mark.parametrize("script, message", [
    (("submit", ["HTML"]), "submitting: the server did not answer with a job status but HTTP 200 (text/html)"),
    (("poll", ["ERROR"]), "answered ERROR (the server could not run the job"),
])
def test_server_errors_are_one_line_exit_2_and_leave_no_record(server, cases, params, tmp_path, capsys,
                                                               monkeypatch, script, message):
    fast_client(monkeypatch)
    fasta = write_fasta(tmp_path / "in.fasta", cases, ["vh", "t1027"])
    setattr(server.scripts, script[0], list(script[1]))
    assert predict(fasta, tmp_path / "out", params, "--msa-server", server.url) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"msa-server: sending 2 sequence(s) of 2 record(s) to {server.url}"
    assert err[-1].startswith(f"foldkit predict: error: MSA server {server.url}: MSA job (env, 2 sequences) for "
                              "records t1027, vh") and message in err[-1]
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "out").exists()          # no ticket to resume: the folders made for it are gone


def test_failed_download_keeps_the_ticket_and_the_rerun_downloads_it(server, cases, params, tmp_path, capsys,
                                                                     monkeypatch):
    fast_client(monkeypatch)
    fasta = write_fasta(tmp_path / "in.fasta", cases, ["vh", "t1027"])
    out = tmp_path / "out"
    server.scripts.download = ["cut"] * (FAST.max_retries + 1)      # every attempt ends early
    assert predict(fasta, out, params, "--msa-server", server.url) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"foldkit predict: error: MSA server {server.url}: ") and "Traceback" not in err
    assert server.counts["submit_msa"] == 1 and server.counts["download"] == FAST.max_retries + 1
    # no half-written record: each record folder holds only the saved ticket
    for name in ("vh", "t1027"):
        assert [p.relative_to(out / name).as_posix() for p in sorted((out / name).rglob("*")) if p.is_file()] \
            == [f"msas/server/{next((out / name / 'msas' / 'server').glob('ticket_*')).name}"]
    assert not (out / "summary.csv").exists()

    server.reset_counts()
    assert predict(fasta, out, params, "--msa-server", server.url) == 0
    assert server.counts["submit_msa"] == 0 and server.counts["download"] == 1
    for name in ("vh", "t1027"):
        assert (out / name / "finished.json").is_file() and not list((out / name / "msas" / "server").glob("ticket_*"))


def test_msa_server_option_combinations(params, tmp_path, capsys):
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">q\nMKTAYIAKQRQISFVKSHFSRQ\n")
    out = tmp_path / "out"
    url = "http://127.0.0.1:9"
    cases = [
        (["--msa-server", url, "--msa", str(fasta)], "give only one MSA source, not --msa and --msa-server"),
        (["--msa-server", url, "--db", str(fasta)], "give only one MSA source, not --db and --msa-server"),
        (["--msa-server", url, "--single-sequence"], "not --single-sequence and --msa-server"),
        (["--msa-server", url, "--af2-data-dir", str(tmp_path)],
         "give --msa-server or AlphaFold2's databases (--af2-data-dir), not both"),
        (["--msa-server", url, "--uniref90", str(fasta)], "(--uniref90), not both"),
        (["--msa-server", url, "--use-precomputed-msas"], "--use-precomputed-msas belongs to the AlphaFold2"),
        (["--templates"], "--templates needs --msa-server"),
        (["--msa-server-uniref-only"], "--msa-server-uniref-only needs --msa-server"),
        (["--msa-server", url, "--max-template-date", "2020-01-01"], "add --templates"),
        (["--msa-server", url, "--templates", "--max-template-date", "2020-13-01"], "not a date"),
        (["--msa-server", "ftp://example.org"], "expected an http:// or https:// URL"),
        (["--msa-server", url, "--templates", "--hhsearch-binary", str(tmp_path / "none")],
         "--hhsearch-binary"),
    ]
    for extra, message in cases:
        assert predict(fasta, out, params, *extra) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], (extra, err)
    assert not out.exists()


def test_bare_option_before_the_fasta_means_the_public_server(params, tmp_path, monkeypatch):
    """``foldkit predict --msa-server in.fasta -o out``: the FASTA goes back to its place, the URL is the default."""
    from foldkit.msa.server import DEFAULT_SERVER_URL
    from foldkit.predict import server_msas

    seen = {}

    def record_call(self, pending, outdir=None):
        seen["url"], seen["records"] = self.source.url, [record.query.id for record, _ in pending]
        raise KeyboardInterrupt              # stop before anything is sent

    monkeypatch.setattr(server_msas.ServerRecordInputs, "fetch", record_call)
    fasta = tmp_path / "in.fasta"
    fasta.write_text(">q\nMKTAYIAKQRQISFVKSHFSRQ\n")
    assert cli.main(["predict", "--msa-server", str(fasta), "-o", str(tmp_path / "out"), "--params-dir",
                     str(params)]) == 130
    assert seen == {"url": DEFAULT_SERVER_URL, "records": ["q"]}
