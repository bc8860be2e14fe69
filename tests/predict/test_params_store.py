"""`foldkit params list / verify / fetch`: fetch reads local file:// archives (no network in tests)."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from foldkit import cli
from foldkit.errors import InputError
from foldkit.model import params as params_lib
from foldkit.params_store import OFFICIAL_PARAMS_URL, fetch_params, verify_params_dir
from tests.conftest import AF2_REFERENCE
from tests.predict.helpers import make_tiny_params_dir


def _full_size_zero_params(path: Path, model: str = "model_1_ptm") -> Path:
    """An official-layout file with the full-size tree of ``model`` (zeros, deflated to ~2 MB)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for key, shape in params_lib.packaged_spec(model).items():
            with archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.zeros(shape, np.float32), allow_pickle=False)
    return path


def _tar(path: Path, members: dict[str, bytes | Path], symlinks: dict[str, str] | None = None) -> str:
    with tarfile.open(path, "w") as tar:
        for name, content in members.items():
            data = content.read_bytes() if isinstance(content, Path) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return path.resolve().as_uri()


MULTIMER_REFERENCE = AF2_REFERENCE / "multimer"


def _tiny_multimer(folder: Path, name: str = "tiny_multimer", case: str = "tiny_multimer_hetero") -> Path:
    """params_<name>.npz (golden random weights) + sidecar params_<name>.json (the case's multimer config)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(MULTIMER_REFERENCE / "tiny_multimer_hetero_params.npz", folder / f"params_{name}.npz")
    shutil.copyfile(MULTIMER_REFERENCE / f"{case}_config.json", folder / f"params_{name}.json")
    return folder


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("param_sources")
    make_tiny_params_dir(folder / "tiny")
    _tiny_multimer(folder / "tiny")
    _full_size_zero_params(folder / "params_model_1_ptm.npz")
    _full_size_zero_params(folder / "params_model_1_multimer_v3.npz", "model_1_multimer_v3")
    return folder


def _state(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_fetch_official_layout_archive(sources, tmp_path, capsys):
    url = _tar(tmp_path / "alphafold_params.tar", {
        "params_model_1_ptm.npz": sources / "params_model_1_ptm.npz",
        "params_tiny_ptm.npz": sources / "tiny" / "params_tiny_ptm.npz",
        "params_tiny_ptm.json": sources / "tiny" / "params_tiny_ptm.json",
        "params_model_1_multimer_v3.npz": sources / "params_model_1_multimer_v3.npz",
        "params_model_1_multimer_v2.npz": b"older multimer weights: skipped",
        "LICENSE": b"CC BY 4.0\n",
        "README.txt": b"ignored\n",
    })
    dest = tmp_path / "dest"
    assert cli.main(["params", "fetch", str(dest), "--url", url, "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert _state(dest) == {"params_model_1_ptm.npz", "params_tiny_ptm.npz", "params_tiny_ptm.json",
                            "params_model_1_multimer_v3.npz", "LICENSE"}
    assert "verified" in captured.err and "matches the model_1_ptm tree exactly" in captured.err
    assert "matches the model_1_multimer_v3 tree exactly" in captured.err
    assert (dest / "params_tiny_ptm.npz").read_bytes() == (sources / "tiny" / "params_tiny_ptm.npz").read_bytes()
    results = verify_params_dir(dest)
    assert [r.ok for r in results] == [True, True, True]
    assert cli.main(["params", "verify", str(dest)]) == 0
    assert cli.main(["params", "list", "--params-dir", str(dest)]) == 0
    listing = capsys.readouterr().out
    assert str(dest / "params_model_1_ptm.npz") in listing and "tiny_ptm" in listing
    multimer_line = next(line for line in listing.splitlines() if "model_1_multimer_v3" in line)
    assert "multimer" in multimer_line.split()[1] and str(dest / "params_model_1_multimer_v3.npz") in multimer_line
    assert "model_5_multimer_v3" in listing
    assert "not bundled yet" in listing and OFFICIAL_PARAMS_URL in listing


def test_fetch_refuses_bad_files_and_leaves_destination_unchanged(sources, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("already here")
    good = sources / "tiny" / "params_tiny_ptm.npz"
    truncated = good.read_bytes()[:5000]
    wrong = io.BytesIO()
    flat = params_lib.nested_to_flat(params_lib.load_params(good))
    key = sorted(flat)[0]
    flat[key] = np.zeros((3, 3), np.float32)
    np.savez(wrong, **flat)
    config = sources / "tiny" / "params_tiny_ptm.json"
    cases = {
        "truncated": ({"params_tiny_ptm.npz": truncated, "params_tiny_ptm.json": config}, "truncated"),
        "wrong shape": ({"params_tiny_ptm.npz": wrong.getvalue(), "params_tiny_ptm.json": config}, key),
        "no config": ({"params_tiny_ptm.npz": good}, "sidecar"),
        "traversal": ({"../params_model_1.npz": good}, "outside the destination"),
        "absolute": ({"/tmp/params_model_1.npz": good}, "outside the destination"),
        "empty": ({"LICENSE": b"x"}, "no params_<model>.npz"),
    }
    for label, (members, message) in cases.items():
        url = _tar(tmp_path / f"{label}.tar", members)
        with pytest.raises(InputError, match=message):
            fetch_params(dest, url, progress=False, log=lambda _: None)
        assert _state(dest) == {"keep.txt"}, label
    url = _tar(tmp_path / "link.tar", {"params_tiny_ptm.json": config}, symlinks={"params_model_1.npz": "/etc/passwd"})
    with pytest.raises(InputError, match="link"):
        fetch_params(dest, url, progress=False, log=lambda _: None)
    (tmp_path / "not_a.tar").write_bytes(b"plain text, not a tar archive" * 40)
    with pytest.raises(InputError, match="not a readable tar"):
        fetch_params(dest, (tmp_path / "not_a.tar").resolve().as_uri(), progress=False, log=lambda _: None)
    assert _state(dest) == {"keep.txt"}
    assert not (tmp_path / "params_model_1.npz").exists()


def test_fetch_unreachable_url_is_a_clear_error(tmp_path, capsys):
    missing = (tmp_path / "missing.tar").resolve().as_uri()
    assert cli.main(["params", "fetch", str(tmp_path / "dest"), "--url", missing, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "cannot download" in err and "Traceback" not in err
    assert _state(tmp_path / "dest") == set()


def test_verify_reports_each_bad_file(sources, tmp_path, capsys):
    folder = make_tiny_params_dir(tmp_path / "p")
    shutil.copyfile(sources / "tiny" / "params_tiny_ptm.npz", folder / "params_model_3.npz")  # wrong tree
    (folder / "params_other.npz").write_bytes(b"not an npz")
    capsys.readouterr()
    assert cli.main(["params", "verify", str(folder)]) == 2
    out = capsys.readouterr().out.splitlines()
    status = {line.split()[1].rstrip(":").split("/")[-1]: line.split()[0] for line in out}
    assert status == {"params_model_3.npz": "FAIL", "params_other.npz": "FAIL", "params_tiny_ptm.npz": "ok"}
    assert any("not a valid parameter file for model_3" in line and "unexpected keys" in line for line in out)
    assert any("params_other" in line and "sidecar" in line for line in out)
    assert cli.main(["params", "verify", str(tmp_path / "empty_or_missing")]) == 2


def test_multimer_files_verify(sources, tmp_path, capsys):
    """Official multimer names use the packaged spec; a multimer sidecar config is traced."""
    folder = _tiny_multimer(tmp_path / "p")
    shutil.copyfile(sources / "params_model_1_multimer_v3.npz", folder / "params_model_3_multimer_v3.npz")
    _tiny_multimer(folder, "wrong_sizes", case="tiny_multimer_homo")   # homo config: other structure sizes
    shutil.copyfile(sources / "params_model_1_ptm.npz", folder / "params_model_2_multimer_v3.npz")
    capsys.readouterr()
    assert cli.main(["params", "verify", str(folder)]) == 2
    out = capsys.readouterr().out.splitlines()
    status = {line.split()[1].rstrip(":").split("/")[-1]: line.split()[0] for line in out}
    assert status == {"params_model_2_multimer_v3.npz": "FAIL", "params_model_3_multimer_v3.npz": "ok",
                      "params_tiny_multimer.npz": "ok", "params_wrong_sizes.npz": "FAIL"}
    assert any("not a valid parameter file for model_2_multimer_v3" in line for line in out)
    assert any("params_wrong_sizes" in line and "structure_module" in line for line in out)


def test_official_file_uses_the_packaged_preset(sources, tmp_path):
    from foldkit.predict.models import resolve_models

    folder = tmp_path / "official" / "params"          # the archive's layout: DIR/params/params_*.npz
    folder.mkdir(parents=True)
    shutil.copyfile(sources / "params_model_1_ptm.npz", folder / "params_model_1_ptm.npz")
    (choice,) = resolve_models(tmp_path / "official")
    assert choice.name == "model_1_ptm" and choice.config_source == "preset"
    assert choice.has_ptm and choice.config.uses_templates
    assert choice.data_tree["common"]["max_extra_msa"] == 5120
    params = choice.load_params()                       # checked against the packaged full-size spec
    assert params["alphafold/alphafold_iteration/evoformer/preprocess_msa"]["weights"].shape == (49, 256)
