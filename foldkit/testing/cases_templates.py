"""Golden case of the template embedding (``modules/template_embedding``)."""

from __future__ import annotations

import haiku as hk
import jax.numpy as jnp
import numpy as np

from foldkit.model.config import TemplateConfig, build_dataclass, global_config_from_reference
from foldkit.model.global_config import GlobalConfig
from foldkit.model.params import flat_to_nested
from foldkit.model.templates import TemplateEmbedding
from foldkit.testing.compare import Kind, OutputCheck

TEMPLATE_INPUTS = ("template_aatype", "template_all_atom_positions", "template_all_atom_masks",
                   "template_pseudo_beta", "template_pseudo_beta_mask", "template_mask")


def _template_embedding(arrays: dict, case: dict, chunk_size: int | None) -> list[OutputCheck]:
    config = build_dataclass(TemplateConfig, case["config"])
    reference_global = global_config_from_reference(case["global_config"])
    global_config = GlobalConfig(chunk_size=chunk_size, zero_init=reference_global.zero_init)

    def forward(query, batch, mask_2d):
        return TemplateEmbedding(config, global_config)(query, batch, mask_2d, return_intermediates=True)

    params = flat_to_nested({k: jnp.asarray(v) for k, v in arrays.items() if "//" in k})
    batch = {key: jnp.asarray(arrays[f"input/{key}"]) for key in TEMPLATE_INPUTS}
    update, intermediates = hk.transform(forward).apply(
        params, None, jnp.asarray(arrays["input/query_embedding"]), batch, jnp.asarray(arrays["input/mask_2d"]))
    return [
        OutputCheck("output/output", np.asarray(update), Kind.ACTIVATION),
        OutputCheck("output/intermediate/single_template_embedding",
                    np.asarray(intermediates["single_template_embedding"]), Kind.ACTIVATION),
        OutputCheck("output/intermediate/template_dgram", np.asarray(intermediates["template_dgram"]), Kind.EXACT),
    ]


CASES = {"template_embedding": _template_embedding}
