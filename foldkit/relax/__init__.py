"""Amber relaxation of predicted structures with OpenMM (AlphaFold2 v2.3's protocol).

Modules: :mod:`~foldkit.relax.config` (settings), :mod:`~foldkit.relax.layout`
(input checks, chain segments), :mod:`~foldkit.relax.cleanup` (pdbfixer,
hydrogens), :mod:`~foldkit.relax.amber` (restrained minimisation),
:mod:`~foldkit.relax.violations` (the check between rounds),
:mod:`~foldkit.relax.protocol` (the rounds), :mod:`~foldkit.relax.structure`
(relaxed chains, PDB/mmCIF text), :mod:`~foldkit.relax.files` (file in, files out).
"""

from __future__ import annotations

from foldkit.relax.cleanup import RelaxError
from foldkit.relax.config import RelaxSettings
from foldkit.relax.protocol import RelaxMetrics, RelaxResult, relax_chains
from foldkit.relax.structure import RelaxedChain, relaxed_mmcif_string, relaxed_pdb_string

__all__ = ["RelaxError", "RelaxMetrics", "RelaxResult", "RelaxSettings", "RelaxedChain", "relax_chains",
           "relaxed_mmcif_string", "relaxed_pdb_string"]
