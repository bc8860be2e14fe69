"""AlphaFold2's relax protocol: clean-up, restrained minimisation, violation check, up to N rounds.

1. pdbfixer clean-up (:mod:`foldkit.relax.cleanup`);
2. minimise with every heavy atom restrained to where the round starts,
   except the residues excluded so far (:mod:`foldkit.relax.amber`);
3. check violations on the minimised heavy atoms
   (:mod:`foldkit.relax.violations`); stop when none remain or after
   ``max_outer_iterations`` rounds; otherwise add the violating residues to the
   exclusions (they accumulate), place the hydrogens again and go to 2.

``initial_energy``, ``final_energy``, ``attempts`` and ``rmsd`` describe the
last round, as AlphaFold2's ``debug_info`` does; every round is in
``iterations``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np

from foldkit import constants as rc
from foldkit.protein import Protein
from foldkit.relax import amber, cleanup
from foldkit.relax.cleanup import AllAtomModel, Alterations
from foldkit.relax.config import RelaxSettings
from foldkit.relax.layout import ModelLayout, model_layout
from foldkit.relax.platforms import choose_platform
from foldkit.relax.structure import RelaxedChain
from foldkit.relax.violations import AtomSlots, HeavyAtoms, violating_residues

Log = Callable[[str], None]
CA = rc.ATOM_ORDER["CA"]


@dataclasses.dataclass(frozen=True)
class Iteration:
    """One outer round."""

    initial_energy: float        # kcal/mol (restraint included)
    final_energy: float
    attempts: int
    rmsd: float                  # Å, all atoms incl. hydrogens, start -> end of the round
    restrained_atoms: int
    excluded_residues: int       # residues without restraints in this round
    violating_residues: int      # after the round
    seconds: float


@dataclasses.dataclass(frozen=True)
class RelaxMetrics:
    """What a relaxation did (energies in kcal/mol, distances in Å)."""

    residues: int
    atoms_out: int
    initial_energy: float
    final_energy: float
    final_energy_unrestrained: float
    attempts: int
    rmsd: float
    outer_iterations: int
    iterations: tuple[Iteration, ...]
    rmsd_heavy_to_input: float
    rmsd_ca_to_input: float
    violations_before: int
    remaining_violations: tuple[int, ...]       # [R] 0/1 per residue, model order
    violating_residues: tuple[str, ...]         # labels of the remaining ones
    alterations: Alterations
    platform: str
    threads: int | None
    openmm_version: str
    pdbfixer_version: str
    settings: dict
    seconds: float

    @property
    def remaining_violations_count(self) -> int:
        return int(sum(self.remaining_violations))

    def to_json(self) -> dict:
        record = dataclasses.asdict(self)
        record["remaining_violations_count"] = self.remaining_violations_count
        record["alterations"] = self.alterations.to_json()
        record["iterations"] = [dataclasses.asdict(i) for i in self.iterations]
        record["remaining_violations"] = list(self.remaining_violations)
        return record


@dataclasses.dataclass(frozen=True)
class RelaxResult:
    chains: tuple[RelaxedChain, ...]
    metrics: RelaxMetrics


def _versions() -> tuple[str, str]:
    import openmm
    from importlib.metadata import version

    return openmm.__version__, version("pdbfixer")


def relax_chains(chains: Sequence[Protein], settings: RelaxSettings = RelaxSettings(), path: str = "structure",
                 log: Log | None = None) -> RelaxResult:
    """Relax the protein chains of one structure together (``path`` names it in errors and progress)."""
    log = log or (lambda message: None)
    start = time.perf_counter()
    layout = model_layout(chains, path, settings.rebuild_missing_atoms)
    platform = choose_platform(settings.use_gpu, settings.cpu_threads)
    input_heavy = HeavyAtoms(layout.stacked("aatype"), layout.stacked("atom_positions").astype(np.float64),
                             layout.stacked("atom_mask"))
    relax_index = layout.relax_index
    violations_before = int(violating_residues(input_heavy, relax_index).sum())
    model, alterations = cleanup.prepare(layout, platform, settings.seed, settings.ph)
    excluded = set(int(i) for i in settings.exclude_residues)
    iterations: list[Iteration] = []
    while True:
        slots = AtomSlots.of(model)
        restrained = (~model.hydrogen) & ~np.isin(slots.residue, sorted(excluded))
        result = amber.minimize(model, restrained, settings, platform)
        model = AllAtomModel(model.topology, result.positions)
        violating = violating_residues(slots.heavy_atoms(result.positions), relax_index)
        iterations.append(Iteration(result.initial_energy, result.final_energy, result.attempts, result.rmsd,
                                    result.restrained_atoms, len(excluded), int(violating.sum()), result.seconds))
        log(f"round {len(iterations)}: energy {result.initial_energy:.1f} -> {result.final_energy:.1f} kcal/mol, "
            f"{int(violating.sum())} violating residue(s), {result.seconds:.1f} s")
        if not violating.any() or len(iterations) >= settings.max_outer_iterations:
            break
        excluded |= set(np.flatnonzero(violating).tolist())
        model = cleanup.replace_hydrogens(model, platform, settings.seed + len(iterations), settings.ph)

    heavy = slots.heavy_atoms(model.positions)
    relaxed = _relaxed_chains(layout, slots, model, heavy)
    openmm_version, pdbfixer_version = _versions()
    last = iterations[-1]
    metrics = RelaxMetrics(
        residues=layout.num_residues, atoms_out=sum(c.num_atoms for c in relaxed),
        initial_energy=last.initial_energy, final_energy=last.final_energy,
        final_energy_unrestrained=amber.potential_energy(model, platform), attempts=last.attempts,
        rmsd=last.rmsd, outer_iterations=len(iterations), iterations=tuple(iterations),
        rmsd_heavy_to_input=_rmsd(input_heavy, heavy), rmsd_ca_to_input=_rmsd(input_heavy, heavy, ca_only=True),
        violations_before=violations_before, remaining_violations=tuple(int(v) for v in violating),
        violating_residues=tuple(layout.labels[i] for i in np.flatnonzero(violating)), alterations=alterations,
        platform=platform.name, threads=platform.threads, openmm_version=openmm_version,
        pdbfixer_version=pdbfixer_version, settings=settings.as_record(), seconds=time.perf_counter() - start)
    return RelaxResult(relaxed, metrics)


def _rmsd(before: HeavyAtoms, after: HeavyAtoms, ca_only: bool = False) -> float:
    """RMSD without superposition over the heavy atoms present in both (CA only if asked)."""
    both = (before.mask > 0) & (after.mask > 0)                                       # [R, 37]
    if ca_only:
        both[:, [a for a in range(rc.ATOM_TYPE_NUM) if a != CA]] = False
    difference = before.positions[both] - after.positions[both]
    return float(np.sqrt(np.mean(np.sum(difference ** 2, axis=-1)))) if len(difference) else float("nan")


def _relaxed_chains(layout: ModelLayout, slots: AtomSlots, model: AllAtomModel,
                    heavy: HeavyAtoms) -> tuple[RelaxedChain, ...]:
    """Split the relaxed model back into the input's chains, with their numbering and B-factors."""
    hydrogen = model.hydrogen
    names = [atom.name for atom in model.topology.atoms()]
    chains = []
    for number, chain in enumerate(layout.chains):
        rows = np.flatnonzero(layout.chain_of_residue == number)                      # model residues
        first = int(rows[0])
        ca_b = np.asarray(chain.b_factors)[:, CA]                                    # [L]
        protein = Protein(aatype=heavy.aatype[rows], atom_positions=heavy.positions[rows].astype(np.float32),
                          atom_mask=heavy.mask[rows], residue_index=np.asarray(chain.residue_index),
                          chain_id=chain.chain_id,
                          b_factors=(ca_b[:, None] * (heavy.mask[rows] > 0)).astype(np.float32),
                          insertion_codes=chain.insertion_codes)
        atoms = np.flatnonzero(hydrogen & np.isin(slots.residue, rows))
        chains.append(RelaxedChain(protein, slots.residue[atoms] - first, tuple(names[a] for a in atoms),
                                   model.positions[atoms]))
    return tuple(chains)
