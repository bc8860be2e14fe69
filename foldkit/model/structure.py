"""Structure module (Jumper et al. 2021 supplement, Alg. 20-24), haiku.

Parameter names follow AlphaFold2's files: under ``structure_module/`` the
layer norms ``single_layer_norm`` and ``pair_layer_norm``, the Linear
``initial_projection`` and one shared ``fold_iteration`` (applied
``num_layer`` times) holding ``invariant_point_attention/{q_scalar,
kv_scalar, q_point_local, kv_point_local, attention_2d, output_projection}``
and ``trainable_point_weights``, ``attention_layer_norm``, the transition
Linears ``transition``, ``transition_1``, ``transition_2``,
``transition_layer_norm``, ``affine_update`` and ``rigid_sidechain/...``.

Frames are :class:`~foldkit.model.geometry.QuatRigid` (quaternion +
translation) in internal units; outputs in Å are multiplied by
``position_scale``.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import all_atom
from foldkit.model.chunking import chunked_apply
from foldkit.model.geometry import QuatRigid, Rigid
from foldkit.model.initial_frames import initial_frames
from foldkit.model.primitives import Linear, layer_norm
from foldkit.model.structure_config import SidechainConfig, StructureModuleConfig


class GlobalSettings(Protocol):
    """What the structure module reads of the global config."""

    zero_init: bool
    deterministic: bool


def _final_init(global_config: GlobalSettings) -> str:
    return "zeros" if global_config.zero_init else "linear"


def _dropout(x: jnp.ndarray, rate: float, is_training: bool, global_config: GlobalSettings) -> jnp.ndarray:
    if not is_training or global_config.deterministic or rate == 0.0:
        return x
    return hk.dropout(hk.next_rng_key(), rate, x)


def residual_transition(act: jnp.ndarray, config: Any, global_config: GlobalSettings,
                        is_training: bool) -> jnp.ndarray:
    """The fold iteration's transition: ``num_layer_in_transition`` Linear layers (ReLU between, all named
    ``transition``), residual, dropout and ``transition_layer_norm``; ``act`` [N, c] -> [N, c]."""
    residual = act
    for layer in range(config.num_layer_in_transition):
        last = layer == config.num_layer_in_transition - 1
        act = Linear(config.num_channel, initializer=_final_init(global_config) if last else "relu",
                     name="transition")(act)
        if not last:
            act = jax.nn.relu(act)
    act = _dropout(act + residual, config.dropout, is_training, global_config)
    return layer_norm("transition_layer_norm")(act)


def _l2_normalize(x: jnp.ndarray, axis: int = -1, epsilon: float = 1e-12) -> jnp.ndarray:
    return x / jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(x), axis=axis, keepdims=True), epsilon))


# --------------------------------------------------------------------------- invariant point attention


def _global_points(inputs_1d: jnp.ndarray, affine: QuatRigid, num_head: int, num_points: int,
                   name: str) -> jnp.ndarray:
    """Project to points in each residue's frame and map them to global: [N, H, P, 3].

    A plain function (not a method) so that the Linear is named directly
    under the calling module.
    """
    num_res = inputs_1d.shape[0]
    local = Linear(num_head * 3 * num_points, name=name)(inputs_1d)              # [N, 3*H*P] (x | y | z)
    local = jnp.moveaxis(local.reshape(num_res, 3, num_head, num_points), 1, -1)  # [N, H, P, 3]
    frames = affine.to_rigid().map(lambda x: x[:, None, None])
    return frames.apply(local)


class InvariantPointAttention(hk.Module):
    """Invariant point attention (Alg. 22): attention with scalar, point and pair terms.

    Call with inputs_1d [N, c_s], inputs_2d [N, N, c_z], mask [N, 1] and the
    residue frames ``affine`` (QuatRigid [N], internal units). Returns the
    update [N, num_channel] (the caller adds it to inputs_1d).
    """

    DIST_EPSILON = 1e-8

    def __init__(self, config: StructureModuleConfig, global_config: GlobalSettings,
                 name: str = "invariant_point_attention"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, inputs_1d: jnp.ndarray, inputs_2d: jnp.ndarray, mask: jnp.ndarray,
                 affine: QuatRigid) -> jnp.ndarray:
        c = self.config
        num_res, num_head = inputs_1d.shape[0], c.num_head
        n_qk, n_v = c.num_scalar_qk, c.num_scalar_v
        p_qk, p_v = c.num_point_qk, c.num_point_v

        q_scalar = Linear(num_head * n_qk, name="q_scalar")(inputs_1d).reshape(num_res, num_head, n_qk)
        kv_scalar = Linear(num_head * (n_v + n_qk), name="kv_scalar")(inputs_1d)
        kv_scalar = kv_scalar.reshape(num_res, num_head, n_v + n_qk)
        k_scalar, v_scalar = kv_scalar[..., :n_qk], kv_scalar[..., n_qk:]       # [N, H, C]

        q_point = _global_points(inputs_1d, affine, num_head, p_qk, "q_point_local")  # [N, H, Pqk, 3]
        kv_point = _global_points(inputs_1d, affine, num_head, p_qk + p_v,
                                  "kv_point_local")
        k_point, v_point = kv_point[:, :, :p_qk], kv_point[:, :, p_qk:]

        # Each of the three logit terms gets variance 1/3 (supplement 1.8.2).
        scalar_weight = np.sqrt(1.0 / (3 * max(n_qk, 1)))
        point_weight = np.sqrt(1.0 / (3 * max(p_qk, 1) * 9.0 / 2))
        pair_weight = np.sqrt(1.0 / 3)
        head_weights = jax.nn.softplus(hk.get_parameter(
            "trainable_point_weights", [num_head], inputs_1d.dtype,
            init=hk.initializers.Constant(np.log(np.exp(1.0) - 1.0))))          # [H]

        pair_logits = pair_weight * Linear(num_head, name="attention_2d")(inputs_2d)   # [N, N, H]

        def attend(q_scalar_rows, q_point_rows, pair_logits_rows, mask_rows, pair_rows):
            """Attention of a block of query residues (rows) over all residues."""
            logits = jnp.einsum("ihc,jhc->ijh", scalar_weight * q_scalar_rows, k_scalar)   # [n, N, H]
            dist2 = jnp.sum(jnp.square(q_point_rows[:, None] - k_point[None]), axis=-1)    # [n, N, H, P]
            logits = logits - 0.5 * jnp.sum(point_weight * head_weights[:, None] * dist2, axis=-1)
            logits = logits + pair_logits_rows
            mask_2d = mask_rows * jnp.swapaxes(mask, -1, -2)                         # [n, N]
            logits = logits - 1e5 * (1.0 - mask_2d)[..., None]
            attn = jax.nn.softmax(logits, axis=1)                                    # [n, N, H]
            return (jnp.einsum("ijh,jhc->ihc", attn, v_scalar),                     # [n, H, C]
                    jnp.einsum("ijh,jhpx->ihpx", attn, v_point),                    # [n, H, Pv, 3]
                    jnp.einsum("ijh,ijc->ihc", attn, pair_rows))                    # [n, H, c_z]

        chunk_size = getattr(self.global_config, "chunk_size", None)
        out_scalar, out_global, out_pair = chunked_apply(
            attend, (q_scalar, q_point, pair_logits, mask, inputs_2d), (0, 0, 0, 0, 0), chunk_size)
        frames = affine.to_rigid().map(lambda x: x[:, None, None])
        out_local = frames.apply_inverse(out_global)                            # [N, H, Pv, 3]
        out_norm = jnp.sqrt(self.DIST_EPSILON + jnp.sum(jnp.square(out_local), axis=-1))
        features = [out_scalar.reshape(num_res, -1)]
        features += [out_local[..., axis].reshape(num_res, -1) for axis in range(3)]
        features += [out_norm.reshape(num_res, -1), out_pair.reshape(num_res, -1)]
        final_act = jnp.concatenate(features, axis=-1)
        return Linear(c.num_channel, initializer=_final_init(self.global_config),
                      name="output_projection")(final_act)


# --------------------------------------------------------------------------- side chains


class MultiRigidSidechain(hk.Module):
    """Torsion angles from the single representation, then all atoms (Alg. 20 lines 11-14, Alg. 24).

    Returns ``angles_sin_cos`` and ``unnormalized_angles_sin_cos`` [N, 7, 2],
    ``frames`` ({rot [N, 8, 3, 3], trans [N, 8, 3]}) and ``atom_pos`` [N, 14, 3],
    in the units of the given frames (Å when scaled by position_scale).
    """

    def __init__(self, config: SidechainConfig, global_config: GlobalSettings, name: str = "rigid_sidechain"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, backbone: QuatRigid, representations: list[jnp.ndarray], aatype: jnp.ndarray) -> dict:
        c = self.config
        act = 0.0
        for rep in representations:
            act = act + Linear(c.num_channel, name="input_projection")(jax.nn.relu(rep))
        for _ in range(c.num_residual_block):
            hidden = Linear(c.num_channel, initializer="relu", name="resblock1")(jax.nn.relu(act))
            act = act + Linear(c.num_channel, initializer=_final_init(self.global_config),
                               name="resblock2")(jax.nn.relu(hidden))
        unnormalized = Linear(2 * all_atom.NUM_TORSIONS, name="unnormalized_angles")(jax.nn.relu(act))
        unnormalized = unnormalized.reshape(act.shape[0], all_atom.NUM_TORSIONS, 2)
        angles = _l2_normalize(unnormalized)
        frames = all_atom.torsion_angles_to_frames(aatype, backbone.to_rigid(), angles)
        atom_pos = all_atom.frames_and_literature_positions_to_atom14_pos(aatype, frames)
        return {"angles_sin_cos": angles, "unnormalized_angles_sin_cos": unnormalized,
                "atom_pos": atom_pos, "frames": {"rot": frames.rot, "trans": frames.trans}}


# --------------------------------------------------------------------------- fold iteration


class FoldIteration(hk.Module):
    """One block of the structure module (Alg. 20 lines 6-10 + side chains).

    ``act`` [N, c]; ``affine`` QuatRigid [N] (internal units); ``sequence_mask``
    [N, 1]; ``initial_act`` [N, c] (layer-normed single representation);
    ``pair_act`` [N, N, c_z] (layer-normed pair representation); aatype [N].
    Returns ``(new_act, new_affine, outputs)`` with outputs ``affine`` [N, 7]
    (internal units) and ``sc`` (see :class:`MultiRigidSidechain`, in Å).
    """

    def __init__(self, config: StructureModuleConfig, global_config: GlobalSettings, name: str = "fold_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, act: jnp.ndarray, affine: QuatRigid, sequence_mask: jnp.ndarray, *,
                 initial_act: jnp.ndarray, pair_act: jnp.ndarray, aatype: jnp.ndarray,
                 update_affine: bool = True, is_training: bool = False):
        c, gc = self.config, self.global_config
        attn = InvariantPointAttention(c, gc)(act, pair_act, sequence_mask, affine)
        act = _dropout(act + attn, c.dropout, is_training, gc)
        act = layer_norm("attention_layer_norm")(act)

        act = residual_transition(act, c, gc, is_training)

        if update_affine:
            update = Linear(6, initializer=_final_init(gc), name="affine_update")(act)
            affine = affine.pre_compose_update(update)
        sidechains = MultiRigidSidechain(c.sidechain, gc)(
            affine.scale_translation(c.position_scale), [act, initial_act], aatype)
        outputs = {"affine": affine.to_tensor(), "sc": sidechains}
        # Gradients do not flow through the rotations into the next iteration.
        next_affine = QuatRigid(jax.lax.stop_gradient(affine.quat), affine.trans)
        return act, next_affine, outputs


# --------------------------------------------------------------------------- structure module


class StructureModule(hk.Module):
    """Single + pair representations -> backbone frames, torsions and all atoms (Alg. 20).

    Call ``StructureModule(config, global_config)(single [N, c_s], pair [N, N, c_z], batch)``.
    ``batch`` needs ``seq_mask`` [N] and ``aatype`` [N]; ``atom14_atom_exists``,
    ``atom37_atom_exists`` and ``residx_atom37_to_atom14`` are derived from
    aatype when absent. Returns AlphaFold's output tree (flatten with '/' for
    the whole-model names; translations in Å):

    * ``representations``: {``structure_module``: [N, num_channel]} (final activations)
    * ``traj`` [num_layer, N, 7]: affine (w, x, y, z, tx, ty, tz) after each layer
    * ``final_affines`` [N, 7] (= traj[-1])
    * ``sidechains``: {``angles_sin_cos``, ``unnormalized_angles_sin_cos``
      [num_layer, N, 7, 2], ``atom_pos`` [num_layer, N, 14, 3],
      ``frames``: {``rot`` [num_layer, N, 8, 3, 3], ``trans`` [num_layer, N, 8, 3]}}
    * ``final_atom14_positions`` [N, 14, 3], ``final_atom14_mask`` [N, 14]
    * ``final_atom_positions`` [N, 37, 3], ``final_atom_mask`` [N, 37]
    """

    def __init__(self, config: StructureModuleConfig, global_config: GlobalSettings,
                 name: str = "structure_module"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, single: jnp.ndarray, pair: jnp.ndarray, batch: Mapping[str, Any],
                 is_training: bool = False) -> dict:
        c = self.config
        single = single.astype(jnp.float32)
        pair = pair.astype(jnp.float32)
        aatype = jnp.asarray(batch["aatype"])
        tables = dict(all_atom.atom14_atom37_tables(aatype))
        tables.update({k: batch[k] for k in tables if k in batch})
        sequence_mask = jnp.asarray(batch["seq_mask"], jnp.float32)[:, None]     # [N, 1]

        initial_act = layer_norm("single_layer_norm")(single)
        act = Linear(c.num_channel, name="initial_projection")(initial_act)
        pair_act = layer_norm("pair_layer_norm")(pair)
        fold_iteration = FoldIteration(c, self.global_config)
        affine = initial_frames(c.initial_frames, single.shape[0], batch.get("residue_index"),
                                c.position_scale)

        layer_outputs = []
        for _ in range(c.num_layer):
            act, affine, outputs = fold_iteration(act, affine, sequence_mask, initial_act=initial_act,
                                                  pair_act=pair_act, aatype=aatype, is_training=is_training)
            layer_outputs.append(outputs)
        stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *layer_outputs)

        scale = jnp.asarray([1.0] * 4 + [c.position_scale] * 3, jnp.float32)
        traj = stacked["affine"] * scale                                         # [layers, N, 7]
        atom14 = stacked["sc"]["atom_pos"][-1]                                  # [N, 14, 3]
        atom37 = all_atom.atom14_to_atom37(atom14, tables["residx_atom37_to_atom14"],
                                           tables["atom37_atom_exists"])         # [N, 37, 3]
        return {
            "representations": {"structure_module": act},
            "traj": traj,
            "final_affines": traj[-1],
            "sidechains": stacked["sc"],
            "final_atom14_positions": atom14,
            "final_atom14_mask": tables["atom14_atom_exists"],
            "final_atom_positions": atom37,
            "final_atom_mask": tables["atom37_atom_exists"],
        }


def structure_frames(outputs: Mapping[str, Any]) -> Rigid:
    """Final backbone frames (Å) of a StructureModule output as a Rigid [N]."""
    return QuatRigid.from_tensor(outputs["final_affines"]).to_rigid()
