"""3D views for notebooks (py3Dmol): one structure, a model on its native, a prediction folder.

Each view is first built as a :class:`~foldkit.viz.scene.Scene` (``*_scene``
functions, also used by the HTML export) and then replayed on a
``py3Dmol.view``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import numpy as np

from foldkit.eval.scores import Scores, match_residues, score_structures
from foldkit.eval.superpose import apply, kabsch
from foldkit.io.structure import read_chains, read_structure
from foldkit.protein import Protein
from foldkit.viz import plots
from foldkit.viz.colors import (
    DEVIATION_BANDS,
    NATIVE_COLOR,
    NOT_MATCHED_COLOR,
    Legend,
    band_colors,
    residue_colors,
)
from foldkit.viz.prediction_folder import (
    PredictionFolder,
    RankedModel,
    read_prediction_folder,
)
from foldkit.viz.scene import (
    Scene,
    StyleLayer,
    colored_layers,
    scene_commands,
    structure_text,
)

StructureLike = Protein | Sequence[Protein] | str | os.PathLike


def load_chains(structure: StructureLike) -> list[Protein]:
    """Chains of a Protein, a list of Proteins, or a structure file (all protein chains of model 1).

    Chain ids longer than one character (mmCIF) are relabelled A, B, ... so that the
    structure can be handed to 3Dmol.js as PDB text.
    """
    if isinstance(structure, Protein):
        chains = [structure]
    elif isinstance(structure, (str, os.PathLike)):
        chains = read_chains(structure)
    else:
        chains = list(structure)
        if not chains or not all(isinstance(p, Protein) for p in chains):
            raise TypeError("expected a Protein, a list of Proteins or a structure file path")
    if any(len(p.chain_id.strip()) > 1 for p in chains):
        labels = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        chains = [p.replace(chain_id=labels[k % len(labels)]) for k, p in enumerate(chains)]
    return chains


def _load_one(structure: Protein | str | os.PathLike) -> Protein:
    return structure if isinstance(structure, Protein) else read_structure(structure)


# --------------------------------------------------------------------------- scenes

def structure_scene(structure: StructureLike, color: str = "plddt", style: str = "cartoon",
                    show_sidechains: bool = False, title: str = "") -> Scene:
    """One structure coloured by ``color`` ('plddt' | 'chain' | 'rainbow' | 'residue')."""
    chains = load_chains(structure)
    colors, legend = residue_colors(chains, color)
    layers = colored_layers(chains, colors, style=style, show_sidechains=show_sidechains)
    return Scene(structures=(structure_text(chains),), layers=tuple(layers), legend=legend, title=title)


@dataclasses.dataclass(frozen=True)
class Superposition:
    """A model moved onto its native by the best GDT (4 Å) superposition, with its scores."""

    model: Protein               # superposed coordinates
    native: Protein
    scores: Scores
    deviation: np.ndarray        # [L_model] CA distance to the matched native residue (NaN: unmatched)

    @property
    def caption(self) -> str:
        s = self.scores
        return (f"GDT_TS {s.gdt_ts:.1f}  GDT_HA {s.gdt_ha:.1f}  TM {s.tm_score:.3f}  lDDT {s.lddt:.3f}  "
                f"RMSD_CA {s.rmsd_ca:.2f} Å  ({s.n_common}/{s.n_native} residues)")


def superpose(model: Protein | str | os.PathLike, native: Protein | str | os.PathLike, align: bool = False,
              force: bool = False, scores: Scores | None = None) -> Superposition:
    """Score ``model`` against ``native`` with foldkit's evaluator and apply its GDT superposition."""
    model_protein, native_protein = _load_one(model), _load_one(native)
    if scores is None:
        scores = score_structures(model_protein, native_protein, align=align, force=force,
                                  model_name="model" if isinstance(model, Protein) else str(model),
                                  native_name="native" if isinstance(native, Protein) else str(native))
    corr = match_residues(model_protein, native_protein, align=align, force=True)
    rotation, translation = scores.gdt.rotation, scores.gdt.translation    # model -> native
    moved = apply(rotation, translation, np.asarray(model_protein.atom_positions, dtype=np.float64))
    moved = moved * (np.asarray(model_protein.atom_mask)[..., None] > 0)
    deviation = np.full(len(model_protein), np.nan)
    deviation[corr.model_index] = scores.per_residue_distance[corr.native_index]
    return Superposition(model=model_protein.replace(atom_positions=moved.astype(np.float32)),
                         native=native_protein, scores=scores, deviation=deviation)


def superposition_scene(superposition: Superposition, style: str = "cartoon", title: str = "") -> Scene:
    """The native in grey under the model coloured by its CA deviation (GDT distance bands)."""
    native_layers = colored_layers([superposition.native], [[NATIVE_COLOR] * len(superposition.native)],
                                   style=style, model_index=0, extra_style={"opacity": 0.75})
    model_colors = band_colors(superposition.deviation, DEVIATION_BANDS, missing=NOT_MATCHED_COLOR)
    model_layers = colored_layers([superposition.model], [model_colors], style=style, model_index=1)
    legend = Legend("Model CA deviation from native",
                    tuple((b.label, b.color) for b in DEVIATION_BANDS)
                    + (("not in native", NOT_MATCHED_COLOR), ("native", NATIVE_COLOR)))
    return Scene(structures=(structure_text([superposition.native]), structure_text([superposition.model])),
                 layers=tuple(native_layers + model_layers), legend=legend, caption=superposition.caption,
                 title=title)


def prediction_scenes(folder: PredictionFolder, layout: str = "grid", color: str = "plddt",
                      style: str = "cartoon") -> list[Scene]:
    """One scene per ranked model ('grid') or all ranked models superposed on ranked_0 ('overlay')."""
    models = folder.models
    if layout == "grid":
        scenes = [structure_scene(m.protein, color=color, style=style, title=m.label) for m in models]
        # one legend is enough (the first viewer's); the others would cover their structures
        return scenes[:1] + [dataclasses.replace(s, legend=None) for s in scenes[1:]]
    if layout != "overlay":
        raise ValueError(f"unknown layout {layout!r}; choose 'grid' or 'overlay'")
    moved = [models[0].protein] + [_superpose_on(m.protein, models[0].protein) for m in models[1:]]
    layers: list[StyleLayer] = []
    legend = None
    for index, protein in enumerate(moved):
        colors, legend = residue_colors([protein], color)
        layers += colored_layers([protein], colors, style=style, model_index=index,
                                 extra_style=None if index == 0 else {"opacity": 0.6})
    return [Scene(structures=tuple(structure_text([p]) for p in moved), layers=tuple(layers), legend=legend,
                  title=f"{len(moved)} ranked models on ranked_0 (others translucent)")]


def _superpose_on(mobile: Protein, target: Protein) -> Protein:
    """``mobile`` moved by the CA Kabsch fit onto ``target`` (same residues, as ranked models are)."""
    both = (mobile.ca_mask > 0) & (target.ca_mask > 0) if len(mobile) == len(target) else None
    if both is None or both.sum() < 3:
        return mobile
    rotation, translation = kabsch(mobile.ca_positions[both], target.ca_positions[both])
    moved = apply(rotation, translation, np.asarray(mobile.atom_positions, dtype=np.float64))
    return mobile.replace(atom_positions=(moved * (mobile.atom_mask[..., None] > 0)).astype(np.float32))


# --------------------------------------------------------------------------- py3Dmol

def to_py3dmol(scenes: Sequence[Scene], width: int = 640, height: int = 480, columns: int | None = None):
    """A ``py3Dmol.view`` drawing ``scenes`` (several: a grid of linked-free viewers, ``width`` x ``height``
    each)."""
    import py3Dmol

    scenes = list(scenes)
    if len(scenes) == 1:
        viewer = py3Dmol.view(width=width, height=height)
        for method, args in scene_commands(scenes[0], width, height):
            getattr(viewer, method)(*args)
        return viewer
    columns = columns or min(len(scenes), 3)
    rows = -(-len(scenes) // columns)
    viewer = py3Dmol.view(width=width * columns, height=height * rows, viewergrid=(rows, columns), linked=False)
    for k, scene in enumerate(scenes):
        for method, args in scene_commands(scene, width, height):
            getattr(viewer, method)(*args, viewer=(k // columns, k % columns))
    return viewer


def view(protein_or_path: StructureLike, color: str = "plddt", style: str = "cartoon",
         show_sidechains: bool = False, width: int = 640, height: int = 480):
    """A py3Dmol view of a structure (Protein, list of chains, or PDB/mmCIF/TS file).

    color: 'plddt' (B-factor column in the AlphaFold DB bands: > 90 dark blue,
    70-90 light blue, 50-70 yellow, < 50 orange), 'chain', 'rainbow' (N- to
    C-terminus) or 'residue' (residue class); style: 'cartoon', 'stick' or
    'sphere'; show_sidechains: side-chain sticks on the cartoon. The legend
    is drawn in the viewer.
    """
    scene = structure_scene(protein_or_path, color=color, style=style, show_sidechains=show_sidechains)
    return to_py3dmol([scene], width, height)


def view_superposition(model: Protein | str | os.PathLike, native: Protein | str | os.PathLike,
                       align: bool = False, force: bool = False, scores: Scores | None = None,
                       style: str = "cartoon", width: int = 640, height: int = 480):
    """Model and native after the best GDT superposition of foldkit's evaluator: native grey,
    model coloured by CA deviation, scores in the caption."""
    superposition = superpose(model, native, align=align, force=force, scores=scores)
    return to_py3dmol([superposition_scene(superposition, style=style)], width, height)


@dataclasses.dataclass(frozen=True)
class PredictionDisplay:
    """What :func:`view_prediction` shows: the 3D view and the pLDDT / PAE figures."""

    folder: PredictionFolder
    view: object                      # py3Dmol.view
    plddt_figure: object              # matplotlib Figure
    pae_figure: object | None         # matplotlib Figure, None without PAE files

    def _ipython_display_(self):
        from IPython.display import display

        display(self.view)
        display(self.plddt_figure)
        if self.pae_figure is not None:
            display(self.pae_figure)


def prediction_figures(folder: PredictionFolder):
    """(pLDDT figure, PAE figure or None) of the ranked models."""
    plddt_figure = plots.plot_plddt([(f"rank {m.rank} {m.name}", m.plddt) for m in folder.models],
                                    residue_numbers=folder.models[0].protein.residue_index)
    with_pae: list[RankedModel] = [m for m in folder.models if m.pae is not None]
    pae_figure = (plots.plot_pae([(f"rank {m.rank} {m.name}", m.pae) for m in with_pae],
                                 max_pae=max(m.max_pae for m in with_pae)) if with_pae else None)
    return plddt_figure, pae_figure


def view_prediction(outdir: str | os.PathLike, layout: str = "grid", color: str = "plddt",
                    max_models: int | None = 5, width: int = 400, height: int = 400) -> PredictionDisplay:
    """The ranked models of a ``foldkit predict`` record folder (side by side, or 'overlay'),
    with the pLDDT and PAE plots; displays itself in a notebook."""
    folder = read_prediction_folder(outdir, max_models=max_models)
    scenes = prediction_scenes(folder, layout=layout, color=color)
    plddt_figure, pae_figure = prediction_figures(folder)
    return PredictionDisplay(folder=folder, view=to_py3dmol(scenes, width, height), plddt_figure=plddt_figure,
                             pae_figure=pae_figure)
