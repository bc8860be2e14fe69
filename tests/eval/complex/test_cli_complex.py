"""``foldkit score`` on real complexes (PDB and mmCIF): JSON keys and values, the table, --mapping, bad input."""

import json

import gemmi
import numpy as np
import pytest

from foldkit.cli import main
from tests.eval.complex.reference_complex import COMPLEX_DIR, TOL_DOCKQ, TOL_LDDT, TOL_QS, reference_rows

MODELS = COMPLEX_DIR / "models"
TARGETS = COMPLEX_DIR / "targets"


def run_json(capsys, *args) -> dict:
    assert main(["score", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def edit_pdb(src, dst, keep=None, rename=None, shift=None, drop_atoms=()):
    """Copy a PDB file keeping chains ``keep``, renaming chains, moving chains by ``shift`` {chain: (dx, dy, dz)}
    and dropping atoms by name."""
    out = []
    for line in src.read_text().splitlines():
        if line.startswith(("ATOM", "HETATM", "TER")):
            chain = line[21] if len(line) > 21 else ""
            if keep is not None and chain not in keep:
                continue
            if line.startswith(("ATOM", "HETATM")) and line[12:16].strip() in drop_atoms:
                continue
            if shift and chain in shift and line.startswith(("ATOM", "HETATM")):
                xyz = [float(line[30 + 8 * k:38 + 8 * k]) + shift[chain][k] for k in range(3)]
                line = line[:30] + "".join(f"{v:8.3f}" for v in xyz) + line[54:]
            if rename and chain in rename and len(line) > 21:
                line = line[:21] + rename[chain] + line[22:]
        out.append(line)
    dst.write_text("\n".join(out) + "\n")
    return dst


def test_json_carries_openstructure_keys_and_reference_values(scoring_dir, capsys):
    ref = reference_rows()["1A2K__real_dockq_example"]
    out = run_json(capsys, MODELS / "1A2K__real_dockq_example.pdb", TARGETS / "1A2K.pdb")
    for key in ("chain_mapping", "qs_global", "qs_best", "ics", "ips", "lddt", "ilddt", "dockq_ave", "dockq_wave",
                "dockq", "fnat", "irmsd", "lrmsd", "tm_score", "per_interface_qs_global", "per_chain"):
        assert key in out, key
    assert out["chain_mapping"] == {"A": "B", "B": "A", "C": "C"}
    assert out["qs_global"] == pytest.approx(float(ref["ost_qs_global"]), abs=TOL_QS)
    assert out["dockq_wave"] == pytest.approx(float(ref["ost_dockq_wave"]), abs=TOL_DOCKQ)
    assert out["lddt"] == pytest.approx(float(ref["ost_lddt_nostereo"]), abs=TOL_LDDT)
    assert out["tm_score"] == pytest.approx(float(ref["usalign_tm"]), abs=0.01)
    assert len(out["dockq"]) == len(out["dockq_interfaces"]) == 3
    assert out["global_dockq"] == pytest.approx(float(ref["dockq_global"]), abs=TOL_DOCKQ)
    assert [c["reference_chain"] for c in out["per_chain"]] == ["A", "B", "C"]


def test_text_table(scoring_dir, capsys):
    assert main(["score", str(MODELS / "6QWN__real_assembly1.pdb"), str(TARGETS / "6QWN.pdb")]) == 0
    out = capsys.readouterr().out
    assert "chain mapping (native:model)    B:A;G:F" in out
    assert "DockQ" in out and "QS-score" in out and "B-G" in out


def test_mmcif_inputs_score_like_pdb(scoring_dir, tmp_path, capsys):
    files = []
    for src in (MODELS / "1NCB__relabel_noise0.5.pdb", TARGETS / "1NCB.pdb"):
        doc = gemmi.read_structure(str(src)).make_mmcif_document()
        files.append(tmp_path / (src.stem + ".cif"))
        doc.write_file(str(files[-1]))
    from_cif = run_json(capsys, *files)
    from_pdb = run_json(capsys, MODELS / "1NCB__relabel_noise0.5.pdb", TARGETS / "1NCB.pdb")
    assert from_cif["chain_mapping"] == from_pdb["chain_mapping"] == {"H": "C", "L": "B", "N": "A"}
    for key in ("qs_global", "dockq_ave", "lddt", "ics", "tm_score"):
        assert from_cif[key] == pytest.approx(from_pdb[key], abs=1e-4), key


def test_forced_mapping(scoring_dir, capsys):
    auto = run_json(capsys, MODELS / "1K6P__swapAB.pdb", TARGETS / "1K6P.pdb")
    forced = run_json(capsys, MODELS / "1K6P__swapAB.pdb", TARGETS / "1K6P.pdb", "--mapping", "A:A,B:B")
    assert auto["chain_mapping"] == {"A": "B", "B": "A"} and auto["qs_global"] > 0.9999
    assert forced["chain_mapping"] == {"A": "A", "B": "B"} and forced["mapping_method"] == "forced"
    assert forced["qs_global"] < auto["qs_global"] and forced["lddt"] < auto["lddt"]
    assert forced["rigid_chain_mapping"] == {"A": "A", "B": "B"}


def test_bad_mapping_and_bad_files_are_one_line_errors(scoring_dir, tmp_path, capsys):
    model, target = MODELS / "1K6P__swapAB.pdb", TARGETS / "1K6P.pdb"
    for mapping, words in (("A:Q", "model chain 'Q'"), ("A-B", "NATIVE_CHAIN:MODEL_CHAIN"),
                           ("A:A,B:A", "twice")):
        assert main(["score", str(model), str(target), "--mapping", mapping]) == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    garbage = tmp_path / "garbage.pdb"
    garbage.write_text("this is not a structure\n")
    assert main(["score", str(model), str(garbage)]) == 2
    err = capsys.readouterr().err
    assert "garbage.pdb" in err and len(err.strip().splitlines()) == 1


def test_extra_unrelated_chain_is_reported_and_penalised(scoring_dir, tmp_path, capsys):
    model = tmp_path / "with_stranger.pdb"
    stranger = edit_pdb(TARGETS / "1NCB.pdb", tmp_path / "l.pdb", keep={"L"}, rename={"L": "Z"})
    base = (MODELS / "1AY7__rigid.pdb").read_text().replace("END\n", "")
    model.write_text(base + stranger.read_text())
    out = run_json(capsys, model, TARGETS / "1AY7.pdb")
    assert out["chain_mapping"] == {"A": "A", "B": "B"}
    assert any("model chain Z matches no native chain" in m for m in out["messages"])
    assert out["dockq"] == [pytest.approx(1.0, abs=1e-3)] and out["lddt"] == pytest.approx(1.0, abs=1e-4)
    assert out["qs_best"] == pytest.approx(1.0, abs=1e-3)


def test_model_of_another_complex_maps_nothing(scoring_dir, capsys):
    out = run_json(capsys, MODELS / "1NCB__rigid.pdb", TARGETS / "1AY7.pdb")
    assert out["chain_mapping"] == {}
    assert any("no model chain could be mapped" in m for m in out["messages"])
    assert out["lddt"] == 0.0 and out["tm_score"] == 0.0 and out["qs_global"] == 0.0
    assert out["dockq"] == [] and out["dockq_ave"] is None and out["dockq_ave_full"] == 0.0


def test_native_without_interface(scoring_dir, tmp_path, capsys):
    apart = edit_pdb(TARGETS / "1AY7.pdb", tmp_path / "apart.pdb", shift={"B": (200.0, 0.0, 0.0)})
    out = run_json(capsys, MODELS / "1AY7__rigid.pdb", apart)
    assert any("no interface" in m for m in out["messages"])
    assert out["dockq_reference_interfaces"] == [] and out["dockq_ave"] is None and out["ilddt"] is None
    assert out["chain_mapping"] == {"A": "A", "B": "B"} and out["ics"] == 0.0
    assert out["qs_global"] == 0.0
    assert [c["reference_chain"] for c in out["per_chain"]] == ["A", "B"]


def test_chain_without_ca_atoms(scoring_dir, tmp_path, capsys):
    no_ca = tmp_path / "no_ca.pdb"
    text = []
    for line in (MODELS / "1AY7__rigid.pdb").read_text().splitlines():
        if not (line.startswith("ATOM") and line[21] == "B" and line[12:16].strip() == "CA"):
            text.append(line)
    no_ca.write_text("\n".join(text) + "\n")
    out = run_json(capsys, no_ca, TARGETS / "1AY7.pdb")
    assert any("no residues with CA atoms in common" in m for m in out["messages"])
    assert out["chain_mapping"] == {"A": "A", "B": "B"}
    assert np.isfinite(out["tm_score"]) and out["tm_score"] < 0.6
    assert out["lddt"] < 1.0 and out["dockq"][0] is not None
