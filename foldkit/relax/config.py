"""Settings of an Amber relaxation (AlphaFold2 v2.3's values by default)."""

from __future__ import annotations

import dataclasses

KJ_PER_KCAL = 4.184


@dataclasses.dataclass(frozen=True)
class RelaxSettings:
    """How a structure is relaxed; the first five are AlphaFold2's knobs (``RELAX_*`` in run_alphafold.py).

    ``tolerance`` is AlphaFold2's number 2.39, applied the way OpenMM >= 8 needs it: as a root-mean-square
    force of 2.39 kcal/mol/nm (= 10 kJ/mol/nm, the number OpenMM 7 received for AlphaFold2's "2.39 kcal/mol").
    """

    max_outer_iterations: int = 3           # minimisations at most, while violations remain
    stiffness: float = 10.0                 # restraint constant k, kcal/mol/Å^2 (energy 0.5 k d^2)
    tolerance: float = 2.39                 # L-BFGS convergence: RMS force, kcal/mol/nm
    max_iterations: int = 0                 # L-BFGS iterations per minimisation; 0 = until converged
    exclude_residues: tuple[int, ...] = ()  # 0-based residue indices (model order) never restrained
    max_attempts: int = 100                 # tries of one minimisation before giving up
    use_gpu: bool = False                   # OpenMM CUDA (else OpenCL) instead of CPU
    cpu_threads: int | None = None          # CPU platform threads (None: OpenMM's default, all cores)
    seed: int = 0                           # hydrogen placement and rebuilt atoms
    ph: float = 7.0                         # protonation states of the added hydrogens
    rebuild_missing_atoms: bool = True      # add missing side-chain atoms (False: reject them, as AF2 v2.3.2)

    def __post_init__(self):
        if self.max_outer_iterations < 1:
            raise ValueError("max_outer_iterations must be at least 1")
        if not self.stiffness >= 0:
            raise ValueError("stiffness must be 0 or more")
        if not self.tolerance > 0:
            raise ValueError("tolerance must be above 0")
        if self.max_iterations < 0:
            raise ValueError("max_iterations must be 0 (no limit) or more")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.cpu_threads is not None and self.cpu_threads < 1:
            raise ValueError("cpu_threads must be at least 1")

    @property
    def tolerance_kj_per_nm(self) -> float:
        return self.tolerance * KJ_PER_KCAL

    @property
    def stiffness_kj_per_nm2(self) -> float:
        return self.stiffness * KJ_PER_KCAL * 100.0

    def as_record(self) -> dict:
        """The settings that change a result (for metrics files and resume keys)."""
        record = dataclasses.asdict(self)
        record["exclude_residues"] = list(self.exclude_residues)
        for key in ("use_gpu", "cpu_threads"):
            record.pop(key)
        return record
