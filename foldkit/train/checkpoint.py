"""Training checkpoints: one npz per save, written atomically, no pickle.

A checkpoint holds the parameters and the optimizer state as flat arrays
keyed by their pytree path (components joined with ``'//'``, e.g.
``params//alphafold/alphafold_iteration/...//weights``,
``opt_state//1//0//mu//...``), and a JSON string ``__meta__`` with the step,
the data stream state (seed, next example), the config and a description of
the tree (the ordered key list). Restoring fills the leaves into a template
tree (``optimizer.init(params)``) after checking that the keys match, so the
optimizer's namedtuples never need to be serialised.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import jax
import numpy as np

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_writer

META_KEY = "__meta__"
CHECKPOINT_NAME = "checkpoint.npz"


def _key_name(entry: Any) -> str:
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return str(getattr(entry, attr))
    return str(entry)


def flatten_tree(tree: Any, prefix: str) -> dict[str, np.ndarray]:
    """``{"prefix//a//b": leaf}`` in the tree's flattening order (leaves as numpy arrays)."""
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    flat = {}
    for path, leaf in leaves:
        key = "//".join([prefix] + [_key_name(p) for p in path])
        if key in flat:
            raise ValueError(f"duplicate checkpoint key {key!r}")
        flat[key] = np.asarray(leaf)
    return flat


def unflatten_into(template: Any, arrays: dict[str, np.ndarray], prefix: str, path: str | None = None) -> Any:
    """The template tree with every leaf replaced by ``arrays[key]`` (keys and shapes checked)."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(template)
    values = []
    for key_path, leaf in leaves:
        key = "//".join([prefix] + [_key_name(p) for p in key_path])
        if key not in arrays:
            raise InputError(f"checkpoint lacks {key!r} (was it written with another config?)", path=path)
        value = arrays[key]
        if value.shape != np.shape(leaf):
            raise InputError(f"checkpoint {key!r} has shape {value.shape}, expected {np.shape(leaf)}", path=path)
        values.append(value)
    expected = {"//".join([prefix] + [_key_name(p) for p in kp]) for kp, _ in leaves}
    extra = sorted(k for k in arrays if k.startswith(prefix + "//") and k not in expected)
    if extra:
        raise InputError(f"checkpoint has unexpected keys, e.g. {extra[0]!r}", path=path)
    return jax.tree_util.tree_unflatten(treedef, values)


def save_checkpoint(run_dir: str | Path, params: Any, opt_state: Any, step: int, data_state: dict,
                    extra_meta: dict | None = None) -> Path:
    """Write ``run_dir/checkpoint.npz`` atomically (temporary file + rename)."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    arrays = flatten_tree(params, "params")
    arrays.update(flatten_tree(opt_state, "opt_state"))
    meta = {"step": int(step), "data_state": data_state, "keys": list(arrays), **(extra_meta or {})}
    arrays[META_KEY] = np.asarray(json.dumps(meta))
    target = run_dir / CHECKPOINT_NAME
    with atomic_writer(target, "wb") as stream:
        np.savez(stream, **arrays)
    return target


def is_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is a foldkit training checkpoint (an npz with the metadata entry)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return f"{META_KEY}.npy" in archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def read_checkpoint(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a checkpoint file."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read checkpoint ({exc})", path=str(path)) from None
    if META_KEY not in arrays:
        raise InputError("not a foldkit training checkpoint (no __meta__)", path=str(path))
    meta = json.loads(str(arrays.pop(META_KEY)))
    return arrays, meta


def restore_checkpoint(path: str | Path, params_template: Any, opt_state_template: Any) -> tuple[Any, Any, dict]:
    """(params, opt_state, meta) restored into the templates' tree structure."""
    arrays, meta = read_checkpoint(path)
    params = unflatten_into(params_template, arrays, "params", str(path))
    opt_state = unflatten_into(opt_state_template, arrays, "opt_state", str(path))
    return params, opt_state, meta


def params_from_checkpoint(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Only the network parameters, as the haiku nested dict (module path -> name -> array)."""
    return params_and_meta(path)[0]


def params_and_meta(path: str | Path) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """The network parameters (haiku nested dict) and the metadata (step, data state) of one file read."""
    arrays, meta = read_checkpoint(path)
    nested: dict[str, dict[str, np.ndarray]] = {}
    for key, value in arrays.items():
        if key.startswith("params//"):
            _, module, name = key.split("//")
            nested.setdefault(module, {})[name] = value
    return nested, meta
