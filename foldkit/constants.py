"""Residue tables of AlphaFold2 (atom37 order, restypes, rigid groups ...).

Loaded once from the packaged ``data/residue_constants.json`` (a dump of
AlphaFold's ``residue_constants`` module). Arrays are returned read-only.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

import numpy as np


def _decode(obj: Any) -> Any:
    if isinstance(obj, dict):
        if obj.get("__ndarray__"):
            arr = np.asarray(obj["data"], dtype=obj["dtype"]).reshape(obj["shape"])
            arr.setflags(write=False)
            return arr
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


@functools.lru_cache(maxsize=1)
def tables() -> dict[str, Any]:
    """All residue-constant tables, keyed as in AlphaFold's module."""
    text = resources.files("foldkit").joinpath("data/residue_constants.json").read_text()
    return _decode(json.loads(text))


def table(name: str) -> Any:
    """One table; numpy arrays come back read-only."""
    return tables()[name]


# Small immutable tables used everywhere (copied from the JSON, so they agree).
RESTYPES: tuple[str, ...] = tuple(table("restypes"))               # 20 one-letter codes
RESTYPES_WITH_X: tuple[str, ...] = RESTYPES + ("X",)
RESTYPE_ORDER: dict[str, int] = {r: i for i, r in enumerate(RESTYPES)}
UNK_INDEX: int = len(RESTYPES)                                     # 20
ATOM_TYPES: tuple[str, ...] = tuple(table("atom_types"))           # atom37 names
ATOM_ORDER: dict[str, int] = {a: i for i, a in enumerate(ATOM_TYPES)}
ATOM_TYPE_NUM: int = len(ATOM_TYPES)                               # 37
RESTYPE_1TO3: dict[str, str] = dict(table("restype_1to3"))
RESTYPE_3TO1: dict[str, str] = {v: k for k, v in RESTYPE_1TO3.items()}
UNK_RESNAME = "UNK"


def resname_of(aatype: int) -> str:
    """Three-letter residue name of an aatype index (20 -> UNK)."""
    return RESTYPE_1TO3[RESTYPES[aatype]] if aatype < UNK_INDEX else UNK_RESNAME


def aatype_of(resname: str) -> int:
    """aatype index of a three-letter residue name (unknown -> 20)."""
    one = RESTYPE_3TO1.get(resname.upper())
    return RESTYPE_ORDER[one] if one is not None else UNK_INDEX


def residue_atoms(resname: str) -> tuple[str, ...]:
    """Heavy atoms (atom37 names) that a standard residue has."""
    return tuple(table("residue_atoms").get(resname, ("N", "CA", "C", "O", "CB")))
