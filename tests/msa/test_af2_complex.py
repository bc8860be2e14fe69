"""AlphaFold-Multimer's searches for complexes on the miniature data directory (pipeline reference).

The golden runner compares every search file and feature with AlphaFold2's
(tests/testing/test_golden_pipeline.py); here: multimer databases, the folder
layout, reuse of earlier searches, and what happens without UniProt.
"""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.io.complexes import complexes_from_text, read_complexes
from foldkit.msa.af2_complex import ComplexSearchPipeline, complex_features_from_searches
from foldkit.msa.af2_pipeline import Af2Settings
from foldkit.msa.databases import LAYOUT, resolve_databases
from tests.msa.af2_data import DATA_DIR, PIPELINE, copy_msas


def test_multimer_databases():
    multimer = resolve_databases(DATA_DIR, "reduced_dbs", model_preset="multimer")
    assert multimer.pdb70 is None and multimer.pdb_seqres == DATA_DIR / LAYOUT["pdb_seqres"]
    assert multimer.uniprot == DATA_DIR / LAYOUT["uniprot"] and multimer.template_search == "hmmsearch"
    assert multimer.as_dict()["model_preset"] == "multimer"
    monomer = resolve_databases(DATA_DIR, "reduced_dbs")
    assert monomer.template_search == "hhsearch" and "model_preset" not in monomer.as_dict()
    assert monomer.pdb_seqres is None and monomer.uniprot is None
    with pytest.raises(InputError, match="--pdb70 is the monomer template search"):
        resolve_databases(DATA_DIR, "reduced_dbs", {"pdb70": DATA_DIR / LAYOUT["pdb70"]}, model_preset="multimer")
    with pytest.raises(InputError, match="templates need both --pdb-seqres and --template-mmcif-dir"):
        resolve_databases(None, None, {"uniref90": DATA_DIR / LAYOUT["uniref90"],
                                       "pdb_seqres": DATA_DIR / LAYOUT["pdb_seqres"]}, model_preset="multimer")
    with pytest.raises(ValueError, match="model_preset='multimer'"):
        ComplexSearchPipeline(Af2Settings(monomer))


def _settings(db_preset: str, **overrides) -> Af2Settings:
    given = overrides.pop("given", None)
    databases = resolve_databases(overrides.pop("data_dir", DATA_DIR), db_preset, given, model_preset="multimer")
    return Af2Settings(databases, max_template_date=datetime.date(2021, 11, 1), cpus=2, **overrides)


def test_homodimer_searches_once_and_reuses_its_searches(tmp_path):
    (complex_,) = read_complexes(PIPELINE / "multi_homo_2copies" / "input.fasta", "multimer")
    reference = np.load(PIPELINE / "multi_homo_2copies" / "processed_features.npz")
    lines: list[str] = []
    pipeline = ComplexSearchPipeline(_settings("reduced_dbs"), log=lines.append)
    first = pipeline.run(complex_, tmp_path / "msas")
    assert sorted(p.name for p in (tmp_path / "msas").iterdir()) == ["A", "chain_id_map.json"]
    assert sorted(first.searched) == ["A/mgnify_hits.sto", "A/pdb_hits.sto", "A/small_bfd_hits.sto",
                                      "A/uniref90_hits.sto"]
    assert np.array_equal(first.features["msa"], reference["msa"])
    assert any(line.startswith("input chain A/B: pdb_seqres: hmmsearch on pdb_seqres.txt") for line in lines)
    again = ComplexSearchPipeline(_settings("reduced_dbs"), log=lines.append).run(complex_, tmp_path / "msas")
    assert again.searched == [] and np.array_equal(again.features["template_all_atom_positions"],
                                                   first.features["template_all_atom_positions"])


def test_precomputed_msas_of_another_complex_are_refused(tmp_path):
    msas = copy_msas("multi_hetero_2chain", tmp_path / "msas")
    other = complexes_from_text(">x\nMKVLAAGG:GSTWLLK\n", "x.fasta")[0]
    with pytest.raises(InputError, match="chain_id_map.json.*belongs to another complex"):
        ComplexSearchPipeline(_settings("full_dbs", use_precomputed_msas=True), log=lambda m: None).run(other, msas)


def test_heteromer_without_uniprot_pairs_only_the_queries(tmp_path):
    given = {key: DATA_DIR / LAYOUT[key] for key in ("uniref90", "mgnify", "small_bfd")}
    settings = _settings("reduced_dbs", data_dir=None, given=given)
    assert settings.databases.uniprot is None and not settings.databases.searches_templates
    complex_ = complexes_from_text(">AVR\nMAWKDCIITRYKDGDVNNIYTANRNEEITINEYKVFVNEACHPYPVILPDRSVLSKDFTSAYADDDESCYRHHHHHH:"
                                   "PQVTLWQRPLVTIKIGGQLKEALLDTGADDTVLEEMSLPGRWKPKMIGGIGGFIKVRQYDQILIEICGHKAIGTVLV"
                                   "GPTPVNIIGRDLLTQIGMTLNF\n", "x.fasta")[0]
    lines: list[str] = []
    features = complex_features_from_searches(complex_, settings, tmp_path / "msas", cpus=1, log=lines.append)
    assert any("no UniProt database (--uniprot)" in line for line in lines)
    assert json.loads((tmp_path / "msas" / "chain_id_map.json").read_text())["B"]["description"] == "AVR"
    assert features["bert_mask"][0].all() and not features["bert_mask"][1].all()   # one paired row: the query
    assert features["template_aatype"].shape == (4, 176) and int(features["num_templates"]) == 1
    assert not (tmp_path / "msas" / "A" / "uniprot_hits.sto").exists()


def test_validate_complex_msa_folder(tmp_path):
    from foldkit.msa.af2_complex import validate_complex_msa_folder

    msas = copy_msas("multi_hetero_2chain", tmp_path / "msas")
    (complex_,) = read_complexes(PIPELINE / "multi_hetero_2chain" / "input.fasta", "multimer")
    found = validate_complex_msa_folder(msas, complex_)
    assert "chain_id_map.json" in found and "B/uniprot_hits.sto" in found and "A/pdb_hits.sto" in found
    (msas / "B" / "uniprot_hits.sto").write_text("# STOCKHOLM 1.0\n\nchain_B MAWK\n")
    with pytest.raises(InputError, match=r"B/uniprot_hits.sto.*does not end with '//'"):
        validate_complex_msa_folder(msas, complex_)
    other = complexes_from_text(">x\nMKVLAAGG:GSTWLLK\n", "x.fasta")[0]
    with pytest.raises(InputError, match="belongs to another complex"):
        validate_complex_msa_folder(msas, other)
