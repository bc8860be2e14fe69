"""Restrained AMBER99SB minimisation with OpenMM (AlphaFold2's force field and settings).

The system: ``amber99sb.xml``, no solvent, no cutoff, bonds to hydrogen
constrained; plus a harmonic restraint ``0.5 k |x - x0|^2`` on the chosen atoms
(x0 = the positions the minimisation starts from). L-BFGS
(``LocalEnergyMinimizer``) runs until the root-mean-square force is below the
tolerance, or for ``max_iterations`` steps (0 = no limit). A minimisation that
raises (NaN coordinates, a constraint failure) or ends with a non-finite energy
is tried again, up to ``max_attempts`` times. Energies are reported in kcal/mol,
restraint included.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import numpy as np

from foldkit.relax.cleanup import ANGSTROM_PER_NM, AllAtomModel, RelaxError
from foldkit.relax.config import KJ_PER_KCAL, RelaxSettings
from foldkit.relax.platforms import PlatformChoice

FORCE_FIELD = "amber99sb.xml"
RESTRAINT_EXPRESSION = "0.5 * k * ((x - x0)^2 + (y - y0)^2 + (z - z0)^2)"


@functools.lru_cache(maxsize=1)
def force_field():
    """OpenMM's AMBER99SB force field (parsed once per process; read-only afterwards)."""
    import openmm.app as app

    return app.ForceField(FORCE_FIELD)


@dataclasses.dataclass(frozen=True)
class Minimization:
    """One restrained minimisation."""

    initial_energy: float         # kcal/mol, restraint included, at the starting positions
    final_energy: float           # kcal/mol, restraint included
    positions: np.ndarray         # [N, 3] Å, minimised
    attempts: int                 # tries it took (1 = first try)
    rmsd: float                   # Å, all atoms (hydrogens included), start -> end, no superposition
    restrained_atoms: int
    seconds: float


def amber_system(model: AllAtomModel):
    """The unrestrained OpenMM System of an all-atom model."""
    import openmm.app as app

    try:
        return force_field().createSystem(model.topology, nonbondedMethod=app.NoCutoff, constraints=app.HBonds)
    except Exception as exc:       # e.g. "No template found for residue ..."
        raise RelaxError(f"AMBER99SB cannot describe the structure: {exc}") from None


def add_restraints(system, reference: np.ndarray, restrained: np.ndarray, stiffness_kj_per_nm2: float) -> int:
    """Harmonic position restraints on the atoms where ``restrained`` ([N] bool) is set; returns how many."""
    import openmm

    force = openmm.CustomExternalForce(RESTRAINT_EXPRESSION)
    force.addGlobalParameter("k", stiffness_kj_per_nm2)
    for name in ("x0", "y0", "z0"):
        force.addPerParticleParameter(name)
    reference_nm = reference / ANGSTROM_PER_NM
    for index in np.flatnonzero(restrained):
        force.addParticle(int(index), reference_nm[index].tolist())
    system.addForce(force)
    return int(np.count_nonzero(restrained))


def _energy_kcal(state) -> float:
    import openmm.unit as unit

    return state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole) / KJ_PER_KCAL


def minimize(model: AllAtomModel, restrained: np.ndarray, settings: RelaxSettings,
             platform: PlatformChoice) -> Minimization:
    """Minimise ``model`` with its starting heavy atoms restrained where ``restrained`` ([N] bool) says."""
    import openmm
    import openmm.unit as unit

    start = time.perf_counter()
    system = amber_system(model)
    count = add_restraints(system, model.positions, restrained, settings.stiffness_kj_per_nm2)
    tolerance = settings.tolerance_kj_per_nm * unit.kilojoule_per_mole / unit.nanometer
    start_nm = model.positions / ANGSTROM_PER_NM
    failure = ""
    for attempt in range(1, settings.max_attempts + 1):
        try:
            context = openmm.Context(system, openmm.VerletIntegrator(0.001), platform.platform,
                                     platform.properties)
            context.setPositions(start_nm)
            initial = _energy_kcal(context.getState(getEnergy=True))
            openmm.LocalEnergyMinimizer.minimize(context, tolerance, settings.max_iterations)
            state = context.getState(getEnergy=True, getPositions=True)
            final = _energy_kcal(state)
            positions = np.asarray(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer)) * ANGSTROM_PER_NM
            del context
            if not (np.isfinite(final) and np.isfinite(positions).all()):
                raise ValueError(f"non-finite result (final energy {final})")
        except (openmm.OpenMMException, ValueError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
            continue
        rmsd = float(np.sqrt(np.sum((positions - model.positions) ** 2) / len(positions)))
        return Minimization(initial, final, positions, attempt, rmsd, count, time.perf_counter() - start)
    raise RelaxError(f"minimisation failed after {settings.max_attempts} attempt(s); last error: "
                     f"{failure.splitlines()[0] if failure else 'unknown'}")


def potential_energy(model: AllAtomModel, platform: PlatformChoice | None = None) -> float:
    """Unrestrained AMBER99SB energy (kcal/mol) of an all-atom model (OpenMM's Reference platform by default)."""
    import openmm

    system = amber_system(model)
    chosen = platform.platform if platform is not None else openmm.Platform.getPlatformByName("Reference")
    properties = platform.properties if platform is not None else {}
    context = openmm.Context(system, openmm.VerletIntegrator(0.001), chosen, properties)
    context.setPositions(model.positions / ANGSTROM_PER_NM)
    return _energy_kcal(context.getState(getEnergy=True))
