"""``foldkit check params.npz``: describe a parameter file and verify it against its preset."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from foldkit.errors import InputError
from foldkit.model import params as params_lib

_NAME_IN_FILE = re.compile(r"(model_[1-5](?:_multimer_v3|_ptm)?)(?=\.|$)")


def describe_params_file(path: str | os.PathLike) -> str:
    """A one-paragraph summary of a parameter file, or InputError if it is unusable.

    The preset is taken from the file name (``params_model_1_ptm.npz``,
    ``params_model_1_multimer_v3.npz``) when it names one, otherwise it is the packaged spec closest to the file's
    tree; every key and shape must match that spec. Only the npy headers and
    CRCs are read, so full-size files are checked quickly.
    """
    path = Path(path)
    headers = params_lib.read_header_spec(path)
    found = {key: shape for key, (shape, _) in headers.items()}
    named = _NAME_IN_FILE.search(path.name)
    if named:
        model = named.group(1)
        diff = params_lib.diff_spec(found, params_lib.packaged_spec(model))
    else:
        model, diff = params_lib.closest_model(found)
    if not diff.ok:
        how = "named in the file name" if named else "closest tree"
        raise InputError(f"not a valid parameter file for {model} ({how}): {diff.message()}", path=str(path))
    not_float32 = sorted(k for k, (_, dtype) in headers.items() if dtype != np.float32)
    if not_float32:
        raise InputError(f"{len(not_float32)} arrays are not float32 (first: {not_float32[0]})", path=str(path))
    sharing = [m for m in params_lib.known_models() if params_lib.packaged_spec(m) == params_lib.packaged_spec(model)]
    num_parameters = sum(int(np.prod(shape)) for shape in found.values())
    kind = "AlphaFold-Multimer" if "multimer" in model else "AlphaFold2"
    return (f"{path}: {kind} parameters, {len(found)} arrays, {num_parameters:,} float32 values; "
            f"matches the {model} tree exactly (same tree: {', '.join(sharing)})")
