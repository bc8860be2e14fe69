"""A model complex superposed on its native, coloured by chain (notebooks and ``foldkit view --native``).

The model is moved by the superposition of its multi-chain TM-score (:mod:`foldkit.eval.complex`); each
native chain gets a palette colour, drawn translucent, and the model chain mapped onto it the same colour,
opaque, so that a chain sitting in the wrong place shows at a glance. Model chains mapped to no native
chain are drawn in the "not matched" colour.
"""

from __future__ import annotations

import dataclasses
import os
import string

import numpy as np

from foldkit.eval.complex.scoring import ComplexScores, score_complex
from foldkit.eval.complex.structure import Complex, read_complex
from foldkit.eval.superpose import apply
from foldkit.protein import Protein
from foldkit.viz.colors import CHAIN_PALETTE, NOT_MATCHED_COLOR, Legend
from foldkit.viz.scene import Scene, colored_layers, structure_text

ComplexLike = Complex | str | os.PathLike
NATIVE_OPACITY = 0.45
_LABELS = string.ascii_uppercase + string.ascii_lowercase + string.digits


def _as_complex(structure: ComplexLike) -> Complex:
    return structure if isinstance(structure, Complex) else read_complex(structure)


def _display_chains(chains: tuple[Protein, ...]) -> list[Protein]:
    """Chains with one-character ids (PDB text for 3Dmol.js); longer mmCIF ids are relabelled A, B, ..."""
    if all(len(c.chain_id.strip()) <= 1 for c in chains):
        return list(chains)
    return [c.replace(chain_id=_LABELS[k % len(_LABELS)]) for k, c in enumerate(chains)]


@dataclasses.dataclass(frozen=True)
class ComplexSuperposition:
    """The model's chains moved onto the native by the multi-chain TM-score superposition, with the scores."""

    model: list[Protein]
    native: list[Protein]
    scores: ComplexScores

    @property
    def caption(self) -> str:
        s = self.scores
        parts = [f"mapping {s.mapping_text() or 'none'}"]
        for label, value in (("QS", s.qs.qs_global), ("DockQ", s.dockq.dockq_wave), ("lDDT", s.lddt.lddt.score),
                             ("TM", s.tm.tm_score)):
            parts.append(f"{label} {value:.3f}" if value is not None else f"{label} n/a")
        return "  ".join(parts)


def superpose_complex(model: ComplexLike, native: ComplexLike, chain_map: tuple[int, ...] | None = None,
                      scores: ComplexScores | None = None) -> ComplexSuperposition:
    """Score ``model`` against ``native`` as complexes and move the model by the TM-score superposition."""
    model_cx, native_cx = _as_complex(model), _as_complex(native)
    scores = scores or score_complex(model_cx, native_cx, chain_map=chain_map, per_chain=False)
    rotation, translation = scores.tm.rotation, scores.tm.translation
    moved = []
    for chain in model_cx.chains:
        xyz = apply(rotation, translation, np.asarray(chain.atom_positions, dtype=np.float64))
        moved.append(chain.replace(atom_positions=(xyz * (chain.atom_mask[..., None] > 0)).astype(np.float32)))
    return ComplexSuperposition(model=moved, native=list(native_cx.chains), scores=scores)


def complex_superposition_scene(superposition: ComplexSuperposition, style: str = "cartoon",
                                title: str = "") -> Scene:
    """Native chains translucent in palette colours; each mapped model chain opaque in its native's colour."""
    scores = superposition.scores
    native = _display_chains(tuple(superposition.native))
    model = _display_chains(tuple(superposition.model))
    native_color = [CHAIN_PALETTE[k % len(CHAIN_PALETTE)] for k in range(len(native))]
    model_to_native = scores.residues.model_chain_map
    model_color = [native_color[model_to_native[m]] if m in model_to_native else NOT_MATCHED_COLOR
                   for m in range(len(model))]
    layers = colored_layers(native, [[c] * len(p) for c, p in zip(native_color, native)], style=style,
                            model_index=0, extra_style={"opacity": NATIVE_OPACITY})
    layers += colored_layers(model, [[c] * len(p) for c, p in zip(model_color, model)], style=style, model_index=1)
    trg_ids, mdl_ids = scores.target.chain_ids, scores.model.chain_ids
    entries = []
    for t, color in enumerate(native_color):
        m = scores.residues.chain_map[t]
        partner = f"model {mdl_ids[m]}" if m >= 0 else "no model chain"
        entries.append((f"native {trg_ids[t]} (translucent) / {partner}", color))
    unmatched = [mdl_ids[m] for m in range(len(model)) if m not in model_to_native]
    if unmatched:
        entries.append((f"model {', '.join(unmatched)}: no native chain", NOT_MATCHED_COLOR))
    return Scene(structures=(structure_text(native), structure_text(model)), layers=tuple(layers),
                 legend=Legend("Chains (native / model)", tuple(entries)), caption=superposition.caption,
                 title=title)


def interface_figure(scores: ComplexScores):
    """Bar chart of DockQ, QS-score and ICS per native interface (a PlotFigure: shows itself in notebooks), or
    None without a scored interface."""
    from foldkit.viz.plots import PlotFigure

    trg, mdl = scores.target.chain_ids, scores.model.chain_ids
    interfaces = scores.dockq.interfaces
    if not interfaces:
        return None
    qs = {i.target_chains: i.qs_global for i in scores.qs.interfaces}
    ics = {i.target_chains: i.ics.score for i in scores.contact.interfaces}
    labels = [f"{trg[i.target_chains[0]]}-{trg[i.target_chains[1]]}\n({mdl[i.model_chains[0]]}-"
              f"{mdl[i.model_chains[1]]})" for i in interfaces]
    series = (("DockQ", [i.dockq for i in interfaces]),
              ("QS-score", [qs.get(i.target_chains) or 0.0 for i in interfaces]),
              ("ICS", [ics.get(i.target_chains) or 0.0 for i in interfaces]))
    x = np.arange(len(interfaces))
    figure = PlotFigure(figsize=(max(4.0, 1.2 * len(interfaces) + 2.0), 3.2))
    axes = figure.subplots()
    for k, (name, values) in enumerate(series):
        axes.bar(x + (k - 1) * 0.27, values, width=0.27, label=name)
    axes.set_xticks(x, labels, fontsize=8)
    axes.set_ylim(0, 1)
    axes.set_ylabel("score")
    axes.set_xlabel("native interface (model chains)")
    axes.legend(fontsize=8, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.18))
    figure.tight_layout()
    return figure


def view_complex_superposition(model: ComplexLike, native: ComplexLike, chain_map: tuple[int, ...] | None = None,
                               scores: ComplexScores | None = None, style: str = "cartoon", width: int = 640,
                               height: int = 480):
    """A py3Dmol view of ``model`` superposed on ``native`` as complexes, coloured by chain, scores in the
    caption."""
    from foldkit.viz.view import to_py3dmol

    superposition = superpose_complex(model, native, chain_map=chain_map, scores=scores)
    return to_py3dmol([complex_superposition_scene(superposition, style=style)], width, height)
