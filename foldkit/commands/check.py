"""``foldkit check FILE...``: validate inputs and say what they hold, or exactly what is wrong."""

from __future__ import annotations

import sys

from foldkit.io.validate import FORMATS, check_file, format_names


def add_parser(subparsers) -> None:
    known = ", ".join(f"{f.name} ({f.description})" for f in FORMATS)
    parser = subparsers.add_parser(
        "check", help="validate input files (FASTA, PDB, mmCIF, CASP TS, A3M, Stockholm, HHsearch .hhr, ...)",
        description=f"Validate each file with the reader foldkit uses and print a one-line summary, or the "
                    f"error (file, record, line, column). Formats: {known}. Exit code 0 when every file "
                    f"is valid, 2 otherwise.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="files to check (gzip accepted)")
    parser.add_argument("--format", choices=format_names(), default=None,
                        help="skip detection and check as this format")
    parser.add_argument("--model-preset", choices=("monomer", "multimer"), default=None,
                        help="how FASTA files hold complexes: multimer = one complex per file, one record per chain "
                             "(AlphaFold2); otherwise chains of a record separated by ':' (ColabFold)")
    parser.add_argument("--max-complex-length", type=int, default=None, metavar="N",
                        help="longest complex accepted, in residues (default as foldkit predict)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.set_defaults(func=run)


def run(args) -> int:
    failures = 0
    for path in args.files:
        result = check_file(path, args.format, args.model_preset, args.max_complex_length)
        for message in result.warnings:
            print(f"foldkit check: warning: {message}", file=sys.stderr)
        if result.ok:
            if not args.quiet:
                print(f"{result.path}: OK ({result.format}): {result.summary}")
        else:
            failures += 1
            print(f"foldkit check: error: {result.error}", file=sys.stderr)
    if failures and len(args.files) > 1:
        print(f"foldkit check: {failures} of {len(args.files)} files invalid", file=sys.stderr)
    return 2 if failures else 0
