"""``foldkit score`` and ``foldkit score-set`` on real CASP14 files (small targets, so fast)."""

import csv
import json
import shutil

import pytest

from foldkit.cli import main
from tests.conftest import CASP_DIR, SCORING_DIR

MODELS = CASP_DIR / "models"
NATIVES = CASP_DIR / "natives"


def reference_row(model_file: str) -> dict:
    with open(SCORING_DIR / "reference_scores.csv", newline="") as handle:
        return next(r for r in csv.DictReader(handle) if r["model_file"] == model_file)


def renumbered(src, dst, offset):
    """Copy a PDB file with every residue number shifted by ``offset``."""
    out = []
    for line in src.read_text().splitlines():
        if line.startswith(("ATOM", "HETATM")):
            line = f"{line[:22]}{int(line[22:26]) + offset:>4}{line[26:]}"
        out.append(line)
    dst.write_text("\n".join(out) + "\n")
    return dst


def test_score_json_matches_reference_tools(casp_dir, capsys):
    model = MODELS / "T1084" / "T1084TS427_1-D1.pdb"
    assert main(["score", str(model), str(NATIVES / "T1084-D1.pdb"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"gdt_ts", "gdt_ha", "tm_score", "lddt", "lddt_ca", "rmsd_ca", "n_model", "n_native", "n_common",
            "gdt_cutoffs"} <= set(out)
    ref = reference_row("casp/models/T1084/T1084TS427_1-D1.pdb")
    assert out["n_common"] == int(ref["n_common_residues"]) == out["n_native"]
    assert out["gdt_ts"] == pytest.approx(float(ref["lga_gdt_ts"]), abs=1.1)
    assert out["tm_score"] == pytest.approx(float(ref["tmscore_tm"]), abs=0.003)
    assert out["lddt"] == pytest.approx(float(ref["lddt_allatom"]), abs=5e-4)
    assert out["rmsd_ca"] == pytest.approx(float(ref["lga_rmsd"]), abs=0.01)
    assert out["gdt_cutoffs"]["4"] >= out["gdt_cutoffs"]["1"]


def test_score_table_and_full_length_model_vs_domain(casp_dir, capsys):
    assert main(["score", str(MODELS / "T1084" / "T1084TS427_1.pdb"), str(NATIVES / "T1084-D1.pdb")]) == 0
    out = capsys.readouterr().out
    assert "GDT_TS" in out and "TM-score" in out and "lDDT" in out


def test_score_align_mode_on_renumbered_model(casp_dir, tmp_path, capsys):
    model = renumbered(MODELS / "T1084" / "T1084TS427_1-D1.pdb", tmp_path / "shifted.pdb", 500)
    native = str(NATIVES / "T1084-D1.pdb")
    assert main(["score", str(model), native, "--json"]) == 2          # nothing in common by number
    assert "no residues with CA atoms in common" in capsys.readouterr().err
    assert main(["score", str(model), native, "--json", "--align"]) == 0
    aligned = json.loads(capsys.readouterr().out)
    assert main(["score", str(MODELS / "T1084" / "T1084TS427_1-D1.pdb"), native, "--json"]) == 0
    by_number = json.loads(capsys.readouterr().out)
    for key in ("gdt_ts", "tm_score", "lddt", "n_common"):
        assert aligned[key] == pytest.approx(by_number[key], abs=1e-6)


def test_score_refuses_residue_mismatch_unless_forced(casp_dir, tmp_path, capsys):
    model = renumbered(MODELS / "T1084" / "T1084TS427_1-D1.pdb", tmp_path / "off_by_one.pdb", 1)
    native = str(NATIVES / "T1084-D1.pdb")
    assert main(["score", str(model), native]) == 2
    err = capsys.readouterr().err
    assert "residue names differ" in err and "identity" in err and "--force" in err
    assert "Traceback" not in err
    assert main(["score", str(model), native, "--force", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_common"] > 0


def test_score_bad_files(casp_dir, tmp_path, capsys):
    empty = tmp_path / "empty.pdb"
    empty.write_text("")
    assert main(["score", str(empty), str(NATIVES / "T1084-D1.pdb")]) == 2
    assert "empty.pdb" in capsys.readouterr().err
    no_ca = tmp_path / "no_ca.pdb"
    no_ca.write_text("".join(line + "\n" for line in (MODELS / "T1084" / "T1084TS427_1-D1.pdb").read_text()
                             .splitlines() if line.startswith("ATOM") and line[12:16].strip() != "CA"))
    assert main(["score", str(no_ca), str(NATIVES / "T1084-D1.pdb")]) == 2
    assert "no CA atoms" in capsys.readouterr().err


def _small_set(tmp_path):
    models, natives = tmp_path / "models", tmp_path / "natives"
    (models / "T1084").mkdir(parents=True)
    (models / "T1087" / "deeper").mkdir(parents=True)
    natives.mkdir()
    for name in ("T1084TS427_1-D1.pdb", "T1084TS427_1.pdb"):
        shutil.copy(MODELS / "T1084" / name, models / "T1084" / name)
    shutil.copy(MODELS / "T1087" / "T1087TS427_1-D1.pdb", models / "T1087" / "deeper")
    for name in ("T1084-D1.pdb", "T1087-D1.pdb"):
        shutil.copy(NATIVES / name, natives / name)
    # a TS file with two models (the second one is the first model shifted: same scores)
    body = [l for l in (MODELS / "T1087" / "T1087TS427_1-D1.pdb").read_text().splitlines() if l.startswith("ATOM")]
    text = ["PFRMAT TS", "TARGET T1087", "MODEL  1", "PARENT N/A", *body, "TER", "END",
            "MODEL  2", "PARENT N/A", *body, "TER", "END"]
    (models / "T1087" / "T1087TS999-D1").write_text("\n".join(text) + "\n")
    (models / "T1084" / "T1084TS123_1.pdb").write_text("")                      # empty file
    shutil.copy(MODELS / "T1087" / "T1087TS427_1-D1.pdb", models / "T1099TS427_1-D1.pdb")  # no reference
    return models, natives


def test_score_set_end_to_end_and_resume(casp_dir, tmp_path, capsys):
    models, natives = _small_set(tmp_path)
    out = tmp_path / "out" / "scores.csv"
    argv = ["score-set", "--models", str(models), "--natives", str(natives), "-o", str(out), "--jobs", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "T1084TS123_1.pdb" in captured.err and "empty" in captured.err
    assert "T1099TS427_1-D1.pdb" in captured.err and "no reference" in captured.err
    assert "427" in captured.out and "sum z" in captured.out
    with out.open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames) == ("target", "domain", "model", "group", "model_index", "gdt_ts",
                                            "gdt_ha", "tm_score", "lddt", "lddt_ca", "rmsd_ca", "n_common")
        rows = list(reader)
    keys = {(r["target"], r["domain"], r["model"], r["model_index"]) for r in rows}
    assert keys == {("T1084", "D1", "T1084TS427_1-D1", "1"), ("T1084", "D1", "T1084TS427_1", "1"),
                    ("T1087", "D1", "T1087TS427_1-D1", "1"), ("T1087", "D1", "T1087TS999_1-D1", "1"),
                    ("T1087", "D1", "T1087TS999_2-D1", "2")}
    by_model = {r["model"]: r for r in rows}
    # trimmed and full-length models give the same domain scores; TS models equal the source model
    assert by_model["T1084TS427_1"]["gdt_ts"] == by_model["T1084TS427_1-D1"]["gdt_ts"]
    assert by_model["T1087TS999_2-D1"]["tm_score"] == by_model["T1087TS427_1-D1"]["tm_score"]
    ref = reference_row("casp/models/T1087/T1087TS427_1-D1.pdb")
    assert float(by_model["T1087TS427_1-D1"]["gdt_ts"]) == pytest.approx(float(ref["lga_gdt_ts"]), abs=1.1)
    with (out.parent / "summary.csv").open(newline="") as handle:
        summary = {r["group"]: r for r in csv.DictReader(handle)}
    assert set(summary) == {"427", "999"} and int(summary["999"]["count"]) == 2
    assert (out.parent / "gdt_curves.png").stat().st_size > 10_000
    assert len((out.parent / "gdt_curves.csv").read_text().splitlines()) == 6

    assert main(argv) == 0                                          # resume: nothing new to score
    assert "scored 0 new pairs (5 already done" in capsys.readouterr().out


def test_score_set_with_workers_and_nothing_scorable(casp_dir, tmp_path, capsys):
    models, natives = _small_set(tmp_path)
    out = tmp_path / "scores.csv"
    assert main(["score-set", "--models", str(models / "T1084"), "--natives", str(natives), "-o", str(out),
                 "--jobs", "2", "--no-plot"]) == 0
    assert len(out.read_text().splitlines()) == 3
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "T1084TS001_1.pdb").write_text("")
    assert main(["score-set", "--models", str(bad), "--natives", str(natives), "-o",
                 str(tmp_path / "none.csv")]) == 1
    assert "nothing could be scored" in capsys.readouterr().err


@pytest.mark.slow
def test_score_set_full_casp_sweep_matches_official(casp_dir, tmp_path):
    """Every model file of ../shared/casp through score-set (all cores), GDT_TS vs the official table."""
    out = tmp_path / "scores.csv"
    assert main(["score-set", "--models", str(MODELS), "--natives", str(NATIVES), "-o", str(out),
                 "--domains", str(CASP_DIR / "domains.tsv")]) == 0
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (CASP_DIR / "official_scores.csv").open(newline="") as handle:
        official = {(r["target"], r["domain"], r["model"]): r for r in csv.DictReader(handle)}
    compared = 0
    for row in rows:
        name = row["model"] if row["model"].endswith(f"-{row['domain']}") or not row["domain"] \
            else f"{row['model']}-{row['domain']}"
        ref = official.get((row["target"], row["domain"], name))
        if ref is None:
            continue
        compared += 1
        assert abs(float(row["gdt_ts"]) - float(ref["gdt_ts"])) <= 1.0, row
        assert abs(float(row["tm_score"]) - float(ref["tm"])) <= 0.0105, row
    assert compared >= 74
