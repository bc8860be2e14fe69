"""Complexes from FASTA: ColabFold's ':' records and AlphaFold2's one file per complex; errors; foldkit check."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from foldkit.errors import InputError
from foldkit.io.complexes import CHAIN_IDS, complex_name, complexes_from_text, read_complexes
from foldkit.msa.af2_complex import chain_id_map_text
from tests.conftest import AF2_REFERENCE, REPO_ROOT

PIPELINE = AF2_REFERENCE / "pipeline"


def test_colabfold_records_chain_ids_entities_and_feature_order(tmp_path):
    path = tmp_path / "in.fasta"
    path.write_text(">c1 a heterotrimer\nMKVL:gstw:MKVL\n>mono\nACDE\n>c2\nAAAA:\nCCCC\n")
    c1, mono, c2 = read_complexes(path)
    assert [(c.chain_id, c.sequence, c.entity_id, c.sym_id) for c in c1.chains] == [
        ("A", "MKVL", 1, 1), ("B", "GSTW", 2, 1), ("C", "MKVL", 1, 2)]
    assert c1.is_heteromer and not c1.is_homomer and c1.num_residues == 12 and c1.convention == "colabfold"
    assert [c.chain_id for c in c1.distinct_chains] == ["A", "B"]
    assert [c.chain_id for c in c1.feature_order] == ["A", "C", "B"]          # asym_id 1, 2, 3
    assert c1.first_copy(c1.chains[2]).chain_id == "A"
    assert c1.chains[0].description == "c1 a heterotrimer"
    assert mono.is_monomer and mono.sequences == ("ACDE",)
    assert c2.sequences == ("AAAA", "CCCC")                                   # ':' at a line end
    assert (c1.chains[1].line, c1.chains[1].column, c2.chains[1].line) == (2, 6, 7)
    assert c1.summary() == "chains A 4, B 4, C 4 (12 residues, 2 distinct sequences)"


def test_alphafold2_convention_matches_the_reference_chain_id_map():
    for case in ("multi_hetero_2chain", "multi_homo_2copies"):
        (complex_,) = read_complexes(PIPELINE / case / "input.fasta", "multimer")
        stored = (PIPELINE / case / "msas" / "chain_id_map.json").read_text()
        assert complex_.id == "input" and complex_.convention == "alphafold2"
        assert complex_.chain_id_map() == json.loads(stored)
        assert chain_id_map_text(complex_) == stored                          # byte for byte
    (homo,) = read_complexes(PIPELINE / "multi_homo_2copies" / "input.fasta", "multimer")
    assert homo.is_homomer and [c.sym_id for c in homo.chains] == [1, 2]     # both records are '>PR ...'


def test_several_files_one_complex_each(tmp_path):
    (tmp_path / "dimer.fa").write_text(">A\nMKV\n>B\nGST\n")
    (tmp_path / "trimer.fasta.gz").write_bytes(__import__("gzip").compress(b">x\nMK\n>x\nMK\n>x\nMK\n"))
    found = read_complexes([tmp_path / "dimer.fa", tmp_path / "trimer.fasta.gz"], "multimer")
    assert [(c.id, len(c.chains), c.num_entities) for c in found] == [("dimer", 2, 2), ("trimer", 3, 1)]
    assert complex_name("a/b/x.y.fasta") == "x.y"


@pytest.mark.parametrize("text, preset, fragments", [
    (">c\nMK::LL\n", None, ["record 'c'", "line 2", "column 4", "empty chain (chain 2 of 3)"]),
    (">c\n:MKLL\n", None, ["line 2", "column 1", "empty chain (chain 1 of 2)"]),
    (">c\nMKLL\n:\n", None, ["line 3", "column 1", "empty chain (chain 2 of 2)"]),
    (">c\nMKLL:XXxX\n", None, ["record 'c'", "line 2", "column 6", "chain B (4 residues) is only X"]),
    (">a\nMK\n>b\nXXX\n", "multimer", ["record 'b'", "line 4", "column 1", "chain B (3 residues) is only X"]),
    (">a\nMKV\n>b\nMK:LL\n", "multimer", ["record 'b'", "line 4", "column 3", "--model-preset multimer"]),
    (">c\n" + ":".join(["MK"] * 63) + "\n", None, ["record 'c'", "63 chains", "at most 62"]),
    (">a\nMKV\n>a\nMKV\n", None, ["record 'a'", "duplicate record id"]),
])
def test_bad_complexes_are_located(text, preset, fragments):
    with pytest.raises(InputError) as caught:
        complexes_from_text(text, "in.fasta", preset)
    message = str(caught.value)
    assert message.startswith("in.fasta") and "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


def test_length_limit_is_settable(tmp_path):
    text = ">big\n" + "A" * 30 + ":" + "C" * 30 + "\n"
    with pytest.raises(InputError, match=r"record 'big'.*60 residues.*limit of 50 \(--max-complex-length\)"):
        complexes_from_text(text, "in.fasta", max_length=50)
    assert complexes_from_text(text, "in.fasta", max_length=60)[0].num_residues == 60
    assert complexes_from_text(text, "in.fasta", max_length=None)[0].num_residues == 60


def test_same_name_in_two_files_is_an_error(tmp_path):
    (tmp_path / "one.fa").write_text(">c\nMK:LL\n")
    (tmp_path / "two.fa").write_text(">c\nMK:LV\n")
    with pytest.raises(InputError, match=r"two\.fa, record 'c', line 1: two complexes are named 'c'"):
        read_complexes([tmp_path / "one.fa", tmp_path / "two.fa"])
    assert len(CHAIN_IDS) == 62 and CHAIN_IDS[:3] == "ABC" and CHAIN_IDS[26] == "a"


def _check(*args):
    return subprocess.run([sys.executable, "-m", "foldkit.cli", "check", *map(str, args)], capture_output=True,
                          text=True, cwd=REPO_ROOT, timeout=120)


def test_check_reports_complexes_and_errors(tmp_path):
    good = tmp_path / "set.fasta"
    good.write_text(">c1\nMKVLAAGG:GSTWLLK:MKVLAAGG\n>m\nACDEFG\n")
    run = _check(good, PIPELINE / "multi_hetero_2chain" / "input.fasta")
    assert run.returncode == 0, run.stderr
    assert (f"{good}: OK (fasta): 2 FASTA records: 1 complex (chains separated by ':') - c1: chains A 8, B 7, C 8 "
            "(23 residues, 2 distinct sequences); 1 single chain, length 6") in run.stdout
    assert "2 FASTA records, lengths 77-137" in run.stdout                  # no ':' -> plain records
    run = _check("--model-preset", "multimer", PIPELINE / "multi_hetero_2chain" / "input.fasta")
    assert run.returncode == 0 and "complex input (--model-preset multimer, one record per chain): chains A 137, " \
        "B 77 (214 residues)" in run.stdout
    bad = tmp_path / "bad.fasta"
    bad.write_text(">x\nMKV:\n")
    run = _check(bad)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.strip() == (f"foldkit check: error: {bad}, record 'x', line 2, column 4: empty chain (chain 2 "
                                  "of 2) at this ':'; ':' separates the chains of a complex (remove the extra ':')")
    run = _check("--max-complex-length", "20", good)
    assert run.returncode == 2 and "23 residues" in run.stderr and "limit of 20" in run.stderr
