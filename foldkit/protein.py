"""The central ``Protein`` record and atom14 <-> atom37 conversions."""

from __future__ import annotations

import dataclasses

import numpy as np

from foldkit import constants as rc


@dataclasses.dataclass(frozen=True)
class Protein:
    """One protein chain (or several, by ``chain_index``) in atom37 layout.

    Every structure reader returns it and every writer takes it.
    """

    aatype: np.ndarray          # [L] int, AlphaFold restype index (20 = UNK)
    atom_positions: np.ndarray  # [L, 37, 3] float, Angstrom
    atom_mask: np.ndarray       # [L, 37] float, 1 where the atom is present
    residue_index: np.ndarray   # [L] int, residue numbers as in the file
    chain_id: str = "A"         # chain identifier ('' or ' ' for blank CASP chains)
    b_factors: np.ndarray | None = None  # [L, 37] float (pLDDT for predictions)
    insertion_codes: tuple[str, ...] | None = None  # [L] insertion code per residue ('' = none)
    resnames: tuple[str, ...] | None = None  # [L] residue names exactly as read ('MSE' stays 'MSE'; aatype says MET)

    def __post_init__(self):
        n = len(self.aatype)
        if self.atom_positions.shape != (n, rc.ATOM_TYPE_NUM, 3):
            raise ValueError(f"atom_positions has shape {self.atom_positions.shape}, expected ({n}, 37, 3)")
        if self.atom_mask.shape != (n, rc.ATOM_TYPE_NUM):
            raise ValueError(f"atom_mask has shape {self.atom_mask.shape}, expected ({n}, 37)")
        if self.residue_index.shape != (n,):
            raise ValueError(f"residue_index has shape {self.residue_index.shape}, expected ({n},)")
        if self.b_factors is None:
            object.__setattr__(self, "b_factors", np.zeros((n, rc.ATOM_TYPE_NUM), dtype=np.float32))
        elif self.b_factors.shape != (n, rc.ATOM_TYPE_NUM):
            raise ValueError(f"b_factors has shape {self.b_factors.shape}, expected ({n}, 37)")
        if self.insertion_codes is not None and len(self.insertion_codes) != n:
            raise ValueError("insertion_codes must have one entry per residue")

    def __len__(self) -> int:
        return len(self.aatype)

    @property
    def sequence(self) -> str:
        """One-letter sequence (X for unknown residues)."""
        return "".join(rc.RESTYPES_WITH_X[min(int(a), rc.UNK_INDEX)] for a in self.aatype)

    @property
    def ca_positions(self) -> np.ndarray:
        """[L, 3] CA coordinates."""
        return self.atom_positions[:, rc.ATOM_ORDER["CA"]]

    @property
    def ca_mask(self) -> np.ndarray:
        """[L] 1 where the residue has a CA atom."""
        return self.atom_mask[:, rc.ATOM_ORDER["CA"]]

    @property
    def residue_keys(self) -> list[tuple[int, str]]:
        """(residue number, insertion code) per residue: the key for residue matching."""
        icodes = self.insertion_codes or ("",) * len(self)
        return [(int(r), c) for r, c in zip(self.residue_index, icodes)]

    def select(self, keep: np.ndarray) -> "Protein":
        """A new Protein with only the residues where ``keep`` ([L] bool or indices) is set."""
        idx = np.arange(len(self))[keep] if np.asarray(keep).dtype == bool else np.asarray(keep)
        return Protein(
            aatype=self.aatype[idx],
            atom_positions=self.atom_positions[idx],
            atom_mask=self.atom_mask[idx],
            residue_index=self.residue_index[idx],
            chain_id=self.chain_id,
            b_factors=self.b_factors[idx],
            insertion_codes=None if self.insertion_codes is None else tuple(self.insertion_codes[i] for i in idx),
            resnames=None if self.resnames is None else tuple(self.resnames[i] for i in idx),
        )

    def replace(self, **changes) -> "Protein":
        return dataclasses.replace(self, **changes)


def atom14_to_atom37(atom14: np.ndarray, aatype: np.ndarray) -> np.ndarray:
    """Scatter per-residue atom14 values ([L, 14, ...]) into atom37 layout ([L, 37, ...])."""
    idx37 = rc.table("derived_make_atom14_masks")["restype_atom37_to_atom14"][aatype]   # [L, 37]
    mask37 = rc.table("derived_make_atom14_masks")["restype_atom37_mask"][aatype]       # [L, 37]
    out = np.take_along_axis(atom14, idx37.reshape(idx37.shape + (1,) * (atom14.ndim - 2)), axis=1)
    return out * mask37.reshape(mask37.shape + (1,) * (atom14.ndim - 2))


def atom37_to_atom14(atom37: np.ndarray, aatype: np.ndarray) -> np.ndarray:
    """Gather per-residue atom37 values ([L, 37, ...]) into atom14 layout ([L, 14, ...])."""
    idx14 = rc.table("derived_make_atom14_masks")["restype_atom14_to_atom37"][aatype]   # [L, 14]
    mask14 = rc.table("derived_make_atom14_masks")["restype_atom14_mask"][aatype]       # [L, 14]
    out = np.take_along_axis(atom37, idx14.reshape(idx14.shape + (1,) * (atom37.ndim - 2)), axis=1)
    return out * mask14.reshape(mask14.shape + (1,) * (atom37.ndim - 2))
