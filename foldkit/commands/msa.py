"""``foldkit msa QUERY.fasta --db DB.fasta -o out.a3m``: build MSAs apart from prediction.

``--msa-server [URL]`` fetches them from an MMseqs2 server with ColabFold's API
instead (:mod:`foldkit.msa.server`); its downloads are kept under
``<output folder>/msa_server/<record>/`` so that a rerun sends nothing.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

from foldkit.commands.af2_options import add_af2_arguments, af2_settings_from_args
from foldkit.errors import FoldkitError, InputError
from foldkit.msa.server.options import add_server_arguments, resolve_server_url


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "msa", help="search a sequence database for a query's MSA (A3M output)",
        description="Search FASTA sequence database(s) for homologues of each query and write A3M. "
                    "Defaults follow AlphaFold2's jackhmmer settings (1 iteration, E-value 1e-4, "
                    "F1/F2/F3 5e-4/5e-5/5e-7, at most 10000 sequences per database). With --af2-data-dir "
                    "(or the databases alone) run AlphaFold2's whole input pipeline instead and write "
                    "OUTPUT/<record>/msas/ (uniref90_hits.sto, mgnify_hits.sto, bfd_uniref_hits.a3m or "
                    "small_bfd_hits.sto, pdb_hits.hhr), which `foldkit predict -o OUTPUT --use-precomputed-msas` "
                    "reads; a complex record (chains separated by ':') gets AlphaFold-Multimer's searches per "
                    "distinct chain in OUTPUT/<record>/msas/<chain>/ (UniProt for pairing, hmmsearch templates). "
                    "With --msa-server, the MSAs come from an MMseqs2 server (ColabFold's API) instead: "
                    "the sequences are sent to that server; a complex record gets ColabFold's complex A3M "
                    "(paired rows from the server's pairing, then each distinct chain's rows), which "
                    "`foldkit predict --msa` reads.")
    parser.add_argument("query", type=Path, nargs="?", help="query FASTA (one or more records)")
    parser.add_argument("--db", type=Path, action="append", default=[],
                        help="FASTA database (plain or .gz); repeat for several, merged in order")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="output A3M (one query) or folder (<id>.a3m per query)")
    parser.add_argument("--backend", choices=("jackhmmer", "mmseqs", "single"), default="jackhmmer",
                        help="search engine: pyhmmer jackhmmer (default), MMseqs2 binary, or query only")
    parser.add_argument("--cpu", type=int, default=None, help="threads (default: all cores)")
    parser.add_argument("--iterations", type=int, default=None, help="jackhmmer/mmseqs iterations")
    parser.add_argument("--e-value", type=float, default=None, help="E-value threshold")
    parser.add_argument("--max-hits", type=int, default=None,
                        help="rows kept per database, query included (default 10000)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_server_arguments(parser)
    add_af2_arguments(parser, cpu_option=False)
    parser.set_defaults(func=run)


def _read_queries(path: Path, complexes: bool = False):
    """The FASTA's records; ``complexes``: ':' (chain separator) allowed in sequences."""
    try:
        from foldkit.io.fasta import read_fasta
    except ImportError:
        raise FoldkitError("the FASTA reader (foldkit.io.fasta) is not installed") from None

    queries = read_fasta(path, chain_separator=complexes)
    if not queries:
        raise InputError("no query sequence", path=str(path))
    return queries


def _search_overrides(args, max_hits_field: str) -> dict:
    """The search settings given on the command line (``max_hits_field``: the engine's name for --max-hits)."""
    given = {"iterations": args.iterations, "e_value": args.e_value, max_hits_field: args.max_hits}
    return {name: value for name, value in given.items() if value is not None}


def _jackhmmer_settings(args):
    from foldkit.msa.search import UNIREF90_SETTINGS

    return dataclasses.replace(UNIREF90_SETTINGS, **_search_overrides(args, "max_sequences"))


def _mmseqs_settings(args):
    from foldkit.msa.mmseqs import MmseqsSettings

    return dataclasses.replace(MmseqsSettings(), **_search_overrides(args, "max_seqs"))


def server_cache_dirs(queries, output: Path, many: bool) -> dict[str, Path]:
    """Record id -> its MSA server cache folder: ``<output folder>/msa_server/<safe record name>``."""
    from foldkit.io.fasta import record_file_names

    folder = output if many else output.parent
    names = record_file_names(queries)
    return {q.id: folder / "msa_server" / names[q.id] for q in queries}


def fetch_from_server(queries, args, url: str, many: bool) -> list:
    """Per query from the MSA server: an Msa (UniRef + environmental rows merged as ColabFold does), or for a
    complex record (chains separated by ':') the text of ColabFold's complex A3M."""
    from foldkit.msa.server import fetch_server_msas

    if args.db:
        raise InputError("give either --db (a local search) or --msa-server, not both")
    complexes = _parse_complexes(queries, args)
    cache_dirs = server_cache_dirs(queries, args.output, many)
    sent = [(q.id, [c.sequence for c in complexes[q.id].chains] if q.id in complexes else q.sequence)
            for q in queries]
    results = fetch_server_msas(sent, cache_dirs, url=url, use_env=not args.msa_server_uniref_only,
                                pairing="greedy" if complexes else None, templates=args.templates,
                                progress=not args.no_progress)
    return [_complex_a3m(complexes[q.id], results[q.id]) if q.id in complexes else results[q.id].unpaired
            for q in queries]


def _parse_complexes(queries, args) -> dict:
    """Record id -> Complex for the records with ':' (checked before any search or upload)."""
    from foldkit.io.complexes import complexes_from_text

    return {q.id: complexes_from_text(f">{q.id} {q.description}\n{q.sequence}\n", str(args.query))[0]
            for q in queries if ":" in q.sequence}


def _complex_a3m(complex_, result) -> str:
    """ColabFold's complex A3M of a complex from the server's results (the MSAs ``foldkit predict
    --msa-server`` featurizes)."""
    from foldkit.io.colabfold_a3m import format_colabfold_complex_a3m
    from foldkit.msa.server.results import complex_chain_msas

    unpaired, paired = complex_chain_msas(result, complex_)
    distinct = complex_.distinct_chains
    copies = [complex_.sequences.count(chain.sequence) for chain in distinct]
    return format_colabfold_complex_a3m([c.sequence for c in distinct], copies,
                                        [unpaired[c.chain_id] for c in distinct],
                                        None if paired is None else [paired[c.chain_id] for c in distinct])


def build_msas(queries, args):
    """One Msa per query, merged over the databases in order (duplicates dropped)."""
    from foldkit.io.msa_files import Msa, merge_msas

    pairs = [(q.id, q.sequence) for q in queries]
    if args.backend == "single":
        return [Msa.single_sequence(seq, name) for name, seq in pairs]
    if not args.db:
        raise InputError("--db DATABASE is required unless --backend single")
    per_database = []
    for db in args.db:
        if args.backend == "jackhmmer":
            from foldkit.msa.search import SequenceDatabase, jackhmmer_search

            database = SequenceDatabase.from_fasta(db)
            per_database.append(jackhmmer_search(pairs, database, _jackhmmer_settings(args),
                                                 args.cpu, progress=not args.no_progress))
        else:
            from foldkit.msa.mmseqs import mmseqs_search

            per_database.append([mmseqs_search(name, seq, db, _mmseqs_settings(args), args.cpu)
                                 for name, seq in pairs])
    return [merge_msas([results[i] for results in per_database]) for i in range(len(pairs))]


def run_af2(queries, args, af2) -> int:
    """AlphaFold2's input pipeline per query into OUTPUT/<record>/msas/ (+ the merged A3M beside it)."""
    from foldkit.io.fasta import record_file_names
    from foldkit.io.msa_files import write_a3m
    from foldkit.msa.af2_files import validate_msa_folder
    from foldkit.msa.af2_pipeline import Af2InputPipeline
    from foldkit.msa.jackhmmer import QueryRecord

    simple = [name for name, value in (("--db", args.db), ("--iterations", args.iterations),
                                       ("--e-value", args.e_value), ("--max-hits", args.max_hits)) if value]
    if simple or args.backend != "jackhmmer":
        raise InputError(f"{(simple or ['--backend'])[0]} applies to the plain database search, not to the "
                         "AlphaFold2 input pipeline (--af2-data-dir / --uniref90 ...)")
    if args.output.exists() and not args.output.is_dir():
        raise InputError("with the AlphaFold2 input pipeline the output is a folder, and this is a file",
                         path=str(args.output))
    names = record_file_names(queries, str(args.query))
    complexes = _complexes(queries, args)
    if af2.use_precomputed_msas:
        for query in queries:
            folder = args.output / names[query.id] / "msas"
            if folder.is_dir() and query.id not in complexes:
                validate_msa_folder(folder, query.sequence)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    pipeline = Af2InputPipeline(af2, log=log) if len(complexes) < len(queries) else None
    start = time.perf_counter()
    for number, query in enumerate(queries, 1):
        folder = args.output / names[query.id]
        prefix = f"[{number}/{len(queries)}] {query.id}: "
        if query.id in complexes:
            _search_complex(complexes[query.id], folder, args, log)
            continue
        result = pipeline.run(QueryRecord(query.id, query.description, query.sequence), folder / "msas", prefix)
        write_a3m(result.msa, folder / "msa.a3m")
        print(f"{prefix}{len(result.msa) - 1} MSA rows, {result.raw_features['template_domain_names'].shape[0]} "
              f"templates -> {folder / 'msas'}", file=sys.stderr)
    print(f"msa: {len(queries)} queries in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


def _complexes(queries, args) -> dict:
    """Record id -> Complex for the records with several chains, AlphaFold-Multimer's databases and any
    precomputed complex folders checked (before any search)."""
    found = _parse_complexes(queries, args)
    if found:
        settings = af2_settings_from_args(args, "multimer")      # AlphaFold-Multimer's databases must exist
        if settings.use_precomputed_msas:
            from foldkit.io.fasta import safe_record_name
            from foldkit.msa.af2_complex import validate_complex_msa_folder

            for complex_ in found.values():
                folder = args.output / safe_record_name(complex_.id) / "msas"
                if folder.is_dir():
                    validate_complex_msa_folder(folder, complex_)
    return found


def _search_complex(complex_, folder: Path, args, log) -> None:
    """AlphaFold-Multimer's searches of a complex into folder/msas/ and its merged MSA folder/msa.a3m (last)."""
    from foldkit.io.atomic import atomic_write_text
    from foldkit.msa.af2_complex import ComplexSearchPipeline
    from foldkit.predict.multimer_outputs import merged_msa_a3m

    result = ComplexSearchPipeline(af2_settings_from_args(args, "multimer"), log).run(complex_, folder / "msas")
    atomic_write_text(folder / "msa.a3m", merged_msa_a3m(complex_, result.features))
    print(f"{complex_.id}: {complex_.summary()}, {int(result.features['num_alignments'])} MSA rows -> "
          f"{folder / 'msas'}", file=sys.stderr)


def run(args) -> int:
    from foldkit.io.atomic import atomic_write_text
    from foldkit.io.msa_files import write_a3m

    url = resolve_server_url(args)
    if args.query is None:
        raise InputError("a query FASTA file is required")
    if args.templates and url is None:
        raise InputError("--templates needs --msa-server (template hits come from the server)")
    from foldkit.commands.af2_options import uses_af2_pipeline

    pipeline = uses_af2_pipeline(args)
    queries = _read_queries(args.query, complexes=pipeline or url is not None)
    complexes = any(":" in q.sequence for q in queries)
    af2 = af2_settings_from_args(args, "multimer" if complexes and all(":" in q.sequence for q in queries)
                                 else "monomer")
    if af2 is not None and url is not None:
        raise InputError("give --msa-server or AlphaFold2's databases (--af2-data-dir, --uniref90, ...), not both")
    if af2 is not None:
        return run_af2(queries, args, af2)
    start = time.perf_counter()
    many = len(queries) > 1 or args.output.is_dir()
    msas = fetch_from_server(queries, args, url, many) if url else build_msas(queries, args)
    if many:
        args.output.mkdir(parents=True, exist_ok=True)
    for query, msa in zip(queries, msas):
        path = args.output / f"{query.id}.a3m" if many else args.output
        if isinstance(msa, str):                         # a complex: ColabFold's complex A3M
            atomic_write_text(path, msa)
            print(f"{query.id}: complex A3M ({msa.count(chr(10) + '>') + 1} records) -> {path}", file=sys.stderr)
            continue
        write_a3m(msa, path)
        print(f"{query.id}: {len(msa) - 1} hits -> {path}", file=sys.stderr)
    print(f"msa: {len(queries)} queries in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0
