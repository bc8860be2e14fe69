"""``foldkit score-set`` on an assembly target set (CASP oligomer names), resumable, with interfaces.csv."""

import csv
import shutil

import pytest

from foldkit.cli import main
from tests.eval.complex.reference_complex import COMPLEX_DIR, TOL_DOCKQ, TOL_LDDT, TOL_QS, reference_rows


def _set(tmp_path):
    models, natives = tmp_path / "models", tmp_path / "natives"
    (models / "sub").mkdir(parents=True)
    natives.mkdir()
    shutil.copy(COMPLEX_DIR / "targets" / "1K6P.pdb", natives / "T1106o.pdb")
    shutil.copy(COMPLEX_DIR / "targets" / "1NCB.pdb", natives / "H1107.pdb")
    shutil.copy(COMPLEX_DIR / "models" / "1K6P__swapAB.pdb", models / "T1106TS427_1o.pdb")
    shutil.copy(COMPLEX_DIR / "models" / "1K6P__noise0.3.pdb", models / "sub" / "T1106TS111_1o.pdb")
    shutil.copy(COMPLEX_DIR / "models" / "1NCB__relabel_noise0.5.pdb", models / "H1107TS427_1")
    shutil.copy(COMPLEX_DIR / "models" / "1NCB__dropL_trim3.pdb", models / "H1107TS111_1.pdb")
    shutil.copy(COMPLEX_DIR / "models" / "1AY7__rigid.pdb", models / "T1200TS111_1o.pdb")   # no native
    return models, natives


def _rows(path):
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_assembly_set_scores_interfaces_and_resumes(scoring_dir, tmp_path, capsys):
    models, natives = _set(tmp_path)
    out = tmp_path / "out" / "scores.csv"
    argv = ["score-set", "--models", str(models), "--natives", str(natives), "-o", str(out), "--jobs", "2",
            "--no-plot"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "T1200TS111_1o.pdb: no assembly reference T1200o" in captured.err
    assert "scored 4 new pairs" in captured.out
    rows = {r["model"]: r for r in _rows(out)}
    assert set(rows) == {"T1106TS427_1o", "T1106TS111_1o", "H1107TS427_1", "H1107TS111_1"}
    assert {r["target"] for r in rows.values()} == {"T1106o", "H1107"}
    for model, pair in (("T1106TS427_1o", "1K6P__swapAB"), ("H1107TS427_1", "1NCB__relabel_noise0.5"),
                        ("H1107TS111_1", "1NCB__dropL_trim3")):
        ref, row = reference_rows()[pair], rows[model]
        assert row["chain_mapping"] == ref["chain_mapping_ost"]
        assert float(row["qs_global"]) == pytest.approx(float(ref["ost_qs_global"]), abs=TOL_QS)
        assert float(row["lddt"]) == pytest.approx(float(ref["ost_lddt_nostereo"]), abs=TOL_LDDT)
        assert float(row["dockq_ave"]) == pytest.approx(float(ref["ost_dockq_ave"]), abs=TOL_DOCKQ)
        assert float(row["gdt_ts"]) == pytest.approx(100 * float(row["oligo_gdtts"]), abs=0.01)
    interfaces = _rows(out.parent / "interfaces.csv")
    ncb = {r["native_chains"]: r for r in interfaces if r["model"] == "H1107TS427_1"}
    assert set(ncb) == {"H-L", "H-N", "L-N"} and ncb["H-L"]["model_chains"] == "C-B"
    dropped = {r["native_chains"]: r for r in interfaces if r["model"] == "H1107TS111_1"}
    assert dropped["H-L"]["dockq"] == "" and float(dropped["H-N"]["dockq"]) == pytest.approx(1.0, abs=1e-3)
    assert (out.parent / "summary.csv").is_file()

    assert main(argv) == 0
    assert "scored 0 new pairs (4 already done" in capsys.readouterr().out
    assert len(_rows(out.parent / "interfaces.csv")) == len(interfaces)
