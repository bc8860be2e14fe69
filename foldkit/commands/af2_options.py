"""Command-line options of AlphaFold2's input pipeline, shared by ``foldkit predict`` and ``foldkit msa``."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from foldkit.errors import InputError

DATABASE_HELP = {
    "uniref90": "UniRef90 FASTA (jackhmmer)",
    "mgnify": "MGnify FASTA (jackhmmer)",
    "bfd": "BFD HH-suite prefix (HHblits, full_dbs)",
    "uniref30": "UniRef30 HH-suite prefix (HHblits, full_dbs)",
    "small_bfd": "small BFD FASTA (jackhmmer, reduced_dbs)",
    "pdb70": "PDB70 HH-suite prefix (HHsearch templates)",
    "pdb_seqres": "pdb_seqres.txt (hmmsearch templates, multimer)",
    "uniprot": "UniProt FASTA (multimer pairing)",
    "template_mmcif_dir": "folder of <pdb id>.cif template structures",
    "obsolete_pdbs": "obsolete.dat (obsolete PDB ids and their successors)",
}


def add_af2_arguments(parser: argparse.ArgumentParser, cpu_option: bool = True) -> None:
    """--af2-data-dir, --db-preset, the databases alone, template and binary options (and --cpu)."""
    group = parser.add_argument_group(
        "AlphaFold2 input pipeline (jackhmmer, HHblits, HHsearch, templates from mmCIF)",
        "Reads AlphaFold2 v2.3's database directory; any database can also be given alone, replacing the "
        "directory's file or, without --af2-data-dir, searching only what is given.")
    group.add_argument("--af2-data-dir", type=Path, default=None, metavar="DIR",
                       help="AlphaFold2 database directory (uniref90/, mgnify/, bfd/, uniref30/, small_bfd/, "
                            "pdb70/, pdb_mmcif/, ...)")
    group.add_argument("--db-preset", choices=("full_dbs", "reduced_dbs"), default=None,
                       help="full_dbs: HHblits on BFD + UniRef30; reduced_dbs: jackhmmer on the small BFD; "
                            "when not given full_dbs, or reduced_dbs when only --small-bfd is given")
    for key, text in DATABASE_HELP.items():
        group.add_argument("--" + key.replace("_", "-"), type=Path, default=None, metavar="PATH", help=text)
    group.add_argument("--max-template-date", default=None, metavar="YYYY-MM-DD",
                       help="use only templates released on or before this date; today when not given")
    group.add_argument("--custom-templates", type=Path, default=None, metavar="DIR",
                       help="your own mmCIF/PDB files as the template database (instead of PDB70)")
    group.add_argument("--use-precomputed-msas", action="store_true",
                       help="reuse the search outputs already in each record's msas/ folder (written by foldkit "
                            "or by AlphaFold2) instead of searching again")
    if cpu_option:
        group.add_argument("--cpu", type=int, default=None, metavar="N",
                           help="cores for the searches, shared by the concurrent ones; all when not given")
    for name in ("hhblits", "hhsearch", "kalign"):
        group.add_argument(f"--{name}-binary", default=None, metavar="PATH",
                           help=f"{name} executable; {name} on PATH when not given")


def uses_af2_pipeline(args) -> bool:
    return args.af2_data_dir is not None or any(getattr(args, key) is not None for key in DATABASE_HELP)


def parse_template_date(text: str | None) -> datetime.date | None:
    if text is None:
        return None
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--max-template-date {text!r} is not a date in the form YYYY-MM-DD") from None


def af2_settings_from_args(args, model_preset: str = "monomer"):
    """Af2Settings from the parsed options, or None when no AlphaFold2 database option is given.

    ``model_preset="multimer"`` resolves AlphaFold-Multimer's databases (hmmsearch templates on
    ``pdb_seqres``, UniProt for pairing, no PDB70), as :mod:`foldkit.msa.af2_complex` needs them.
    """
    from foldkit.msa.af2_pipeline import Af2Settings
    from foldkit.msa.databases import resolve_databases
    from foldkit.msa.search import default_cpus

    date = parse_template_date(args.max_template_date)
    if not uses_af2_pipeline(args):
        given = [name for name in ("db_preset", "custom_templates", "max_template_date")
                 if getattr(args, name) is not None] + (["use_precomputed_msas"] if args.use_precomputed_msas else [])
        if given:
            option = "--" + given[0].replace("_", "-")
            raise InputError(f"{option} belongs to the AlphaFold2 input pipeline: give --af2-data-dir DIR "
                             "or the databases alone (--uniref90 ...)")
        return None
    if args.custom_templates is not None and not args.custom_templates.is_dir():
        raise InputError("custom template folder not found (--custom-templates)", path=str(args.custom_templates))
    cpus = getattr(args, "cpu", None)
    if cpus is not None and cpus < 1:
        raise InputError(f"--cpu must be at least 1, got {cpus}")
    databases = resolve_databases(args.af2_data_dir, args.db_preset,
                                  {key: getattr(args, key) for key in DATABASE_HELP}, model_preset=model_preset)
    return Af2Settings(databases=databases, max_template_date=date, cpus=cpus or default_cpus(),
                       use_precomputed_msas=args.use_precomputed_msas, hhblits_binary=args.hhblits_binary,
                       hhsearch_binary=args.hhsearch_binary, kalign_binary=args.kalign_binary,
                       custom_templates=args.custom_templates)


WORKFLOW_KEYS = ("data_dir", "db_preset", "max_template_date", "custom_templates", "databases", "hhblits_binary",
                 "hhsearch_binary", "kalign_binary")


def options_from_config(section) -> list[str]:
    """``foldkit msa``/``predict`` options from a workflow config's ``msa.af2`` mapping (see pipelines/).

    Keys: ``data_dir`` (--af2-data-dir), ``db_preset``, ``max_template_date``,
    ``custom_templates``, ``databases`` (database key -> path, e.g. ``uniref90``)
    and the ``*_binary`` paths; empty values are left out.
    """
    section = dict(section or {})
    unknown = sorted(set(section) - set(WORKFLOW_KEYS))
    if unknown:
        raise InputError(f"msa.af2: unknown keys {', '.join(unknown)} (known: {', '.join(WORKFLOW_KEYS)})")
    databases = dict(section.get("databases") or {})
    bad = sorted(set(databases) - set(DATABASE_HELP))
    if bad:
        raise InputError(f"msa.af2.databases: unknown databases {', '.join(bad)} (known: {', '.join(DATABASE_HELP)})")
    if not section.get("data_dir") and not any(databases.values()):
        raise InputError("msa.af2 needs data_dir (AlphaFold2's database directory) or databases")
    options = []
    for key in ("data_dir", "db_preset", "max_template_date", "custom_templates",
                "hhblits_binary", "hhsearch_binary", "kalign_binary"):
        if section.get(key):
            flag = "--af2-data-dir" if key == "data_dir" else "--" + key.replace("_", "-")
            options += [flag, str(section[key])]
    for key, path in databases.items():
        if path:
            options += ["--" + key.replace("_", "-"), str(path)]
    if section.get("max_template_date"):
        parse_template_date(str(section["max_template_date"]))
    return options
