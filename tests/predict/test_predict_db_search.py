"""`foldkit predict --db`: jackhmmer search per record, saved beside the outputs and reused by later runs."""

from __future__ import annotations

import json

import numpy as np

from foldkit import cli
from foldkit.io.msa_files import read_a3m
from foldkit.predict import saved_search
from tests.predict.helpers import RECORDS, make_tiny_params_dir, write_fasta

QUERY = RECORDS["rec_b"]
AMINO = "ACDEFGHIKLMNPQRSTVWY"


def _database(path, extra: str = "") -> None:
    rng = np.random.default_rng(0)
    homologues = [QUERY[:3] + "W" + QUERY[4:], QUERY[4:-3], QUERY[:5] + "KL" + QUERY[5:]]
    decoys = ["".join(rng.choice(list(AMINO), size=60)) for _ in range(30)]
    records = [f">hom{k}\n{s}\n" for k, s in enumerate(homologues)] + [f">decoy{k}\n{s}\n" for k, s in enumerate(decoys)]
    path.write_text("".join(records) + extra)


def _predict(tmp_path, *extra):
    return cli.main(["predict", str(tmp_path / "in.fasta"), "-o", str(tmp_path / "out"), "--params-dir",
                     str(tmp_path / "params"), "--db", str(tmp_path / "db.fasta"), "--num-recycle", "0", *extra])


def test_search_is_saved_and_reused(tmp_path, capsys):
    write_fasta(tmp_path / "in.fasta", {"rec_b": QUERY})
    make_tiny_params_dir(tmp_path / "params")
    _database(tmp_path / "db.fasta")
    assert _predict(tmp_path) == 0
    record = tmp_path / "out" / "rec_b"
    msa = read_a3m(record / "msa.a3m")
    assert msa.sequences[0] == QUERY and len(msa) >= 3               # query + at least the two closest homologues
    assert {d.split('/')[0] for d in msa.descriptions[1:]} >= {"hom0", "hom1"}
    assert (record / saved_search.SEARCH_A3M).read_text() == (record / "msa.a3m").read_text()
    key = json.loads((record / saved_search.SEARCH_KEY).read_text())
    assert key["databases"][0]["path"] == str((tmp_path / "db.fasta").resolve())
    saved_mtime = (record / saved_search.SEARCH_A3M).stat().st_mtime_ns
    capsys.readouterr()

    # a redo of the record reads the saved search instead of searching again
    assert _predict(tmp_path, "--overwrite") == 0
    assert "reusing the saved search" in capsys.readouterr().err
    assert (record / saved_search.SEARCH_A3M).stat().st_mtime_ns == saved_mtime
    assert read_a3m(record / "msa.a3m").sequences == msa.sequences

    # a changed database is searched again
    _database(tmp_path / "db.fasta", extra=">late\n" + QUERY[2:] + "\n")
    assert _predict(tmp_path, "--overwrite") == 0
    assert "reusing the saved search" not in capsys.readouterr().err
    assert len(read_a3m(record / "msa.a3m")) == len(msa) + 1


def test_saved_search_ignores_a_stale_or_broken_pair(tmp_path):
    (tmp_path / "db.fasta").write_text(">a\nMKV\n")
    key = saved_search.search_key(QUERY, [tmp_path / "db.fasta"])
    assert saved_search.load(tmp_path, key) is None                 # nothing saved yet
    from foldkit.io.msa_files import Msa

    saved_search.save(tmp_path, key, Msa.single_sequence(QUERY, "q"))
    assert list(saved_search.load(tmp_path, key).sequences) == [QUERY]
    other = saved_search.search_key(QUERY[:-1], [tmp_path / "db.fasta"])
    assert saved_search.load(tmp_path, other) is None                # another query
    (tmp_path / saved_search.SEARCH_A3M).write_text("not an alignment\x00")
    assert saved_search.load(tmp_path, key) is None                 # unreadable file: search again
