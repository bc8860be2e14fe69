"""A multi-chain structure as the complex scorer sees it: chains plus concatenated per-residue arrays."""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.protein import Protein

CA = rc.ATOM_ORDER["CA"]
CB = rc.ATOM_ORDER["CB"]
GLY = rc.RESTYPE_ORDER["G"]
BACKBONE = tuple(rc.ATOM_ORDER[name] for name in ("N", "CA", "C", "O"))


@dataclasses.dataclass(frozen=True)
class Complex:
    """Protein chains of one model of a structure file, in file order.

    Per-residue arrays run over all chains concatenated (R residues):
    chain_of_residue [R], chain_start [C + 1] (chain c owns residues
    chain_start[c] .. chain_start[c + 1] - 1), positions [R, 37, 3], mask [R, 37].
    """

    chains: tuple[Protein, ...]
    name: str = "structure"

    def __post_init__(self):
        ids = [c.chain_id for c in self.chains]
        if len(set(ids)) != len(ids):
            repeated = ", ".join(sorted({i for i in ids if ids.count(i) > 1}))
            raise InputError(f"chain ids occur more than once: {repeated}", path=self.name)

    @property
    def chain_ids(self) -> tuple[str, ...]:
        return tuple(c.chain_id for c in self.chains)

    def index_of(self, chain_id: str) -> int:
        return self.chain_ids.index(chain_id)

    @functools.cached_property
    def sequences(self) -> tuple[str, ...]:
        """One-letter sequence of each chain."""
        return tuple(c.sequence for c in self.chains)

    @functools.cached_property
    def chain_start(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum([len(c) for c in self.chains])]).astype(np.int64)

    @functools.cached_property
    def chain_of_residue(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.chains)), [len(c) for c in self.chains]).astype(np.int64)

    @functools.cached_property
    def positions(self) -> np.ndarray:
        return np.concatenate([np.asarray(c.atom_positions, dtype=np.float32) for c in self.chains])   # [R, 37, 3]

    @functools.cached_property
    def mask(self) -> np.ndarray:
        return np.concatenate([np.asarray(c.atom_mask) > 0 for c in self.chains])                     # [R, 37]

    @functools.cached_property
    def aatype(self) -> np.ndarray:
        return np.concatenate([np.asarray(c.aatype) for c in self.chains]).astype(np.int64)          # [R]

    @property
    def n_residues(self) -> int:
        return int(self.chain_start[-1])

    @functools.cached_property
    def representative(self) -> np.ndarray:
        """[R, 3] CB (CA for Gly) per residue, NaN where that atom is missing (QS-score contacts)."""
        pos = self.positions.astype(np.float64)
        atom = np.where(self.aatype == GLY, CA, CB)
        rep = pos[np.arange(self.n_residues), atom]
        rep[~self.mask[np.arange(self.n_residues), atom]] = np.nan
        return rep

    @functools.cached_property
    def heavy_atoms(self) -> tuple[np.ndarray, np.ndarray]:
        """Heavy atoms grouped by residue: xyz [A, 3] float64 and residue_start [R + 1]."""
        res, atom = np.nonzero(self.mask)
        xyz = self.positions[res, atom].astype(np.float64)
        return xyz, np.searchsorted(res, np.arange(self.n_residues + 1)).astype(np.int64)


def complex_from_chains(chains: list[Protein] | tuple[Protein, ...], name: str = "structure") -> Complex:
    """A Complex of the given chains, refusing an empty structure."""
    chains = tuple(c for c in chains if len(c))
    if not chains:
        raise InputError("no protein residues", path=name)
    return Complex(chains=chains, name=name)


def read_complex(path: str | os.PathLike) -> Complex:
    """Every protein chain of the first model of a PDB / mmCIF / CASP TS file."""
    from foldkit.io.structure import read_chains

    return complex_from_chains(read_chains(path), name=str(path))
