"""``foldkit view PATH --html OUT.html``: a standalone page with the 3D view and plots."""

from __future__ import annotations

import argparse
from pathlib import Path

from foldkit.errors import InputError
from foldkit.viz.colors import SCHEMES, residue_plddt
from foldkit.viz.html import Plot, find_3dmol_js, write_html
from foldkit.viz.prediction_folder import read_prediction_folder
from foldkit.viz.scene import STYLES

# foldkit.viz.view and foldkit.viz.plots (matplotlib, the compiled scorer) are imported in run():
# building the CLI parser imports every command module, and `foldkit --help` should stay quick.


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "view", help="write a standalone HTML page with a 3D view (3Dmol.js) and plots",
        description="PATH is a structure file (PDB, mmCIF, CASP TS) or a `foldkit predict` record folder "
                    "(ranked_*.pdb, scores_*.json, pae_*.json). With --native, the model is shown on the "
                    "native after the best GDT superposition, coloured by deviation, with its scores; when "
                    "either has several chains, as complexes: chains mapped, the model moved by its "
                    "multi-chain TM-score superposition and coloured by chain (each model chain in the colour "
                    "of the native chain it maps to).")
    parser.add_argument("path", metavar="PATH", help="structure file or foldkit predict output folder")
    parser.add_argument("--html", required=True, metavar="OUT.html", help="page to write")
    parser.add_argument("--color", default="plddt", choices=SCHEMES,
                        help="colouring: plddt (B-factor column, AlphaFold DB bands), chain, rainbow, residue")
    parser.add_argument("--style", default="cartoon", choices=STYLES)
    parser.add_argument("--sidechains", action="store_true", help="side-chain sticks on the cartoon")
    parser.add_argument("--native", default=None, metavar="NATIVE", help="reference structure to superpose on")
    parser.add_argument("--align", action="store_true",
                        help="with --native: match residues by sequence alignment instead of numbers")
    parser.add_argument("--layout", default="grid", choices=("grid", "overlay"),
                        help="prediction folder: ranked models side by side or superposed")
    parser.add_argument("--max-models", type=int, default=5, help="prediction folder: ranked models shown")
    parser.add_argument("--js", default=None, metavar="PATH",
                        help="local 3Dmol-min.js to embed (default: $FOLDKIT_3DMOL_JS, else the CDN)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from foldkit.viz import plots
    from foldkit.viz.view import (load_chains, prediction_figures, prediction_scenes, structure_scene,
                                  superpose, superposition_scene)

    def _png(figure) -> bytes:
        return plots.figure_png(figure, dpi=90)

    path = Path(args.path)
    if not path.exists():
        raise InputError("no such file or folder", path=str(path))
    js_path = find_3dmol_js(args.js)
    if path.is_dir():
        if args.native:
            raise InputError("--native needs a structure file, not a prediction folder", path=str(path))
        folder = read_prediction_folder(path, max_models=args.max_models)
        scenes = prediction_scenes(folder, layout=args.layout, color=args.color, style=args.style)
        plddt_figure, pae_figure = prediction_figures(folder)
        page_plots = [Plot("pLDDT per residue of the ranked models", _png(plddt_figure))]
        if pae_figure is not None:
            page_plots.append(Plot("Predicted aligned error (Å)", _png(pae_figure)))
        title, size = f"foldkit prediction: {path.resolve().name}", (420, 420)
    elif args.native and _is_complex(path, args.native):
        from foldkit.viz.complex_view import complex_superposition_scene, interface_figure, superpose_complex

        superposition = superpose_complex(path, args.native)
        scenes = [complex_superposition_scene(superposition, style=args.style,
                                              title=f"{path.name} on {Path(args.native).name}")]
        figure = interface_figure(superposition.scores)
        page_plots = [] if figure is None else [Plot("Per native interface: DockQ, QS-score and ICS", _png(figure))]
        title, size = f"foldkit: {path.name} superposed on {Path(args.native).name}", (800, 600)
    elif args.native:
        superposition = superpose(path, args.native, align=args.align)
        scenes = [superposition_scene(superposition, style=args.style, title=f"{path.name} on {Path(args.native).name}")]
        page_plots = [Plot("GDT: percent of native residues within each distance cutoff",
                           _png(plots.plot_gdt_curves({path.name: superposition.scores})))]
        title, size = f"foldkit: {path.name} superposed on {Path(args.native).name}", (800, 600)
    else:
        chains = load_chains(path)
        scenes = [structure_scene(chains, color=args.color, style=args.style, show_sidechains=args.sidechains,
                                  title=path.name)]
        page_plots = []
        if args.color == "plddt":
            page_plots.append(Plot("B-factor column per residue (pLDDT for predictions)",
                                   _png(plots.plot_plddt([(f"chain {p.chain_id.strip() or '-'}", residue_plddt(p))
                                                          for p in chains],
                                                         residue_numbers=chains[0].residue_index))))
        title, size = f"foldkit: {path.name}", (800, 600)
    out = write_html(args.html, title, scenes, page_plots, js_path=js_path, width=size[0], height=size[1])
    where = f"3Dmol.js embedded from {js_path}" if js_path else "3Dmol.js from the CDN (needs network)"
    print(f"wrote {out} ({where})")
    return 0


def _is_complex(model: Path, native: str) -> bool:
    """Whether either structure has several protein chains (then it is shown as a complex)."""
    from foldkit.io.structure import read_structure_file

    return any(len(read_structure_file(p).chains()) > 1 for p in (model, native))
