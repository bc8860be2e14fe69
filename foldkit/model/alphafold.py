"""The whole AlphaFold2 monomer network (Jumper et al. 2021, suppl. Algorithm 2).

Module tree and parameter paths (``alphafold/alphafold_iteration/...``) are
those of the official parameter files:

* ``evoformer``: input embeddings (``preprocess_1d``, ``preprocess_msa``,
  ``left_single``, ``right_single``), relative positions
  (``pair_activiations``, sic), recycling (``prev_pos_linear``,
  ``prev_msa_first_row_norm``, ``prev_pair_norm``), ``template_embedding``,
  template MSA rows, ``extra_msa_activations`` + ``extra_msa_stack``,
  ``evoformer_iteration`` (stacked) and ``single_activations``;
* ``structure_module`` and the heads (those with non-zero weight).

:class:`AlphaFold` runs the recycling loop over the leading batch axis of
the processed features (iteration r reads batch slice r when
``resample_msa_in_recycling``) and returns flat AlphaFold output names
(``distogram/logits``, ``structure_module/final_atom_positions``, ...),
plus ``recycle{r}/...`` intermediates on request.
"""

from __future__ import annotations

from typing import Any, Mapping

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import heads as heads_lib
from foldkit.model.all_atom import dgram_from_positions, pseudo_beta
from foldkit.model.config import AlphaFoldConfig, EmbeddingsAndEvoformerConfig, ModelConfig
from foldkit.model.evoformer import EvoformerIteration
from foldkit.model.global_config import GlobalConfig
from foldkit.model.params import ParamSpec, spec_of
from foldkit.model.primitives import Linear, layer_norm
from foldkit.model.layer_stack import layer_stack
from foldkit.model.structure import StructureModule
from foldkit.model.templates import TemplateEmbedding, embed_template_rows, template_torsion_features

NUM_ATOM37 = 37
NUM_MSA_CLASSES = 23   # 20 amino acids, X, gap, mask token
TEMPLATE_KEYS = ("template_aatype", "template_all_atom_positions", "template_all_atom_masks",
                 "template_pseudo_beta", "template_pseudo_beta_mask", "template_mask")
RECYCLED_OUTPUTS = ("structure_module/final_atom_positions", "representations/msa_first_row",
                    "representations/pair", "representations/single", "predicted_lddt/logits")
HEAD_MODULES = {
    "distogram": heads_lib.DistogramHead,
    "experimentally_resolved": heads_lib.ExperimentallyResolvedHead,
    "masked_msa": heads_lib.MaskedMsaHead,
    "predicted_aligned_error": heads_lib.PredictedAlignedErrorHead,
    "predicted_lddt": heads_lib.PredictedLDDTHead,
}


def relative_position_features(residue_index: jnp.ndarray, max_relative_feature: int) -> jnp.ndarray:
    """One-hot clipped residue offsets i - j: residue_index [L] -> [L, L, 2 * max + 1]."""
    offset = residue_index[:, None] - residue_index[None, :]
    clipped = jnp.clip(offset + max_relative_feature, 0, 2 * max_relative_feature)
    return jax.nn.one_hot(clipped, 2 * max_relative_feature + 1)


def extra_msa_features(batch: Mapping[str, jnp.ndarray]) -> jnp.ndarray:
    """Extra MSA rows: one-hot residue (23), has_deletion, deletion_value -> [N_extra, L, 25]."""
    return jnp.concatenate([
        jax.nn.one_hot(batch["extra_msa"], NUM_MSA_CLASSES),
        batch["extra_has_deletion"][..., None],
        batch["extra_deletion_value"][..., None],
    ], axis=-1)


def _evoformer_blocks(config: EmbeddingsAndEvoformerConfig, global_config: GlobalConfig, num_block: int,
                      msa: jnp.ndarray, pair: jnp.ndarray, msa_mask: jnp.ndarray, pair_mask: jnp.ndarray,
                      is_extra_msa: bool) -> tuple[jnp.ndarray, jnp.ndarray]:
    name = "extra_msa_stack" if is_extra_msa else "evoformer_iteration"

    def block(acts):
        return EvoformerIteration(config.evoformer, global_config, is_extra_msa=is_extra_msa, name=name)(
            acts[0], acts[1], msa_mask, pair_mask)

    return layer_stack(num_block, block, (msa, pair))


class EmbeddingsAndEvoformer(hk.Module):
    """Features + recycled values -> single, pair, MSA representations (Algorithm 2 lines 5-17)."""

    def __init__(self, config: EmbeddingsAndEvoformerConfig, global_config: GlobalConfig,
                 name: str = "evoformer"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], prev: Mapping[str, jnp.ndarray]) -> dict[str, jnp.ndarray]:
        """batch: one batch slice of the processed features; prev: recycled
        ``prev_pos`` [L, 37, 3], ``prev_msa_first_row`` [L, c_m], ``prev_pair`` [L, L, c_z]."""
        c, gc = self.config, self.global_config
        compute_dtype = jnp.bfloat16 if gc.bfloat16 else jnp.float32
        target_feat = batch["target_feat"]                                           # [L, 22]
        seq_mask = batch["seq_mask"].astype(jnp.float32)                             # [L]
        pair_mask = seq_mask[:, None] * seq_mask[None, :]                            # [L, L]

        msa = (Linear(c.msa_channel, name="preprocess_1d")(target_feat)[None]
               + Linear(c.msa_channel, name="preprocess_msa")(batch["msa_feat"]))   # [N, L, c_m]
        pair = (Linear(c.pair_channel, name="left_single")(target_feat)[:, None]
                + Linear(c.pair_channel, name="right_single")(target_feat)[None])   # [L, L, c_z]

        if c.recycle_pos:
            prev_beta = pseudo_beta(batch["aatype"], prev["prev_pos"])              # [L, 3]
            dgram = dgram_from_positions(prev_beta, c.prev_pos.num_bins, c.prev_pos.min_bin, c.prev_pos.max_bin)
            pair = pair + Linear(c.pair_channel, name="prev_pos_linear")(dgram)
        if c.recycle_features:
            first_row = layer_norm("prev_msa_first_row_norm")(prev["prev_msa_first_row"])
            msa = msa.at[0].add(first_row)
            pair = pair + layer_norm("prev_pair_norm")(prev["prev_pair"])
        if c.max_relative_feature:
            relpos = relative_position_features(batch["residue_index"], c.max_relative_feature)
            pair = pair + Linear(c.pair_channel, name="pair_activiations")(relpos)

        if c.template.enabled:
            template_batch = {key: batch[key] for key in TEMPLATE_KEYS}
            pair = pair + TemplateEmbedding(c.template, gc)(pair, template_batch, pair_mask)

        extra = Linear(c.extra_msa_channel, name="extra_msa_activations")(extra_msa_features(batch))
        _, pair = _evoformer_blocks(c, gc, c.extra_msa_stack_num_block, extra.astype(compute_dtype),
                                    pair.astype(compute_dtype), batch["extra_msa_mask"].astype(compute_dtype),
                                    pair_mask.astype(compute_dtype), is_extra_msa=True)

        num_sequences = batch["msa_feat"].shape[0]
        msa_mask = batch["msa_mask"].astype(jnp.float32)                             # [N, L]
        if c.template.enabled and c.template.embed_torsion_angles:
            features, row_mask, _ = template_torsion_features({k: batch[k] for k in TEMPLATE_KEYS}, gc)
            msa = jnp.concatenate([msa, embed_template_rows(features, c.msa_channel)], axis=0)
            msa_mask = jnp.concatenate([msa_mask, row_mask.astype(msa_mask.dtype)], axis=0)

        msa, pair = _evoformer_blocks(c, gc, c.evoformer_num_block, msa.astype(compute_dtype), pair,
                                      msa_mask.astype(compute_dtype), pair_mask.astype(compute_dtype),
                                      is_extra_msa=False)
        msa, pair = msa.astype(jnp.float32), pair.astype(jnp.float32)
        single = Linear(c.seq_channel, name="single_activations")(msa[0])           # [L, c_s]
        return {"single": single, "pair": pair, "msa": msa[:num_sequences], "msa_first_row": msa[0]}


def flatten_outputs(tree: Mapping[str, Any], prefix: str = "") -> dict[str, jnp.ndarray]:
    """A nested output dict as ``{"<prefix>a/b/c": leaf}`` (AlphaFold's flat output names)."""
    flat = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_outputs(value, name + "/"))
        else:
            flat[name] = value
    return flat


class AlphaFoldIteration(hk.Module):
    """One pass: embeddings + Evoformer, structure module, heads. Flat AlphaFold output names."""

    def __init__(self, config: ModelConfig, global_config: GlobalConfig, name: str = "alphafold_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], prev: Mapping[str, jnp.ndarray]) -> dict[str, jnp.ndarray]:
        gc = self.global_config
        representations = EmbeddingsAndEvoformer(self.config.embeddings_and_evoformer, gc)(batch, prev)
        structure = StructureModule(self.config.structure_module, gc)(
            representations["single"], representations["pair"], batch)
        representations = dict(representations, **structure.pop("representations"))
        outputs = flatten_outputs(structure, "structure_module/")
        active = self.config.heads.active_heads()
        # pLDDT and PAE read the structure module's activations: run them last, as AlphaFold does
        for name in sorted(active, key=lambda n: n in ("predicted_lddt", "predicted_aligned_error")):
            head = HEAD_MODULES[name](getattr(self.config.heads, name), gc)
            outputs.update(head(representations, batch, False))
        outputs.update(self._bin_edges(active))
        outputs.update({f"representations/{k}": v for k, v in representations.items()})
        return outputs


    def _bin_edges(self, active: tuple[str, ...]) -> dict[str, jnp.ndarray]:
        """Head bin edges as exact float32 constants (``jnp.linspace`` under jit differs by 1 ulp)."""
        heads = self.config.heads
        edges = {}
        if "distogram" in active:
            d = heads.distogram
            edges["distogram/bin_edges"] = np.linspace(d.first_break, d.last_break, d.num_bins - 1)
        if "predicted_aligned_error" in active:
            p = heads.predicted_aligned_error
            edges["predicted_aligned_error/breaks"] = np.linspace(0.0, p.max_error_bin, p.num_bins - 1)
        return {k: jnp.asarray(v.astype(np.float32)) for k, v in edges.items()}


def initial_prev(num_res: int, config: EmbeddingsAndEvoformerConfig) -> dict[str, jnp.ndarray]:
    """Zero recycled inputs for the first iteration."""
    return {"prev_pos": jnp.zeros((num_res, NUM_ATOM37, 3), jnp.float32),
            "prev_msa_first_row": jnp.zeros((num_res, config.msa_channel), jnp.float32),
            "prev_pair": jnp.zeros((num_res, num_res, config.pair_channel), jnp.float32)}


def _next_prev(outputs: Mapping[str, jnp.ndarray]) -> dict[str, jnp.ndarray]:
    return {"prev_pos": outputs["structure_module/final_atom_positions"],
            "prev_msa_first_row": outputs["representations/msa_first_row"],
            "prev_pair": outputs["representations/pair"]}


class AlphaFold(hk.Module):
    """The recycling loop around :class:`AlphaFoldIteration` (Algorithm 2, monomer, no ensembling)."""

    def __init__(self, config: ModelConfig, global_config: GlobalConfig | None = None, name: str = "alphafold"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config or config.global_config

    def __call__(self, batch: Mapping[str, jnp.ndarray], return_recycles: bool = False) -> dict[str, jnp.ndarray]:
        """batch: processed features with leading axis B = num_recycle + 1 (or 1 without
        resampling). Returns the final iteration's outputs; with ``return_recycles`` also
        ``recycle{r}/<name>`` for r < num_recycle (what iteration r passes on)."""
        cfg = self.config
        batch_size, num_res = batch["aatype"].shape
        num_recycle = cfg.num_recycle
        if cfg.resample_msa_in_recycling and batch_size != num_recycle + 1:
            raise ValueError(f"features have {batch_size} batch slices; resampling the MSA for "
                             f"{num_recycle} recycles needs {num_recycle + 1}")
        iteration = AlphaFoldIteration(cfg, self.global_config)

        def batch_slice(index):
            if not cfg.resample_msa_in_recycling:
                index = 0
            return jax.tree.map(lambda x: jax.lax.dynamic_index_in_dim(x, index, 0, keepdims=False), dict(batch))

        prev = initial_prev(num_res, cfg.embeddings_and_evoformer)
        recycles = {}
        if num_recycle:
            def body(carry, index):
                outputs = iteration(batch_slice(index), carry)
                kept = {name: outputs[name] for name in RECYCLED_OUTPUTS} if return_recycles else None
                return jax.lax.stop_gradient(_next_prev(outputs)), kept

            if hk.running_init():
                prev, _ = body(prev, 0)   # create the parameters once
            else:
                prev, kept = hk.scan(body, prev, jnp.arange(num_recycle))
                if return_recycles:
                    recycles = {f"recycle{r}/{name}": value[r] for name, value in kept.items()
                                for r in range(num_recycle)}
        outputs = iteration(batch_slice(num_recycle), prev)
        outputs.update(recycles)
        return outputs


def forward_fn(config: ModelConfig, global_config: GlobalConfig | None = None, return_recycles: bool = False):
    """A haiku-transformed network: ``init(rng, batch)``, ``apply(params, None, batch)``."""
    def forward(batch):
        return AlphaFold(config, global_config)(batch, return_recycles=return_recycles)
    return hk.transform(forward)


def feature_shapes(config: AlphaFoldConfig, num_res: int = 8, num_msa: int = 4, num_extra: int = 4,
                   num_templates: int | None = None) -> dict[str, jax.ShapeDtypeStruct]:
    """Shapes/dtypes of the processed features the network reads (leading B axis)."""
    batch = config.model.num_recycle + 1 if config.model.resample_msa_in_recycling else 1
    t = num_templates if num_templates is not None else config.model.embeddings_and_evoformer.template.max_templates
    f32, i32 = jnp.float32, jnp.int32
    shapes = {
        "aatype": ((num_res,), i32), "residue_index": ((num_res,), i32), "seq_mask": ((num_res,), f32),
        "target_feat": ((num_res, 22), f32), "msa_feat": ((num_msa, num_res, 49), f32),
        "msa_mask": ((num_msa, num_res), f32), "extra_msa": ((num_extra, num_res), i32),
        "extra_msa_mask": ((num_extra, num_res), f32), "extra_has_deletion": ((num_extra, num_res), f32),
        "extra_deletion_value": ((num_extra, num_res), f32),
        "atom14_atom_exists": ((num_res, 14), f32), "atom37_atom_exists": ((num_res, 37), f32),
        "residx_atom14_to_atom37": ((num_res, 14), i32), "residx_atom37_to_atom14": ((num_res, 37), i32),
    }
    if config.uses_templates:
        shapes.update({
            "template_aatype": ((t, num_res), i32), "template_all_atom_positions": ((t, num_res, 37, 3), f32),
            "template_all_atom_masks": ((t, num_res, 37), f32), "template_pseudo_beta": ((t, num_res, 3), f32),
            "template_pseudo_beta_mask": ((t, num_res), f32), "template_mask": ((t,), f32)})
    return {k: jax.ShapeDtypeStruct((batch,) + shape, dtype) for k, (shape, dtype) in shapes.items()}


def param_spec_from_init(config: AlphaFoldConfig) -> ParamSpec:
    """Key -> shape of foldkit's own initialisation of ``config`` (``jax.eval_shape``: nothing allocated)."""
    from foldkit.model.params import nested_to_flat

    transformed = forward_fn(config.model)
    shapes = jax.eval_shape(transformed.init, jax.random.PRNGKey(0), feature_shapes(config))
    return spec_of(nested_to_flat(shapes))


def init_params(config: AlphaFoldConfig, seed: int = 0) -> dict[str, dict[str, np.ndarray]]:
    """Random parameters for ``config`` (haiku nested dict of numpy arrays)."""
    transformed = forward_fn(config.model)
    zeros = {k: jnp.zeros(s.shape, s.dtype) for k, s in feature_shapes(config).items()}
    params = transformed.init(jax.random.PRNGKey(seed), zeros)
    return jax.tree.map(np.asarray, hk.data_structures.to_mutable_dict(params))
