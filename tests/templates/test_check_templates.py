"""`foldkit check` on template search files: .hhr, hmmsearch/jackhmmer Stockholm, template mmCIF."""

from __future__ import annotations

from foldkit.cli import main
from tests.templates.cases import pipeline_dir


def _check(capsys, *paths):
    code = main(["check", *map(str, paths)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_check_valid_template_files(af2_reference, capsys):
    pipeline = pipeline_dir(af2_reference)
    code, text = _check(capsys, pipeline / "mono_full_templates" / "msas" / "pdb_hits.hhr",
                        pipeline / "multi_homo_2copies" / "msas" / "A" / "pdb_hits.sto",
                        pipeline / "multi_homo_2copies" / "msas" / "A" / "uniref90_hits.sto",
                        pipeline / "data" / "pdb_mmcif" / "mmcif_files" / "1ncb.cif")
    assert code == 0, text
    assert "OK (hhr): HHsearch hit list, query 5MYX_B (217 match columns), 10 hits; first 1igy_B (Sum_probs 213.6" \
        in text
    assert "OK (stockholm): hmmsearch template hits (Stockholm), profile length 99: 4 protein hits of 4 sequences" \
        in text
    assert "OK (stockholm): Stockholm alignment, 33 sequences (query first), query length 99" in text
    assert "template 1ncb released 1994-01-31, SEQRES chains N 389, L 214, H 221" in text


def test_check_truncated_template_files(af2_reference, tmp_path, capsys):
    pipeline = pipeline_dir(af2_reference)
    hhr = (pipeline / "mono_full_templates" / "msas" / "pdb_hits.hhr").read_text()
    cut_hhr = tmp_path / "cut.hhr"
    cut_hhr.write_text(hhr[: hhr.index("No 4")])
    sto = (pipeline / "multi_homo_2copies" / "msas" / "A" / "pdb_hits.sto").read_text()
    cut_sto = tmp_path / "cut.sto"
    cut_sto.write_text(sto[: sto.index("#=GC PP_cons")])
    uniref = (pipeline / "multi_homo_2copies" / "msas" / "A" / "uniref90_hits.sto").read_text()
    cut_uniref = tmp_path / "uniref90_hits.sto"
    cut_uniref.write_text(uniref[: uniref.index("#=GC RF")])      # first block complete, no '//'
    cif = tmp_path / "1xyz.cif"
    cif.write_text("data_1XYZ\nloop_\n_atom_site.id\n_atom_site.Cartn_x\n1 2 3\n")
    code, text = _check(capsys, cut_hhr, cut_sto, cut_uniref, cif)
    assert code == 2
    assert f"{cut_hhr}, line {hhr[: hhr.index('No 4')].count(chr(10))}: the hit table lists 10 hits but 3" in text
    assert f"{cut_sto}, line" in text and "not closed by '//'" in text
    assert f"{cut_uniref}, line" in text
    assert f"{cif}, line 2: mmCIF syntax error" in text
    assert "4 of 4 files invalid" in text
