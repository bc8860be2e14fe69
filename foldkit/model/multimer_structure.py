"""Structure module of AlphaFold-Multimer (Evans et al. 2021; Jumper et al. 2021, Alg. 20-24), haiku.

Entry point, called by the multimer network inside the ``alphafold_iteration``
scope so that its parameters sit at ``alphafold/alphafold_iteration/structure_module/...``::

    outputs = MultimerStructureModule(config, global_config)(single, pair, batch, is_training=False)

with ``config`` a :class:`~foldkit.model.multimer_structure_config.MultimerStructureConfig`,
``global_config`` any object with ``zero_init``, ``deterministic`` and
(optionally) ``chunk_size`` (e.g. :class:`~foldkit.model.global_config.GlobalConfig`),
``single`` [N, c_s], ``pair`` [N, N, c_z] and ``batch`` holding ``seq_mask``
[N] and ``aatype`` [N]. See :class:`MultimerStructureModule` for the outputs.

Parameter names are those of the official multimer v3 files: under
``structure_module/`` the layer norms ``single_layer_norm``,
``pair_layer_norm``, the Linear ``initial_projection`` and one shared
``fold_iteration`` (applied ``num_layer`` times, not stacked) with
``invariant_point_attention/{q,k,v}_scalar_projection`` (no bias),
``invariant_point_attention/{q,k,v}_point_projection/point_projection``,
``attention_2d``, ``output_projection``, ``trainable_point_weights``;
``attention_layer_norm``, ``transition``, ``transition_1``, ``transition_2``,
``transition_layer_norm``, ``quat_rigid/rigid`` and ``rigid_sidechain/...``.

What differs from the monomer module (:mod:`foldkit.model.structure`):
separate point projections for queries, keys and values, the backbone update
as a [c, 6] Linear read as the quaternion (1, x, y, z) plus a translation,
frames carried as rotation matrices (``[..., 3, 4]`` in the outputs),
``position_scale`` 20, and atom masks multiplied by ``seq_mask``.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from foldkit.model import multimer_all_atom
from foldkit.model.chunking import chunked_apply
from foldkit.model.geometry import Rigid
from foldkit.model.multimer_geometry import (
    rigid_from_array,
    rigid_to_array,
    rot_from_quaternion,
    scale_translation,
)
from foldkit.model.multimer_structure_config import MultimerSidechainConfig, MultimerStructureConfig
from foldkit.model.primitives import Linear, layer_norm
from foldkit.model.structure import MultiRigidSidechain, _dropout, _final_init, residual_transition

POINT_NORM_EPSILON = 1e-8     # floor (squared: 1e-16) of the norms of the attended points
MASK_LOGIT = 1e5              # masked residue pairs get logit - 1e5 (before the 1/sqrt(3) factor)


def _identity_rigid(num_res: int) -> Rigid:
    return Rigid(jnp.broadcast_to(jnp.eye(3, dtype=jnp.float32), (num_res, 3, 3)),
                 jnp.zeros((num_res, 3), jnp.float32))


# --------------------------------------------------------------------------- invariant point attention


class PointProjection(hk.Module):
    """Points in each residue's local frame, mapped to global coordinates.

    A Linear ``point_projection`` [c, H, 3P] (bias [H, 3P]) whose last axis
    holds the x, y and z coordinates as consecutive thirds. Returns [N, H, P, 3].
    """

    def __init__(self, num_head: int, num_points: int, name: str):
        super().__init__(name=name)
        self.num_head = num_head
        self.num_points = num_points

    def __call__(self, inputs_1d: jnp.ndarray, rigid: Rigid) -> jnp.ndarray:
        coords = Linear((self.num_head, 3 * self.num_points), precision=jax.lax.Precision.HIGHEST,
                        name="point_projection")(inputs_1d)                         # [N, H, 3P]
        local = jnp.stack(jnp.split(coords, 3, axis=-1), axis=-1)                  # [N, H, P, 3]
        return rigid.map(lambda x: x[:, None, None]).apply(local)


class MultimerInvariantPointAttention(hk.Module):
    """Invariant point attention of the multimer model (Alg. 22 with multimer projections).

    Call with inputs_1d [N, c], inputs_2d [N, N, c_z], mask [N, 1] and the
    residue frames ``rigid`` (Rigid [N], internal units). Returns the update
    [N, num_channel] (the caller adds it to inputs_1d). The logits are
    ``(-0.5 Σ_p w_h |q_p - k_p|² + q·k / sqrt(C_qk) + b_h - 1e5 (1 - m_i m_j)) / sqrt(3)``
    with ``w_h = softplus(trainable_point_weights_h) / sqrt(4.5 P_qk)``.
    """

    def __init__(self, config: MultimerStructureConfig, global_config: Any,
                 name: str = "invariant_point_attention"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, inputs_1d: jnp.ndarray, inputs_2d: jnp.ndarray, mask: jnp.ndarray,
                 rigid: Rigid) -> jnp.ndarray:
        c = self.config
        num_res, num_head = inputs_1d.shape[0], c.num_head

        def scalar_projection(channels: int, name: str) -> jnp.ndarray:                  # [N, H, C]
            return Linear((num_head, channels), use_bias=False, name=name)(inputs_1d)

        q_point = PointProjection(num_head, c.num_point_qk, "q_point_projection")(inputs_1d, rigid)
        k_point = PointProjection(num_head, c.num_point_qk, "k_point_projection")(inputs_1d, rigid)
        head_weights = jax.nn.softplus(hk.get_parameter(
            "trainable_point_weights", [num_head], inputs_1d.dtype,
            init=hk.initializers.Constant(np.log(np.exp(1.0) - 1.0))))                # [H]
        point_weights = head_weights * np.sqrt(1.0 / (max(c.num_point_qk, 1) * 9.0 / 2))
        q_scalar = scalar_projection(c.num_scalar_qk, "q_scalar_projection") * np.sqrt(
            1.0 / max(c.num_scalar_qk, 1))
        k_scalar = scalar_projection(c.num_scalar_qk, "k_scalar_projection")
        pair_logits = Linear(num_head, name="attention_2d")(inputs_2d)                 # [N, N, H]
        v_scalar = scalar_projection(c.num_scalar_v, "v_scalar_projection")            # [N, H, Cv]
        v_point = PointProjection(num_head, c.num_point_v, "v_point_projection")(inputs_1d, rigid)

        def attend(q_scalar_rows, q_point_rows, pair_logits_rows, mask_rows, pair_rows):
            """Attention of a block of query residues (rows) over all residues."""
            dist2 = jnp.sum(jnp.square(q_point_rows[:, None] - k_point[None]), axis=-1)   # [n, N, H, P]
            logits = -0.5 * jnp.sum(point_weights[:, None] * dist2, axis=-1)             # [n, N, H]
            logits = logits + jnp.einsum("ihc,jhc->ijh", q_scalar_rows, k_scalar)
            logits = logits + pair_logits_rows
            mask_2d = mask_rows * jnp.swapaxes(mask, -1, -2)                            # [n, N]
            logits = (logits - MASK_LOGIT * (1.0 - mask_2d)[..., None]) * np.sqrt(1.0 / 3)
            attn = jax.nn.softmax(logits, axis=1)                                       # [n, N, H]
            return (jnp.einsum("ijh,jhc->ihc", attn, v_scalar),                        # [n, H, Cv]
                    jnp.einsum("ijh,jhpx->ihpx", attn, v_point),                       # [n, H, Pv, 3]
                    jnp.einsum("ijh,ijc->ihc", attn, pair_rows))                       # [n, H, c_z]

        chunk_size = getattr(self.global_config, "chunk_size", None)
        out_scalar, out_global, out_pair = chunked_apply(
            attend, (q_scalar, q_point, pair_logits, mask, inputs_2d), (0, 0, 0, 0, 0), chunk_size)
        out_local = rigid.map(lambda x: x[:, None, None]).apply_inverse(out_global)   # [N, H, Pv, 3]
        out_norm = jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(out_local), axis=-1),
                                        POINT_NORM_EPSILON ** 2))                     # [N, H, Pv]
        features = [out_scalar.reshape(num_res, -1)]
        features += [out_local[..., axis].reshape(num_res, -1) for axis in range(3)]
        features += [out_norm.reshape(num_res, -1), out_pair.reshape(num_res, -1)]
        return Linear(c.num_channel, initializer=_final_init(self.global_config),
                      name="output_projection")(jnp.concatenate(features, axis=-1))


# --------------------------------------------------------------------------- backbone update, side chains


class QuatRigidUpdate(hk.Module):
    """Backbone update (Alg. 23): Linear ``rigid`` [c, 6] -> (qx, qy, qz, tx, ty, tz).

    The rotation is the quaternion (1, qx, qy, qz) normalised; the
    translation is in the residue's local frame (applied as ``frame ∘ update``).
    """

    def __init__(self, global_config: Any, name: str = "quat_rigid"):
        super().__init__(name=name)
        self.global_config = global_config

    def __call__(self, act: jnp.ndarray) -> Rigid:
        update = Linear(6, initializer=_final_init(self.global_config), precision=jax.lax.Precision.HIGHEST,
                        name="rigid")(act)                                           # [N, 6]
        qx, qy, qz = update[..., 0], update[..., 1], update[..., 2]
        return Rigid(rot_from_quaternion(jnp.ones_like(qx), qx, qy, qz), update[..., 3:])


class _Backbone(NamedTuple):
    """Adapter: the shared side-chain module reads its backbone frames through ``to_rigid()``."""

    rigid: Rigid

    def to_rigid(self) -> Rigid:
        return self.rigid


def multi_rigid_sidechain(config: MultimerSidechainConfig, global_config: Any, rigid: Rigid,
                          representations: list[jnp.ndarray], aatype: jnp.ndarray) -> dict:
    """Torsion angles and all atoms from backbone frames in Å (module ``rigid_sidechain``).

    The same torsion ResNet and Alg. 24 geometry as the monomer model
    (:class:`foldkit.model.structure.MultiRigidSidechain`, same parameter
    names). Returns ``angles_sin_cos``, ``unnormalized_angles_sin_cos``
    [N, 7, 2], ``atom_pos`` [N, 14, 3] and ``frames`` [N, 8, 3, 4] (Å).
    Call inside a haiku transform.
    """
    out = MultiRigidSidechain(config, global_config)(_Backbone(rigid), representations, aatype)
    frames = Rigid(out["frames"]["rot"], out["frames"]["trans"])
    return dict(out, frames=rigid_to_array(frames))


# --------------------------------------------------------------------------- fold iteration


class MultimerFoldIteration(hk.Module):
    """One block of the multimer structure module: IPA, transition, backbone update, side chains.

    ``act`` [N, c]; ``rigid`` Rigid [N] (internal units); ``sequence_mask``
    [N, 1]; ``initial_act`` [N, c_s] (layer-normed single representation);
    ``pair_act`` [N, N, c_z] (layer-normed pair representation); aatype [N].
    Returns ``(new_act, new_rigid, outputs)``: outputs ``rigid`` (Rigid [N],
    internal units) and ``sc`` (side chains in Å, see :func:`multi_rigid_sidechain`).
    """

    def __init__(self, config: MultimerStructureConfig, global_config: Any, name: str = "fold_iteration"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, act: jnp.ndarray, rigid: Rigid, sequence_mask: jnp.ndarray, *,
                 initial_act: jnp.ndarray, pair_act: jnp.ndarray, aatype: jnp.ndarray,
                 update_rigid: bool = True, is_training: bool = False):
        c, gc = self.config, self.global_config
        act = act + MultimerInvariantPointAttention(c, gc)(act, pair_act, sequence_mask, rigid)
        act = _dropout(act, c.dropout, is_training, gc)
        act = layer_norm("attention_layer_norm")(act)

        act = residual_transition(act, c, gc, is_training)

        if update_rigid:
            rigid = rigid.compose(QuatRigidUpdate(gc)(act))
        sidechains = multi_rigid_sidechain(c.sidechain, gc, scale_translation(rigid, c.position_scale),
                                           [act, initial_act], aatype)
        outputs = {"rigid": rigid, "sc": sidechains}
        # Gradients do not flow through the rotations into the next iteration.
        next_rigid = Rigid(jax.lax.stop_gradient(rigid.rot), rigid.trans)
        return act, next_rigid, outputs


# --------------------------------------------------------------------------- structure module


class MultimerStructureModule(hk.Module):
    """Single + pair representations -> backbone frames, torsions and all atoms (multimer).

    Call ``MultimerStructureModule(config, global_config)(single [N, c_s], pair [N, N, c_z], batch)``
    with ``batch["seq_mask"]`` [N] and ``batch["aatype"]`` [N]. Returns (the
    multimer reference's ``compute_loss=True`` outputs; translations in Å):

    * ``representations``: {``structure_module``: [N, num_channel]} (the last
      fold iteration's activations: AlphaFold's ``act``, read by the pLDDT head)
    * ``traj`` [num_layer, N, 3, 4]: frames ``[R | t]`` after each layer
    * ``final_rigids`` [N, 3, 4] (= traj[-1])
    * ``sidechains``: {``angles_sin_cos``, ``unnormalized_angles_sin_cos``
      [num_layer, N, 7, 2], ``atom_pos`` [num_layer, N, 14, 3], ``frames``
      [num_layer, N, 8, 3, 4]}
    * ``final_atom14_positions`` [N, 14, 3], ``final_atom14_mask`` [N, 14]
    * ``final_atom_positions`` [N, 37, 3], ``final_atom_mask`` [N, 37]

    The atom masks are the residue type's atoms times ``seq_mask``;
    ``final_atom_positions`` is zero where its mask is 0.
    """

    def __init__(self, config: MultimerStructureConfig, global_config: Any, name: str = "structure_module"):
        super().__init__(name=name)
        self.config = config
        self.global_config = global_config

    def __call__(self, single: jnp.ndarray, pair: jnp.ndarray, batch: Mapping[str, Any],
                 is_training: bool = False) -> dict:
        c = self.config
        single = jnp.asarray(single, jnp.float32)
        pair = jnp.asarray(pair, jnp.float32)
        aatype = jnp.asarray(batch["aatype"], jnp.int32)
        seq_mask = jnp.asarray(batch["seq_mask"], jnp.float32)                      # [N]

        initial_act = layer_norm("single_layer_norm")(single)
        act = Linear(c.num_channel, name="initial_projection")(initial_act)
        pair_act = layer_norm("pair_layer_norm")(pair)
        fold_iteration = MultimerFoldIteration(c, self.global_config)
        rigid = _identity_rigid(single.shape[0])

        layer_outputs = []
        for _ in range(c.num_layer):
            act, rigid, outputs = fold_iteration(act, rigid, seq_mask[:, None], initial_act=initial_act,
                                                 pair_act=pair_act, aatype=aatype, is_training=is_training)
            layer_outputs.append({"traj": rigid_to_array(scale_translation(outputs["rigid"], c.position_scale)),
                                  "sc": outputs["sc"]})
        stacked = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *layer_outputs)

        atom14_mask = multimer_all_atom.atom14_mask(aatype) * seq_mask[:, None]      # [N, 14]
        atom37_mask = multimer_all_atom.atom37_mask(aatype) * seq_mask[:, None]      # [N, 37]
        atom14 = stacked["sc"]["atom_pos"][-1]                                       # [N, 14, 3]
        atom37 = multimer_all_atom.atom14_to_atom37(atom14, aatype) * atom37_mask[..., None]
        return {
            "representations": {"structure_module": act},
            "traj": stacked["traj"],
            "final_rigids": stacked["traj"][-1],
            "sidechains": stacked["sc"],
            "final_atom14_positions": atom14,
            "final_atom14_mask": atom14_mask,
            "final_atom_positions": atom37,
            "final_atom_mask": atom37_mask,
        }


def final_frames(outputs: Mapping[str, Any]) -> Rigid:
    """Final backbone frames (Å) of a MultimerStructureModule output as a Rigid [N]."""
    return rigid_from_array(outputs["final_rigids"])
