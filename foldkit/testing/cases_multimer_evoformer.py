"""Golden per-module cases of the multimer Evoformer (shared/reference/af2/multimer/modules).

Same contract as :mod:`foldkit.testing.cases_evoformer`:
``CASES[name](arrays, meta, chunk_size) -> list[OutputCheck]``; ``MODULE_CALLS``
exposes each case's haiku forward function so tests can also check ``init``.
"""

from __future__ import annotations

import functools
from typing import Callable


from foldkit.model.evoformer import EvoformerIteration
from foldkit.model.evoformer_config import EvoformerIterationConfig, TriangleMultiplicationConfig
from foldkit.model.triangle import TriangleMultiplication
from foldkit.testing.cases_evoformer import ModuleCall, _global_config, activation_checks
from foldkit.testing.compare import OutputCheck


def _iteration(name: str, is_extra_msa: bool, meta: dict, chunk_size: int | None) -> ModuleCall:
    config, gcfg = EvoformerIterationConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)

    def forward(msa, msa_mask, pair, pair_mask):
        return EvoformerIteration(config, gcfg, is_extra_msa=is_extra_msa, name=name)(msa, pair, msa_mask, pair_mask)

    return ModuleCall(forward, ("msa_act", "msa_mask", "pair_act", "pair_mask"), ("msa", "pair"))


def _fused_triangle_multiplication(name: str, meta: dict, chunk_size: int | None) -> ModuleCall:
    config, gcfg = TriangleMultiplicationConfig.from_dict(meta["config"]), _global_config(meta, chunk_size)
    return ModuleCall(lambda act, mask: TriangleMultiplication(config, gcfg, name=name)(act, mask),
                      ("act", "mask"), ("output",))


_p = functools.partial
MODULE_CALLS: dict[str, Callable[[dict, "int | None"], ModuleCall]] = {
    "evoformer_iteration_multimer": _p(_iteration, "evoformer_iteration", False),
    "extra_msa_stack_iteration_multimer": _p(_iteration, "extra_msa_stack", True),
    "triangle_multiplication_outgoing_fused": _p(_fused_triangle_multiplication, "triangle_multiplication_outgoing"),
    "triangle_multiplication_incoming_fused": _p(_fused_triangle_multiplication, "triangle_multiplication_incoming"),
}


def run_case(name: str, arrays, meta: dict, chunk_size: int | None) -> list[OutputCheck]:
    """Apply the case's module with the golden parameters; one ACTIVATION check per output
    (padded pair entries carry bias / 1e-3 from the outer product mean: atol relative to max|ref|)."""
    return activation_checks(MODULE_CALLS[name](meta, chunk_size), arrays)


CASES = {name: _p(run_case, name) for name in MODULE_CALLS}
