"""Which chains go into a relaxation and how: input checks, residue labels and chain segments.

A model is the protein chains of one structure, relaxed together. Checks
(each an :class:`~foldkit.errors.InputError` naming the residue):

* at least one protein residue; finite coordinates;
* residue names: the 20 standard ones, or a modified residue that pdbfixer
  replaces by its standard parent (MSE, SEP, HYP, ...); anything else
  (UNK, ligands read as residues) has no AMBER template;
* backbone atoms N, CA, C and O in every residue;
* missing side-chain atoms: rebuilt by pdbfixer, or rejected when
  ``rebuild_missing_atoms`` is off (AlphaFold v2.3.2 rejects them);
* no segment of a single residue (AMBER has no template for a free amino acid).

Segments: a chain is cut where residue numbers jump (neither the next number
nor an insertion code of the same one) *and* the peptide C-N distance exceeds
:data:`BREAK_DISTANCE`: a real gap gets its own termini instead of a bond
stretched across it. Consecutive numbers are always bonded, as in AlphaFold2.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.errors import InputError
from foldkit.protein import Protein

BACKBONE = ("N", "CA", "C", "O")
BREAK_DISTANCE = 2.5            # Å, C(i)-N(i+1) beyond which a numbering gap is a chain break


def replaceable_residues() -> dict[str, str]:
    """Modified residue name -> standard parent that pdbfixer substitutes."""
    from pdbfixer.pdbfixer import substitutions

    return dict(substitutions)


def residue_label(chain_id: str, number: int, icode: str = "") -> str:
    """'A:45' ('45' for a blank chain id; insertion code appended: 'A:52A')."""
    chain = chain_id.strip()
    return f"{chain}:{number}{icode.strip()}" if chain else f"{number}{icode.strip()}"


@dataclasses.dataclass(frozen=True)
class ModelLayout:
    """The residues of a model (R residues over all chains, in file order) and their segments."""

    chains: tuple[Protein, ...]
    chain_of_residue: np.ndarray      # [R] index into chains
    residue_in_chain: np.ndarray      # [R] index inside its chain
    segment_starts: tuple[int, ...]   # first residue (model index) of each segment
    input_names: tuple[str, ...]      # [R] residue names as read ('SEP', 'MSE', standard names)
    labels: tuple[str, ...]           # [R] 'A:45'

    @property
    def num_residues(self) -> int:
        return len(self.chain_of_residue)

    @property
    def segment_ids(self) -> np.ndarray:
        """[R] segment number of each residue."""
        starts = np.zeros(self.num_residues, dtype=np.int64)
        starts[list(self.segment_starts)] = 1
        return np.cumsum(starts) - 1

    @property
    def relax_index(self) -> np.ndarray:
        """[R] residue numbering for the violation check: consecutive inside a segment, a gap between them."""
        return np.arange(self.num_residues) + 10 * self.segment_ids

    def stacked(self, field: str) -> np.ndarray:
        """A per-residue Protein field ([L, ...] arrays) concatenated over the chains ([R, ...])."""
        return np.concatenate([np.asarray(getattr(chain, field)) for chain in self.chains])

    def index_of_label(self, label: str) -> int | None:
        try:
            return self.labels.index(label)
        except ValueError:
            return None


def _names(protein: Protein) -> tuple[str, ...]:
    if protein.resnames is not None:
        return tuple(protein.resnames)
    return tuple(rc.resname_of(int(a)) for a in protein.aatype)


def model_layout(chains: Sequence[Protein], path: str, rebuild_missing_atoms: bool = True) -> ModelLayout:
    """Check the chains of a structure (see the module docstring) and lay them out for relaxation."""
    chains = tuple(c for c in chains if len(c))
    if not chains:
        raise InputError("no protein residues to relax", path=path)
    replaceable = replaceable_residues()
    chain_of_residue, residue_in_chain, names, labels, starts = [], [], [], [], []
    for chain_number, chain in enumerate(chains):
        icodes = chain.insertion_codes or ("",) * len(chain)
        chain_labels = [residue_label(chain.chain_id, int(n), c) for n, c in zip(chain.residue_index, icodes)]
        chain_names = _names(chain)
        _check_chain(chain, chain_labels, chain_names, replaceable, rebuild_missing_atoms, path)
        offset = len(chain_of_residue)
        starts += [offset + i for i in _segment_starts(chain, icodes)]
        chain_of_residue += [chain_number] * len(chain)
        residue_in_chain += list(range(len(chain)))
        names += chain_names
        labels += chain_labels
    bounds = starts + [len(labels)]
    for start, stop in zip(bounds[:-1], bounds[1:]):
        if stop - start == 1:
            raise InputError(f"residue {labels[start]} is a chain segment of one residue (numbering gap on both "
                             "sides); AMBER has no template for a free amino acid", path=path)
    return ModelLayout(chains, np.asarray(chain_of_residue), np.asarray(residue_in_chain), tuple(starts),
                       tuple(names), tuple(labels))


def _check_chain(chain: Protein, labels: list[str], names: tuple[str, ...], replaceable: dict[str, str],
                 rebuild_missing_atoms: bool, path: str) -> None:
    mask = np.asarray(chain.atom_mask) > 0                                             # [L, 37]
    positions = np.asarray(chain.atom_positions)                                      # [L, 37, 3]
    bad = mask & ~np.isfinite(positions).all(axis=-1)
    if bad.any():
        i, atom = np.argwhere(bad)[0]
        raise InputError(f"residue {labels[i]} atom {rc.ATOM_TYPES[atom]}: coordinate is not a finite number "
                         f"({positions[i, atom].tolist()})", path=path)
    for i, (aatype, name) in enumerate(zip(chain.aatype, names)):
        if aatype == rc.UNK_INDEX and name not in replaceable:
            raise InputError(f"residue {labels[i]} {name}: unknown residue name (not one of the 20 amino acids "
                             "nor a modified residue pdbfixer can replace); AMBER has no template for it", path=path)
    for atom in BACKBONE:
        missing = np.flatnonzero(~mask[:, rc.ATOM_ORDER[atom]])
        if len(missing):
            shown = ", ".join(labels[i] for i in missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise InputError(f"chain {chain.chain_id.strip() or '(blank)'}: backbone atom {atom} missing in "
                             f"{len(missing)} residue(s): {shown}", path=path)
    if not rebuild_missing_atoms:
        expected = np.asarray(rc.table("restype_atom37_mask"))[np.minimum(chain.aatype, rc.UNK_INDEX)] > 0
        incomplete = np.flatnonzero((expected & ~mask).any(axis=-1) & (chain.aatype < rc.UNK_INDEX))
        if len(incomplete):
            i = incomplete[0]
            atoms = [rc.ATOM_TYPES[a] for a in np.flatnonzero(expected[i] & ~mask[i])]
            raise InputError(f"{len(incomplete)} residue(s) miss heavy atoms, first {labels[i]} {names[i]} "
                             f"({', '.join(atoms)}); rebuilding them is switched off", path=path)


def _segment_starts(chain: Protein, icodes: Sequence[str]) -> list[int]:
    """Residue indices (in the chain) where a segment starts: 0 and every real gap."""
    numbers = np.asarray(chain.residue_index, dtype=np.int64)
    step = np.diff(numbers)
    same_number_new_code = (step == 0) & np.array([a != b for a, b in zip(icodes[:-1], icodes[1:])], dtype=bool)
    consecutive = (step == 1) | same_number_new_code                                   # [L-1]
    c_atoms = chain.atom_positions[:-1, rc.ATOM_ORDER["C"]]
    n_atoms = chain.atom_positions[1:, rc.ATOM_ORDER["N"]]
    far = np.linalg.norm(c_atoms - n_atoms, axis=-1) > BREAK_DISTANCE                  # [L-1]
    return [0] + [int(i) + 1 for i in np.flatnonzero(~consecutive & far)]
