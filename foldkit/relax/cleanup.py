"""pdbfixer clean-up before minimisation, and hydrogens placed again between rounds.

:func:`prepare` writes the model's heavy atoms as PDB text (one chain per
segment, residues numbered from 1) and runs pdbfixer: modified residues
replaced by their standard parents, heterogens removed, missing heavy atoms
and terminal OXT added, hydrogens added at the given pH (OpenMM's Modeller).
Modeller starts new hydrogens at positions drawn from Python's ``random``
module; it is seeded here (and its state restored afterwards), and rebuilt
heavy atoms use pdbfixer's seeded integrator, so a run on one CPU thread is
reproducible bit for bit.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import random
from typing import Iterator

import numpy as np

from foldkit import constants as rc
from foldkit.errors import FoldkitError
from foldkit.relax.layout import ModelLayout
from foldkit.relax.platforms import PlatformChoice

ANGSTROM_PER_NM = 10.0
_PDB_CHAIN_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


class RelaxError(FoldkitError):
    """A structure that could not be prepared or minimised (the message gives the reason)."""


@dataclasses.dataclass(frozen=True)
class AllAtomModel:
    """An OpenMM topology (heavy atoms and hydrogens) with positions; residues in model order."""

    topology: object              # openmm.app.Topology
    positions: np.ndarray         # [N, 3] Å

    @property
    def hydrogen(self) -> np.ndarray:
        """[N] True for hydrogens."""
        return np.array([atom.element is not None and atom.element.symbol == "H"
                         for atom in self.topology.atoms()], dtype=bool)

    @property
    def atom_residue(self) -> np.ndarray:
        """[N] model residue index of each atom."""
        return np.array([atom.residue.index for atom in self.topology.atoms()], dtype=np.int64)


@dataclasses.dataclass(frozen=True)
class Alterations:
    """What pdbfixer changed, by residue label."""

    replaced_residues: dict[str, str]         # 'A:12 MSE' -> 'MET'
    rebuilt_atoms: dict[str, list[str]]       # 'A:25 TRP' -> ['CG', 'CD1', ...]
    added_terminal_atoms: dict[str, list[str]]  # 'A:73 LYS' -> ['OXT']
    chain_breaks: list[str]                   # 'A:40/A:45': gaps that start a new segment

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@contextlib.contextmanager
def seeded_random(seed: int) -> Iterator[None]:
    """Seed Python's ``random`` (used by OpenMM's Modeller) for the block, then restore its state."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def pdbfixer_input(layout: ModelLayout) -> str:
    """Heavy atoms of the model as PDB text: one chain per segment (TER after each), numbered from 1."""
    lines = []
    serial = 1
    bounds = list(layout.segment_starts) + [layout.num_residues]
    for segment, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        chain_id = _PDB_CHAIN_IDS[segment % len(_PDB_CHAIN_IDS)]
        for number, residue in enumerate(range(start, stop), 1):
            protein = layout.chains[layout.chain_of_residue[residue]]
            i = layout.residue_in_chain[residue]
            aatype = int(protein.aatype[i])
            resname = rc.resname_of(aatype) if aatype < rc.UNK_INDEX else layout.input_names[residue]
            for atom in np.flatnonzero(protein.atom_mask[i] > 0):
                name = rc.ATOM_TYPES[atom]
                x, y, z = np.asarray(protein.atom_positions[i, atom], dtype=np.float64)
                padded = name if len(name) == 4 else f" {name:<3s}"
                lines.append(f"ATOM  {serial % 100000:5d} {padded} {resname:>3s} {chain_id}{number % 10000:4d}    "
                             f"{x:8.3f}{y:8.3f}{z:8.3f}  1.00  0.00          {name[0]:>2s}")
                serial += 1
        lines.append("TER")
    return "\n".join(lines + ["END"]) + "\n"


def prepare(layout: ModelLayout, platform: PlatformChoice, seed: int = 0, ph: float = 7.0
            ) -> tuple[AllAtomModel, Alterations]:
    """The cleaned all-atom model (see the module docstring) and what pdbfixer changed."""
    import openmm.unit as unit
    from pdbfixer import PDBFixer

    with platform.as_default():
        try:
            fixer = PDBFixer(pdbfile=io.StringIO(pdbfixer_input(layout)), platform=platform.platform)
            fixer.findNonstandardResidues()
            replaced = {r.index: name for r, name in fixer.nonstandardResidues}
            fixer.replaceNonstandardResidues()
            fixer.removeHeterogens(keepWater=False)
            fixer.missingResidues = {}          # never invent residues (no SEQRES here anyway)
            fixer.findMissingAtoms()
            rebuilt = {r.index: [a.name for a in atoms] for r, atoms in fixer.missingAtoms.items()}
            terminal = {r.index: list(names) for r, names in fixer.missingTerminals.items()}
            fixer.addMissingAtoms(seed=seed)
            with seeded_random(seed):
                fixer.addMissingHydrogens(ph)
        except FoldkitError:
            raise
        except Exception as exc:     # pdbfixer/OpenMM raise plain Exceptions
            raise RelaxError(f"pdbfixer clean-up failed: {type(exc).__name__}: {exc}") from None
    topology = fixer.topology
    if topology.getNumResidues() != layout.num_residues:
        raise RelaxError(f"pdbfixer kept {topology.getNumResidues()} of {layout.num_residues} residues")
    positions = np.asarray(fixer.positions.value_in_unit(unit.nanometer), dtype=np.float64) * ANGSTROM_PER_NM

    def label(index: int) -> str:
        return f"{layout.labels[index]} {layout.input_names[index]}"

    breaks = [f"{layout.labels[s - 1]}/{layout.labels[s]}" for s in layout.segment_starts
              if s > 0 and layout.chain_of_residue[s] == layout.chain_of_residue[s - 1]]
    alterations = Alterations(replaced_residues={label(i): name for i, name in replaced.items()},
                              rebuilt_atoms={label(i): names for i, names in rebuilt.items()},
                              added_terminal_atoms={label(i): names for i, names in terminal.items()},
                              chain_breaks=breaks)
    return AllAtomModel(topology, positions), alterations


def replace_hydrogens(model: AllAtomModel, platform: PlatformChoice, seed: int = 0, ph: float = 7.0
                      ) -> AllAtomModel:
    """The same heavy atoms with hydrogens removed and placed again (as a fresh clean-up would)."""
    import openmm.app as app
    import openmm.unit as unit

    modeller = app.Modeller(model.topology, (model.positions / ANGSTROM_PER_NM) * unit.nanometer)
    modeller.delete([atom for atom, is_h in zip(model.topology.atoms(), model.hydrogen) if is_h])
    with platform.as_default(), seeded_random(seed):
        try:
            modeller.addHydrogens(pH=ph, platform=platform.platform)
        except Exception as exc:
            raise RelaxError(f"placing hydrogens failed: {type(exc).__name__}: {exc}") from None
    positions = np.asarray(modeller.positions.value_in_unit(unit.nanometer), dtype=np.float64) * ANGSTROM_PER_NM
    return AllAtomModel(modeller.topology, positions)
