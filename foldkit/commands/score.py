"""``foldkit score MODEL NATIVE``: GDT_TS, GDT_HA, TM-score, lDDT and RMSD of one model; complex scores
(chain mapping, DockQ, QS-score, ICS/IPS, lDDT, multi-chain TM-score) when either file has several chains."""

from __future__ import annotations

import argparse
import json

from foldkit.eval.scores import Scores, score_structures
from foldkit.io.structure import read_structure, read_structure_file


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score", help="score a model against a native structure (GDT, TM-score, lDDT, RMSD; complexes: DockQ, QS...)",
        description="Score MODEL against NATIVE. Single chains: residues are matched by residue number (CASP's "
                    "sequence-dependent mode) unless --align; GDT is 0-100, TM-score and lDDT 0-1, all normalised "
                    "by the native. When either file has several protein chains (and no --model-chain / "
                    "--native-chain is given) the pair is scored as a complex: chains are mapped by sequence and "
                    "structure (OpenStructure's choice, highest QS-score) unless --mapping, residues matched by "
                    "sequence alignment; reports DockQ per interface, QS-score, ICS/IPS, lDDT/ilDDT, multi-chain "
                    "TM-score and per-chain scores (--json: OpenStructure compare-structures key names).")
    parser.add_argument("model", help="model structure (PDB, mmCIF or CASP TS; first model is used)")
    parser.add_argument("native", help="reference structure (PDB or mmCIF)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--model-chain", default=None, metavar="ID", help="chain of the model (default: first)")
    parser.add_argument("--native-chain", default=None, metavar="ID", help="chain of the native (default: first)")
    parser.add_argument("--align", action="store_true",
                        help="match residues by a sequence alignment instead of residue numbers (single chains; "
                             "complexes always align)")
    parser.add_argument("--force", action="store_true",
                        help="score even where matched residues have different names")
    parser.add_argument("--mapping", default=None, metavar="N:M,...",
                        help="complexes: force the chain mapping, native chain:model chain pairs, e.g. A:B,B:A "
                             "(native chains not named stay unmapped)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.model_chain is None and args.native_chain is None:
        model_chains = read_structure_file(args.model).chains()
        native_chains = read_structure_file(args.native).chains()
        if len(model_chains) > 1 or len(native_chains) > 1 or args.mapping:
            return _run_complex(args, model_chains, native_chains)
        model, native = model_chains[0], native_chains[0]
    else:
        model = read_structure(args.model, chain=args.model_chain)
        native = read_structure(args.native, chain=args.native_chain)
    scores = score_structures(model, native, align=args.align, force=args.force,
                              model_name=str(args.model), native_name=str(args.native))
    if args.json:
        print(json.dumps(scores.to_dict()))
    else:
        print(format_table(scores, args.model, args.native))
    return 0


def _run_complex(args: argparse.Namespace, model_chains, native_chains) -> int:
    from foldkit.eval.complex.mapping import parse_mapping
    from foldkit.eval.complex.report import format_table as complex_table
    from foldkit.eval.complex.report import to_json
    from foldkit.eval.complex.scoring import score_complex
    from foldkit.eval.complex.structure import complex_from_chains

    model = complex_from_chains(model_chains, name=str(args.model))
    native = complex_from_chains(native_chains, name=str(args.native))
    chain_map = parse_mapping(args.mapping, native, model) if args.mapping else None
    scores = score_complex(model, native, chain_map=chain_map)
    print(json.dumps(to_json(scores)) if args.json else complex_table(scores))
    return 0


def format_table(scores: Scores, model_path: str, native_path: str) -> str:
    """A readable summary of one pair."""
    def num(v, fmt):
        return "n/a" if v is None or v != v else format(v, fmt)

    rows = [
        ("model", str(model_path)), ("native", str(native_path)),
        ("residues (model / native / common)", f"{scores.n_model} / {scores.n_native} / {scores.n_common}"),
        ("sequence identity of matched residues", f"{100 * scores.identity:.1f}%"),
        ("GDT_TS", num(scores.gdt_ts, ".2f")), ("GDT_HA", num(scores.gdt_ha, ".2f")),
        ("TM-score", num(scores.tm_score, ".4f")), ("lDDT (all atoms)", num(scores.lddt, ".4f")),
        ("lDDT (CA)", num(scores.lddt_ca, ".4f")), ("RMSD CA [A]", num(scores.rmsd_ca, ".3f")),
        ("RMSD all common atoms [A]", num(scores.rmsd_all, ".3f")),
    ]
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" for k, v in rows]
    cut = "  ".join(f"{c:g}A:{p:.1f}" for c, p in scores.gdt_cutoffs.items() if c in (0.5, 1, 2, 4, 8))
    lines.append(f"{'GDT % under cutoff':<{width}}  {cut}")
    return "\n".join(lines)
