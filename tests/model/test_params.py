"""Parameter files: official npz layout, spec checks, refusal of bad files."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from foldkit.errors import InputError
from foldkit.model import params as params_lib
from tests.conftest import AF2_REFERENCE

TREES = ("model_1", "model_1_ptm", "model_3", "model_3_ptm")


def _reference_spec(tree: str) -> dict[str, tuple[int, ...]]:
    data = json.loads((AF2_REFERENCE / f"param_spec_{tree}.json").read_text())
    return {p["key"]: tuple(p["shape"]) for p in data["params"]}


@pytest.mark.parametrize("tree", TREES)
def test_packaged_spec_matches_reference(tree):
    assert params_lib.packaged_spec(tree) == _reference_spec(tree)


def test_packaged_models_share_trees_as_reference():
    summary = json.loads((AF2_REFERENCE / "param_spec_tree_summary.json").read_text())
    for group in summary["groups_with_identical_tree"]:
        specs = [params_lib.packaged_spec(name) for name in group]
        assert all(spec == specs[0] for spec in specs)
    for name, info in summary["models"].items():
        spec = params_lib.packaged_spec(name)
        assert len(spec) == info["num_arrays"]
        assert sum(int(np.prod(s)) for s in spec.values()) == info["num_parameters"]


def test_flat_nested_round_trip_splits_once():
    flat = {"a/b//w": np.zeros(2), "a/b//b": np.ones(1), "c//x//y": np.zeros(3)}
    nested = params_lib.flat_to_nested(flat)
    assert set(nested) == {"a/b", "c"}
    assert set(nested["c"]) == {"x//y"}
    assert params_lib.nested_to_flat(nested).keys() == flat.keys()


def _write_npz(path, arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)


@pytest.fixture(scope="module")
def full_size_file(tmp_path_factory):
    """A synthetic full-size model_3_ptm file (93M float32 zeros, official layout)."""
    spec = params_lib.packaged_spec("model_3_ptm")
    path = tmp_path_factory.mktemp("params") / "params_model_3_ptm.npz"
    params_lib.save_params(path, {k: np.zeros(s, np.float32) for k, s in spec.items()})
    return path


def test_full_size_file_loads_and_matches_spec(full_size_file):
    spec = params_lib.packaged_spec("model_3_ptm")
    nested = params_lib.load_params(full_size_file, spec)
    assert params_lib.spec_of(nested) == spec
    key = "alphafold/alphafold_iteration/evoformer/evoformer_iteration/msa_row_attention_with_pair_bias"
    assert nested[key]["feat_2d_weights"].shape == (48, 128, 8)
    # the same file is the wrong tree for model_1_ptm: all template keys are reported missing
    with pytest.raises(InputError) as info:
        params_lib.load_params(full_size_file, params_lib.packaged_spec("model_1_ptm"))
    assert "missing keys" in str(info.value) and "template_embedding" in str(info.value)
    assert str(full_size_file) in str(info.value)


def test_truncated_file_refused(tmp_path):
    path = tmp_path / "full.npz"
    _write_npz(path, {"m//w": np.arange(1000, dtype=np.float32), "m//b": np.ones(10, np.float32)})
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 10):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(InputError) as info:
            params_lib.load_params(bad)
        assert "truncated" in str(info.value) and str(bad) in str(info.value)


def test_corrupt_member_refused(tmp_path):
    path = tmp_path / "p.npz"
    _write_npz(path, {"m//w": np.arange(1000, dtype=np.float32)})
    data = bytearray(path.read_bytes())
    data[200] ^= 0xFF  # flip a byte inside the stored array
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="corrupt|CRC"):
        params_lib.load_params(path)


def test_object_array_refused(tmp_path):
    path = tmp_path / "pickle.npz"
    _write_npz(path, {"m//w": np.ones(3, np.float32), "m//evil": np.array([{"a": 1}], dtype=object)})
    with pytest.raises(InputError, match="pickle") as info:
        params_lib.load_params(path)
    assert "m//evil" in str(info.value)


def test_non_npz_and_missing_file_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("hello")
    with pytest.raises(InputError, match="not a complete npz"):
        params_lib.load_params(text)
    with pytest.raises(InputError, match="not found"):
        params_lib.load_params(tmp_path / "absent.npz")


def test_mismatches_reported_in_one_message(tmp_path):
    expected = {"m//w": (4, 3), "m//b": (3,), "n//scale": (3,)}
    path = tmp_path / "p.npz"
    _write_npz(path, {"m//w": np.zeros((4, 2), np.float32), "m//b": np.zeros(3, np.float32),
                      "x//extra": np.zeros(1, np.float32)})
    with pytest.raises(InputError) as info:
        params_lib.load_params(path, expected)
    message = str(info.value)
    assert "1 missing keys: n//scale" in message
    assert "1 unexpected keys: x//extra" in message
    assert "m//w has [4, 2], expected [4, 3]" in message


def test_integer_arrays_refused(tmp_path):
    path = tmp_path / "p.npz"
    _write_npz(path, {"m//w": np.zeros(3, np.int32)})
    with pytest.raises(InputError, match="dtype int32"):
        params_lib.load_params(path)


def test_save_is_atomic_and_round_trips(tmp_path):
    nested = {"a/b": {"weights": np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)},
              "a/c": {"scale": np.ones(2, np.float32)}}
    path = tmp_path / "out" / "params.npz"
    params_lib.save_params(path, nested)
    assert [p.name for p in path.parent.iterdir()] == ["params.npz"]
    loaded = params_lib.load_params(path, params_lib.spec_of(nested))
    np.testing.assert_array_equal(loaded["a/b"]["weights"], nested["a/b"]["weights"])
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["a/b//weights.npy", "a/c//scale.npy"]
    with pytest.raises(ValueError):
        params_lib.save_params(tmp_path / "bad.npz", {"noseparator": np.zeros(1)})
    assert not (tmp_path / "bad.npz").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_golden_params_load_with_official_layout():
    nested = params_lib.load_params(AF2_REFERENCE / "tiny_model_1_ptm_params.npz")
    assert len(params_lib.nested_to_flat(nested)) == 338
    full = params_lib.packaged_spec("model_1_ptm")
    assert set(params_lib.spec_of(nested)) == set(full)


def test_closest_model():
    spec = params_lib.packaged_spec("model_3")
    name, diff = params_lib.closest_model(spec)
    assert name in ("model_3", "model_4", "model_5") and diff.ok
    spec.pop(next(iter(spec)))
    name, diff = params_lib.closest_model(spec)
    assert len(diff.missing) == 1 and not diff.extra and name[:7] in ("model_3", "model_4", "model_5")


def test_describe_params_file(full_size_file, tmp_path):
    from foldkit.model.params_check import describe_params_file

    summary = describe_params_file(full_size_file)
    assert "338" not in summary and "267 arrays" in summary and "92,907,930" in summary
    assert "model_3_ptm" in summary
    with pytest.raises(InputError, match="model_1_ptm"):
        describe_params_file(AF2_REFERENCE / "tiny_model_1_ptm_params.npz")  # tiny sizes, not full size
    renamed = tmp_path / "params_model_1.npz"
    renamed.symlink_to(full_size_file)
    with pytest.raises(InputError, match="missing keys"):
        describe_params_file(renamed)
