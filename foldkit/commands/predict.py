"""``foldkit predict INPUT.fasta -o OUTDIR``: structure prediction with AlphaFold2-compatible networks."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from foldkit.commands.af2_options import add_af2_arguments, af2_settings_from_args, uses_af2_pipeline
from foldkit.io.complexes import DEFAULT_MAX_LENGTH as DEFAULT_MAX_COMPLEX_LENGTH
from foldkit.msa.server.options import add_server_arguments

MODEL_PRESETS = ("monomer", "monomer_ptm", "multimer")   # as foldkit.predict.models (not imported: jax)
from foldkit.model.global_config import (
    MATMUL_PRECISION_CHOICES,
    matmul_precision_setting,
)

PARAMS_DIR_ENV = "FOLDKIT_PARAMS_DIR"


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict", help="predict structures for the records of a FASTA file",
        description="Predict the structure of every record of a FASTA file (shortest first) into "
                    "OUTDIR/<record id>/: ranked_N.pdb, ranked_0.cif, per-model PDB/scores/PAE/confidence "
                    "JSON, ranking_debug.json, plots, timings.json, features.npz, msa.a3m (and msas/ with "
                    "--af2-data-dir or --msa-server), relaxed models; plus "
                    "OUTDIR/summary.csv. Re-running the same command resumes: finished records are skipped. "
                    "With --msa-server the sequences are sent to that MMseqs2 server for their MSAs. "
                    "Complexes: a record 'SEQA:SEQB:...' (ColabFold's convention) is a complex with chains A, B, "
                    "... predicted by the AlphaFold-Multimer models (params_model_1..5_multimer_v3.npz); with "
                    "--model-preset multimer the FASTA file is one complex, one record per chain (AlphaFold2's "
                    "convention). Single chains run the monomer models.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("input", type=Path, nargs="?", help="FASTA file (one or more records, 'SEQA:SEQB' for a "
                                                             "complex; '-' for stdin)")
    parser.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    msa = parser.add_argument_group("MSA source (one of; default: single sequence, with a warning)")
    msa.add_argument("--msa", type=Path, default=None,
                     help="A3M/Stockholm alignment (one record) or a folder of <id>.a3m files")
    msa.add_argument("--db", type=Path, action="append", default=[],
                     help="FASTA sequence database searched with jackhmmer; repeat to merge several")
    msa.add_argument("--single-sequence", action="store_true", help="no MSA, on purpose (no warning)")
    add_server_arguments(parser)
    add_af2_arguments(parser)
    extra_help = {   # options shared with foldkit msa / the AlphaFold2 pipeline: what they do here
        "templates": "; HHsearch of the record's MSA against them gives the template features",
        "max_template_date": "; with --msa-server --templates: no cut-off when not given (as ColabFold)"}
    for action in parser._actions:
        if action.dest in extra_help:
            action.help += extra_help[action.dest]
    model = parser.add_argument_group("model")
    model.add_argument("--model", choices=("mini",), default=None,
                       help="bundled foldkit model (the default once it is trained)")
    model.add_argument("--params-dir", "--data", dest="params_dir", type=Path,
                       default=os.environ.get(PARAMS_DIR_ENV) or None,
                       help=f"folder with params_<model>.npz (official AlphaFold2 files, or custom ones with a "
                            f"params_<model>.json config next to them); default ${PARAMS_DIR_ENV}")
    model.add_argument("--models", default=None,
                       help="comma-separated models to run, e.g. model_1_ptm,model_2_ptm or "
                            "model_1_multimer_v3,model_2_multimer_v3; single chains run the monomer models named, "
                            "complexes the multimer ones (default: every _ptm model found, else every monomer "
                            "model; every multimer model for complexes)")
    model.add_argument("--num-models", type=_positive_int, default=None,
                       help="run only the first N models (of each kind)")
    model.add_argument("--model-preset", choices=MODEL_PRESETS, default=None,
                       help="AlphaFold2's presets: 'multimer' reads the FASTA file as one complex, one record per "
                            "chain, and runs the multimer models; 'monomer' / 'monomer_ptm' run model_1..5 / "
                            "model_1..5_ptm and refuse complexes (default: decided per record, see above)")
    model.add_argument("--max-complex-length", type=_positive_int, default=DEFAULT_MAX_COMPLEX_LENGTH,
                       help="refuse a complex with more residues than this (all chains together)")
    run = parser.add_argument_group("run")
    run.add_argument("--num-recycle", type=_non_negative_int, default=None,
                     help="maximum recycles (default: the model config's, 3 for AlphaFold2, 20 for "
                          "AlphaFold-Multimer)")
    run.add_argument("--recycle-early-stop-tolerance", type=_non_negative_float, default=None,
                     help="stop recycling when the RMS change of Cα-Cα distances between cycles is below "
                          "this (Å); 0 = always run every recycle (default: 0, or 0.5 for the multimer models "
                          "as AlphaFold-Multimer)")
    run.add_argument("--random-seed", type=int, default=0, help="first seed (MSA sampling and masking)")
    run.add_argument("--num-seeds", type=_positive_int, default=None,
                     help="seeds (predictions) per model: random-seed, +1, ... (default: 1 per monomer model, 5 "
                          "per multimer model as AlphaFold2 v2.3)")
    run.add_argument("--chunk-size", type=_positive_int, default=None,
                     help="chunk attention/transition rows to bound memory (default: no chunking)")
    run.add_argument("--bf16", action="store_true", help="run the Evoformer in bfloat16")
    run.add_argument("--matmul-precision", choices=MATMUL_PRECISION_CHOICES, default="default",
                     help="float32 matrix products on GPU/TPU: 'default' lets the backend choose (TF32 on recent "
                          "NVIDIA GPUs, faster), 'highest' keeps full float32 (reference-exact; slower)")
    run.add_argument("--overwrite", action="store_true", help="redo records that are already finished")
    relax = parser.add_argument_group("Amber relaxation (AlphaFold2's protocol; see foldkit relax)")
    relax.add_argument("--models-to-relax", choices=("best", "all", "none"), default=None,
                       help="relax the best-ranked prediction, every prediction, or none (AlphaFold2 v2.3's flag; "
                            "default best): relaxed_<model>.pdb/.cif, relax_metrics.json; ranked_* take the "
                            "relaxed structures")
    relax.add_argument("--amber", action="store_true",
                       help="ColabFold's flag: relax (every prediction unless --num-relax)")
    relax.add_argument("--num-relax", type=_non_negative_int, default=None,
                       help="ColabFold's flag: relax the N best-ranked predictions")
    relax.add_argument("--use-gpu-relax", action="store_true",
                       help="run the relaxation on OpenMM's CUDA/OpenCL platform instead of the CPU")
    parser.set_defaults(func=run_command)


def run_command(args) -> int:
    from foldkit.errors import InputError
    from foldkit.predict import PredictSettings, predict_fasta
    from foldkit.predict.relax_step import relax_choice

    if args.model is not None and args.params_dir is not None:
        raise InputError("give --model or --params-dir, not both")
    if args.model is None and args.params_dir is None and (args.models or args.num_models):
        raise InputError("--models/--num-models choose among the files of --params-dir, which is missing")
    settings = PredictSettings(num_recycle=args.num_recycle,
                               recycle_early_stop_tolerance=args.recycle_early_stop_tolerance,
                               random_seed=args.random_seed, num_seeds=args.num_seeds, chunk_size=args.chunk_size,
                               bfloat16=args.bf16, overwrite=args.overwrite,
                               matmul_precision=matmul_precision_setting(args.matmul_precision),
                               relax=relax_choice(args.models_to_relax, args.amber, args.num_relax,
                                                  args.use_gpu_relax))
    models = [m.strip() for m in args.models.split(",") if m.strip()] if args.models else None
    server = server_source_from_args(args)
    if args.input is None:
        raise InputError("a FASTA file is required")
    if server is not None:
        af2 = None
    elif uses_af2_pipeline(args):
        def af2(preset: str, args=args):      # monomer or multimer databases, for the records that need them
            return af2_settings_from_args(args, preset)
    else:
        af2 = af2_settings_from_args(args)    # None (refuses the pipeline's options given alone)
    try:
        rows = predict_fasta(args.input, args.outdir, params_dir=args.params_dir, models=models,
                             num_models=args.num_models, settings=settings, msa=args.msa,
                             databases=tuple(args.db), single_sequence=args.single_sequence, af2=af2,
                             server=server, model_preset=args.model_preset,
                             max_complex_length=args.max_complex_length)
    except KeyboardInterrupt:
        print("foldkit predict: interrupted; finished records are kept (no partial files), re-run the same "
              "command to resume", file=sys.stderr)
        return 130
    print(f"predict: {len(rows)} record{'s' if len(rows) != 1 else ''} -> {args.outdir / 'summary.csv'}",
          file=sys.stderr)
    return 0


def server_source_from_args(args):
    """ServerSource from ``--msa-server`` and its options, or None without it (``--templates`` then refused)."""
    from foldkit.commands.af2_options import DATABASE_HELP, parse_template_date, uses_af2_pipeline
    from foldkit.errors import InputError
    from foldkit.msa.server.options import resolve_server_url
    from foldkit.predict.server_msas import ServerSource

    url = resolve_server_url(args, positional="input")
    if url is None:
        if args.templates or args.msa_server_uniref_only:
            option = "--templates" if args.templates else "--msa-server-uniref-only"
            raise InputError(f"{option} needs --msa-server (template hits and databases of the MSA server)")
        return None
    if uses_af2_pipeline(args):
        given = "--af2-data-dir" if args.af2_data_dir is not None else \
            next("--" + key.replace("_", "-") for key in DATABASE_HELP if getattr(args, key) is not None)
        raise InputError(f"give --msa-server or AlphaFold2's databases ({given}), not both")
    for option, value in (("--db-preset", args.db_preset), ("--custom-templates", args.custom_templates),
                          ("--use-precomputed-msas", args.use_precomputed_msas)):
        if value:
            raise InputError(f"{option} belongs to the AlphaFold2 input pipeline, not to --msa-server")
    if args.max_template_date is not None and not args.templates:
        raise InputError("--max-template-date applies to templates: add --templates")
    return ServerSource(url=url, use_env=not args.msa_server_uniref_only, templates=args.templates,
                        max_template_date=parse_template_date(args.max_template_date),
                        hhsearch_binary=args.hhsearch_binary, kalign_binary=args.kalign_binary)


SERVER_WORKFLOW_KEYS = ("url", "uniref_only", "templates", "max_template_date")


def _config_flag(section: dict, key: str) -> bool:
    value = section.get(key, False)
    if isinstance(value, str):
        if value.strip().lower() not in ("true", "false", "yes", "no", "1", "0", ""):
            from foldkit.errors import InputError

            raise InputError(f"msa.server.{key}: expected true or false, not {value!r}")
        return value.strip().lower() in ("true", "yes", "1")
    return bool(value)


def server_options_from_config(section) -> tuple[list[str], list[str]]:
    """(``foldkit msa`` options, ``foldkit predict`` options) from a workflow config's ``msa.server`` mapping.

    Keys: ``url`` (empty: ColabFold's public server), ``uniref_only``,
    ``templates``, ``max_template_date`` (with templates; empty: no cut-off).
    See pipelines/ (mode ``server``).
    """
    from foldkit.commands.af2_options import parse_template_date
    from foldkit.errors import InputError
    from foldkit.msa.server import DEFAULT_SERVER_URL
    from foldkit.msa.server.options import looks_like_url

    section = dict(section or {})
    unknown = sorted(set(section) - set(SERVER_WORKFLOW_KEYS))
    if unknown:
        raise InputError(f"msa.server: unknown keys {', '.join(unknown)} (known: {', '.join(SERVER_WORKFLOW_KEYS)})")
    url = str(section.get("url") or "").strip() or DEFAULT_SERVER_URL
    if not looks_like_url(url):
        raise InputError(f"msa.server.url {url!r}: expected an http:// or https:// URL")
    shared = ["--msa-server", url.rstrip("/")]
    if _config_flag(section, "uniref_only"):
        shared.append("--msa-server-uniref-only")
    templates = _config_flag(section, "templates")
    if templates:
        shared.append("--templates")
    predict = list(shared)
    date = str(section.get("max_template_date") or "").strip()
    if date:
        if not templates:
            raise InputError("msa.server.max_template_date applies to templates: set msa.server.templates: true")
        parse_template_date(date)
        predict += ["--max-template-date", date]
    return shared, predict


run = run_command
