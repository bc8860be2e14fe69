"""Parameter files in the official AlphaFold2 layout (npz, no pickle).

An official file maps ``"<haiku module path>//<parameter name>"`` to a float32
array; repeated blocks are stacked on a leading axis. foldkit's haiku modules
use the same paths, so loading is: read the npz, split every key once on
``'//'``, check every key and shape against the spec of the preset.

The spec of a preset is the key -> shape tree that foldkit's own
initialisation produces (:func:`foldkit.model.alphafold.param_spec_from_init`,
via ``jax.eval_shape``) and that ships as packaged JSON for checking without
tracing (:func:`packaged_spec`).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import zipfile
from importlib import resources
from pathlib import Path
from typing import Mapping

import numpy as np

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_writer

SEPARATOR = "//"
ParamSpec = dict[str, tuple[int, ...]]          # flat key -> shape (float32)
NestedParams = dict[str, dict[str, np.ndarray]]  # haiku layout: module path -> name -> array


# --------------------------------------------------------------------------- layout

def flat_to_nested(flat: Mapping[str, np.ndarray]) -> NestedParams:
    """``{"a/b//w": x}`` -> ``{"a/b": {"w": x}}`` (split once on ``'//'``)."""
    nested: NestedParams = {}
    for key, value in flat.items():
        if SEPARATOR not in key:
            raise ValueError(f"parameter key {key!r} has no '{SEPARATOR}' separator")
        module, name = key.split(SEPARATOR, 1)
        nested.setdefault(module, {})[name] = value
    return nested


def nested_to_flat(nested: Mapping[str, Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Inverse of :func:`flat_to_nested`."""
    return {f"{module}{SEPARATOR}{name}": value
            for module, leaves in nested.items() for name, value in leaves.items()}


def spec_of(params: Mapping) -> ParamSpec:
    """Key -> shape of a flat or nested parameter tree (arrays or ShapeDtypeStructs)."""
    flat = _as_flat(params)
    return {key: tuple(int(d) for d in value.shape) for key, value in flat.items()}


def _as_flat(params: Mapping) -> Mapping:
    if params and all(isinstance(v, Mapping) for v in params.values()):
        return nested_to_flat(params)
    return params


# --------------------------------------------------------------------------- specs

@functools.lru_cache(maxsize=1)
def _packaged_specs() -> dict:
    text = resources.files("foldkit").joinpath("data/af2_param_specs.json").read_text()
    return json.loads(text)


def known_models() -> tuple[str, ...]:
    """Names of the presets with a packaged spec (model_1..5, model_1..5_ptm)."""
    return tuple(sorted(_packaged_specs()["models"]))


def packaged_spec(model_name: str) -> ParamSpec:
    """The full-size parameter spec of an official model, from packaged JSON."""
    specs = _packaged_specs()
    if model_name not in specs["models"]:
        raise KeyError(f"unknown model {model_name!r}; known: {', '.join(known_models())}")
    tree = specs["trees"][specs["models"][model_name]]["params"]
    return {key: tuple(shape) for key, shape in tree.items()}


@dataclasses.dataclass(frozen=True)
class SpecDiff:
    """How a parameter tree differs from a spec."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    mismatched: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...]  # key, found, expected

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched)

    @property
    def size(self) -> int:
        return len(self.missing) + len(self.extra) + len(self.mismatched)

    def message(self, limit: int = 8) -> str:
        """One message listing every kind of difference (first ``limit`` of each)."""
        parts = []

        def listing(title, items, fmt):
            shown = "; ".join(fmt(item) for item in items[:limit])
            more = f"; ... and {len(items) - limit} more" if len(items) > limit else ""
            parts.append(f"{len(items)} {title}: {shown}{more}")

        if self.missing:
            listing("missing keys", self.missing, str)
        if self.extra:
            listing("unexpected keys", self.extra, str)
        if self.mismatched:
            listing("shape mismatches", self.mismatched,
                    lambda m: f"{m[0]} has {list(m[1])}, expected {list(m[2])}")
        return " | ".join(parts)


def diff_spec(found: ParamSpec, expected: ParamSpec) -> SpecDiff:
    missing = tuple(sorted(set(expected) - set(found)))
    extra = tuple(sorted(set(found) - set(expected)))
    mismatched = tuple((key, found[key], expected[key]) for key in sorted(set(found) & set(expected))
                       if tuple(found[key]) != tuple(expected[key]))
    return SpecDiff(missing, extra, mismatched)


def verify_params(params: Mapping, expected: ParamSpec, *, path: str | os.PathLike | None = None,
                  what: str = "parameters") -> None:
    """Raise InputError naming every missing/extra/mismatched key, if any."""
    diff = diff_spec(spec_of(params), expected)
    if not diff.ok:
        raise InputError(f"{what} do not match the expected tree: {diff.message()}",
                         path=None if path is None else str(path))


def closest_model(found: ParamSpec, candidates: tuple[str, ...] | None = None) -> tuple[str, SpecDiff]:
    """The packaged model whose spec differs least from ``found``."""
    best = None
    for name in candidates or known_models():
        diff = diff_spec(found, packaged_spec(name))
        if best is None or diff.size < best[1].size:
            best = (name, diff)
    return best


# --------------------------------------------------------------------------- reading

def read_header_spec(path: str | os.PathLike) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Key -> (shape, dtype) from the npy headers only (no array data read).

    Refuses files that are not complete zip archives and arrays that would
    need pickle.
    """
    path = Path(path)
    result = {}
    with _open_zip(path) as archive:
        for member in archive.infolist():
            key = _array_key(member.filename, path)
            try:
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise InputError(f"array {key!r} has an unreadable header ({exc})", path=str(path)) from None
            _refuse_object_dtype(dtype, key, path)
            result[key] = (tuple(shape), dtype)
    return result


def load_params(path: str | os.PathLike, expected: ParamSpec | None = None) -> NestedParams:
    """Read an official-layout npz into haiku's nested dict.

    With ``expected`` every key and shape is checked first (one InputError
    listing all differences). Truncated files, non-npz files and object
    arrays (pickle) are refused with InputError.
    """
    path = Path(path)
    headers = read_header_spec(path)
    if expected is not None:
        diff = diff_spec({k: s for k, (s, _) in headers.items()}, expected)
        if not diff.ok:
            raise InputError(f"parameter file does not match the expected tree: {diff.message()}",
                             path=str(path))
    flat = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for key in npz.files:
                flat[key] = npz[key]
    except ValueError as exc:  # object arrays, bad headers
        raise InputError(f"cannot read arrays without pickle ({exc})", path=str(path)) from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"file is truncated or corrupt ({exc})", path=str(path)) from None
    for key, array in flat.items():
        if not np.issubdtype(array.dtype, np.floating):
            raise InputError(f"array {key!r} has dtype {array.dtype}, expected floating point",
                             path=str(path))
    try:
        return flat_to_nested(flat)
    except ValueError as exc:
        raise InputError(str(exc), path=str(path)) from None


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise InputError("parameter file not found", path=str(path))
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        size = path.stat().st_size
        raise InputError(f"not a complete npz archive ({size} bytes; truncated or not an npz file)",
                         path=str(path)) from None
    bad = None
    try:
        bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        archive.close()
        raise InputError(f"npz archive is truncated or corrupt ({exc})", path=str(path)) from None
    if bad is not None:
        archive.close()
        raise InputError(f"npz archive is corrupt: member {bad!r} fails its CRC check", path=str(path))
    return archive


def _array_key(member_name: str, path: Path) -> str:
    if not member_name.endswith(".npy"):
        raise InputError(f"npz member {member_name!r} is not an .npy array", path=str(path))
    return member_name[: -len(".npy")]


def _refuse_object_dtype(dtype: np.dtype, key: str, path: Path) -> None:
    if dtype.hasobject:
        raise InputError(f"array {key!r} holds Python objects (needs pickle); refused", path=str(path))


# --------------------------------------------------------------------------- writing

def save_params(path: str | os.PathLike, params: Mapping) -> None:
    """Write a flat or nested tree as an official-layout npz, atomically.

    The file appears complete or not at all (temporary file + rename).
    """
    path = Path(path)
    flat = {key: np.asarray(value) for key, value in _as_flat(params).items()}
    for key, value in flat.items():
        if SEPARATOR not in key:
            raise ValueError(f"parameter key {key!r} has no '{SEPARATOR}' separator")
        if value.dtype.hasobject:
            raise ValueError(f"parameter {key!r} is an object array")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path, "wb") as handle:
        np.savez(handle, **flat)
