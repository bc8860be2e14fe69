"""``foldkit relax MODEL -o RELAXED``: Amber relaxation (AlphaFold2 v2.3's protocol, OpenMM)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from foldkit.commands.arg_types import non_negative_float, non_negative_int, positive_float, positive_int

DEFAULTS = dict(max_outer_iterations=3, stiffness=10.0, tolerance=2.39, max_iterations=0, max_attempts=100)


def add_relax_arguments(group) -> None:
    """AlphaFold2's relax knobs (shared by ``foldkit relax`` and ``foldkit predict``)."""
    group.add_argument("--max-outer-iterations", type=positive_int, default=DEFAULTS["max_outer_iterations"],
                       help="minimisation rounds at most; a new round runs while violations remain, with the "
                            "violating residues unrestrained")
    group.add_argument("--stiffness", type=non_negative_float, default=DEFAULTS["stiffness"],
                       help="restraint constant on heavy atoms, kcal/mol/Å^2 (energy 0.5*k*d^2)")
    group.add_argument("--tolerance", type=positive_float, default=DEFAULTS["tolerance"],
                       help="L-BFGS stops when the RMS force is below this, kcal/mol/nm (AlphaFold2's 2.39, "
                            "= 10 kJ/mol/nm)")
    group.add_argument("--max-iterations", type=non_negative_int, default=DEFAULTS["max_iterations"],
                       help="L-BFGS iterations per minimisation (0 = until converged)")
    group.add_argument("--max-attempts", type=positive_int, default=DEFAULTS["max_attempts"],
                       help="tries of a minimisation that fails before giving up")
    group.add_argument("--gpu", action="store_true", help="run OpenMM on CUDA (else OpenCL) instead of the CPU")


def relax_settings(args, cpu_threads: int | None = None, exclude_residues: tuple[int, ...] = ()):
    from foldkit.relax import RelaxSettings

    return RelaxSettings(max_outer_iterations=args.max_outer_iterations, stiffness=args.stiffness,
                         tolerance=args.tolerance, max_iterations=args.max_iterations,
                         max_attempts=args.max_attempts, use_gpu=args.gpu, cpu_threads=cpu_threads,
                         exclude_residues=exclude_residues, seed=getattr(args, "seed", 0),
                         rebuild_missing_atoms=not getattr(args, "reject_missing_atoms", False))


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "relax", help="Amber relaxation of structures (AlphaFold2's protocol, OpenMM)",
        description="Relax PDB/mmCIF structures as AlphaFold2 v2.3 does: pdbfixer clean-up (hydrogens at pH 7, "
                    "missing heavy atoms and OXT added, modified residues replaced), AMBER99SB without solvent, "
                    "heavy atoms restrained, L-BFGS minimisation, then the violation check (clashes, bonds, "
                    "angles); up to --max-outer-iterations rounds while violations remain. Writes the relaxed "
                    "structure (hydrogens included, the input's chain ids and residue numbers, B-factors kept "
                    "per residue) and <name>_metrics.json beside it.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, help="PDB/mmCIF files, or folders of them")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="output file (.pdb/.cif) for one input file; for several inputs or a folder: an "
                             "output folder (<name>_relaxed.<ext> each)")
    parser.add_argument("--format", choices=("pdb", "mmcif"), default=None,
                        help="output format in folder mode (default: the input's)")
    parser.add_argument("--exclude-residues", default="",
                        help="residues never restrained, as in the file: 45, A:45, A:40-45, comma-separated")
    relax = parser.add_argument_group("relaxation (AlphaFold2's RELAX_* settings)")
    add_relax_arguments(relax)
    relax.add_argument("--cpu", type=positive_int, default=None,
                       help="CPU threads for OpenMM (default: OpenMM's, all cores)")
    relax.add_argument("--seed", type=int, default=0, help="seed of the hydrogen placement")
    relax.add_argument("--reject-missing-atoms", action="store_true",
                       help="refuse residues with missing heavy atoms (AlphaFold v2.3.2) instead of rebuilding them")
    parser.set_defaults(func=run)


def _plan(args) -> list:
    """Inputs read and checked, outputs named: nothing is written before every input passed."""
    from foldkit.errors import InputError
    from foldkit.relax.files import (FORMAT_OF_SUFFIX, SUFFIX_OF_FORMAT, RelaxJob, read_model, structure_files,
                                     structure_suffix)

    sources = structure_files(args.inputs)
    single_file = (len(sources) == 1 and len(args.inputs) == 1 and not args.inputs[0].is_dir()
                   and not args.output.is_dir() and structure_suffix(args.output) in FORMAT_OF_SUFFIX)
    if not single_file:
        if args.output.exists() and not args.output.is_dir():
            raise InputError("several inputs need -o to be a folder", path=str(args.output))
        if structure_suffix(args.output) in FORMAT_OF_SUFFIX and len(sources) > 1:
            raise InputError(f"{len(sources)} inputs need -o to be a folder, not a structure file name",
                             path=str(args.output))
    jobs, seen = [], {}
    for source in sources:
        layout, warnings = read_model(source, not args.reject_missing_atoms)
        if single_file:
            output = args.output
        else:
            fmt = args.format or FORMAT_OF_SUFFIX.get(structure_suffix(source), "pdb")
            stem = source.name.split(".")[0]
            output = args.output / f"{stem}_relaxed{SUFFIX_OF_FORMAT[fmt]}"
        long_ids = [c.chain_id for c in layout.chains if len(c.chain_id.strip()) > 1]
        if long_ids and FORMAT_OF_SUFFIX.get(structure_suffix(output)) == "pdb":
            raise InputError(f"chain id {long_ids[0]!r} does not fit PDB format; write mmCIF (.cif) instead",
                             path=str(source))
        if output in seen:
            raise InputError(f"{source} and {seen[output]} would both be written to {output.name}", path=str(source))
        seen[output] = source
        jobs.append(RelaxJob(source, output, layout, warnings))
    return jobs


def run(args) -> int:
    from foldkit.errors import FoldkitError
    from foldkit.relax import RelaxError
    from foldkit.relax.files import exclusion_indices, relax_job
    from foldkit.relax.platforms import choose_platform

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    jobs = _plan(args)
    choose_platform(args.gpu, args.cpu)              # a missing GPU platform fails before any work
    exclusions = {job.source: exclusion_indices(job.layout, args.exclude_residues, str(job.source))
                  for job in jobs}
    for folder in sorted({job.output.parent for job in jobs}):
        folder.mkdir(parents=True, exist_ok=True)
    failed = []
    for number, job in enumerate(jobs, 1):
        prefix = f"[{number}/{len(jobs)}] {job.source.name}" if len(jobs) > 1 else job.source.name
        for warning in job.warnings:
            log(f"{prefix}: warning: {warning}")
        log(f"{prefix}: {job.layout.num_residues} residues, relaxing")
        settings = relax_settings(args, args.cpu, exclusions[job.source])
        start = time.perf_counter()
        try:
            result = relax_job(job, settings, log=lambda message: log(f"{prefix}: {message}"))
        except RelaxError as exc:
            if len(jobs) == 1:
                raise
            failed.append(f"{job.source}: {exc}")
            log(f"{prefix}: error: {exc} (nothing written)")
            continue
        metrics = result.metrics
        log(f"{prefix}: -> {job.output} ({metrics.outer_iterations} round(s), final energy "
            f"{metrics.final_energy:.1f} kcal/mol, {metrics.remaining_violations_count} violating residue(s) left, "
            f"heavy-atom RMSD to input {metrics.rmsd_heavy_to_input:.3f} Å, {time.perf_counter() - start:.1f} s)")
    if failed:
        raise FoldkitError(f"{len(failed)} of {len(jobs)} structures could not be relaxed: " + "; ".join(failed))
    return 0
