"""Rigid transforms in 3D: rotations, quaternions and frames (jnp arrays).

Conventions (those of AlphaFold2's outputs):

* a rotation is a matrix ``rot[..., i, j]`` (row i, column j, x/y/z order)
  acting on column vectors: ``rot @ p``;
* a rigid transform (frame) ``Rigid(rot, trans)`` maps local points to
  global ones: ``x_global = rot @ x_local + trans``;
* a quaternion is ``(w, x, y, z)`` with the scalar part first;
* a 7-number affine is ``[w, x, y, z, tx, ty, tz]`` (the quaternion, then the
  translation).

``QuatRigid`` is a frame stored as quaternion + translation, used by the
structure module for the backbone update of Jumper et al. 2021, Alg. 23
(the quaternion is renormalised after every update, as AlphaFold's
``QuatAffine`` does).

Products of small matrices are written as explicit sums of elementwise
products, so results do not depend on a backend's matmul precision.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp

# --------------------------------------------------------------------------- rotations


def rot_apply(rot: jnp.ndarray, vec: jnp.ndarray) -> jnp.ndarray:
    """``rot @ vec``: rot [..., 3, 3], vec [..., 3] -> [..., 3]."""
    return (rot[..., :, 0] * vec[..., None, 0] + rot[..., :, 1] * vec[..., None, 1]
            + rot[..., :, 2] * vec[..., None, 2])


def rot_apply_inverse(rot: jnp.ndarray, vec: jnp.ndarray) -> jnp.ndarray:
    """``rot^T @ vec`` (inverse of a rotation matrix applied to vec) -> [..., 3]."""
    return (rot[..., 0, :] * vec[..., None, 0] + rot[..., 1, :] * vec[..., None, 1]
            + rot[..., 2, :] * vec[..., None, 2])


def rot_compose(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """Matrix product ``a @ b`` of rotations [..., 3, 3]."""
    return (a[..., :, 0, None] * b[..., None, 0, :] + a[..., :, 1, None] * b[..., None, 1, :]
            + a[..., :, 2, None] * b[..., None, 2, :])


def rot_transpose(rot: jnp.ndarray) -> jnp.ndarray:
    """Inverse of a rotation matrix [..., 3, 3]."""
    return jnp.swapaxes(rot, -1, -2)


def rot_about_x(sin: jnp.ndarray, cos: jnp.ndarray) -> jnp.ndarray:
    """Rotation about the x axis by the angle with the given sine/cosine -> [..., 3, 3]."""
    zeros = jnp.zeros_like(sin)
    ones = jnp.ones_like(sin)
    rows = [jnp.stack([ones, zeros, zeros], axis=-1),
            jnp.stack([zeros, cos, -sin], axis=-1),
            jnp.stack([zeros, sin, cos], axis=-1)]
    return jnp.stack(rows, axis=-2)


# --------------------------------------------------------------------------- quaternions


def quat_to_rot(quat: jnp.ndarray) -> jnp.ndarray:
    """Rotation matrix [..., 3, 3] of a quaternion (w, x, y, z) [..., 4].

    Uses the homogeneous form (diagonal ``w²+x²-y²-z²`` ...), which equals the
    rotation of ``quat / |quat|`` scaled by ``|quat|²``; pass unit quaternions.
    """
    w, x, y, z = (quat[..., i] for i in range(4))
    ww, xx, yy, zz = w * w, x * x, y * y, z * z
    wx, wy, wz = w * x, w * y, w * z
    xy, xz, yz = x * y, x * z, y * z
    rows = [
        jnp.stack([ww + xx - yy - zz, 2 * (xy - wz), 2 * (xz + wy)], axis=-1),
        jnp.stack([2 * (xy + wz), ww - xx + yy - zz, 2 * (yz - wx)], axis=-1),
        jnp.stack([2 * (xz - wy), 2 * (yz + wx), ww - xx - yy + zz], axis=-1),
    ]
    return jnp.stack(rows, axis=-2)


def rot_to_quat(rot: jnp.ndarray) -> jnp.ndarray:
    """Unit quaternion (w, x, y, z) [..., 4] of a rotation matrix [..., 3, 3], with w >= 0.

    Picks, per matrix, the largest of 4w², 4x², 4y², 4z² (from the trace and
    the diagonal) as the pivot, so that no division by a small number occurs.
    """
    r = rot
    trace = r[..., 0, 0] + r[..., 1, 1] + r[..., 2, 2]
    # Four candidate (unnormalised) quaternions, each exact up to scale.
    cand_w = jnp.stack([1 + trace, r[..., 2, 1] - r[..., 1, 2],
                        r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]], axis=-1)
    cand_x = jnp.stack([r[..., 2, 1] - r[..., 1, 2], 1 + r[..., 0, 0] - r[..., 1, 1] - r[..., 2, 2],
                        r[..., 0, 1] + r[..., 1, 0], r[..., 0, 2] + r[..., 2, 0]], axis=-1)
    cand_y = jnp.stack([r[..., 0, 2] - r[..., 2, 0], r[..., 0, 1] + r[..., 1, 0],
                        1 - r[..., 0, 0] + r[..., 1, 1] - r[..., 2, 2], r[..., 1, 2] + r[..., 2, 1]], axis=-1)
    cand_z = jnp.stack([r[..., 1, 0] - r[..., 0, 1], r[..., 0, 2] + r[..., 2, 0],
                        r[..., 1, 2] + r[..., 2, 1], 1 - r[..., 0, 0] - r[..., 1, 1] + r[..., 2, 2]], axis=-1)
    candidates = jnp.stack([cand_w, cand_x, cand_y, cand_z], axis=-2)          # [..., 4, 4]
    pivots = jnp.stack([cand_w[..., 0], cand_x[..., 1], cand_y[..., 2], cand_z[..., 3]], axis=-1)
    best = jnp.argmax(pivots, axis=-1)                                          # [...]
    quat = jnp.take_along_axis(candidates, best[..., None, None], axis=-2)[..., 0, :]
    quat = quat / jnp.linalg.norm(quat, axis=-1, keepdims=True)
    return jnp.where(quat[..., :1] < 0, -quat, quat)


def quat_multiply(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """Hamilton product ``a ⊗ b`` of quaternions (w, x, y, z) [..., 4]."""
    aw, ax, ay, az = (a[..., i] for i in range(4))
    bw, bx, by, bz = (b[..., i] for i in range(4))
    return jnp.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], axis=-1)


def quat_multiply_by_vec(quat: jnp.ndarray, vec: jnp.ndarray) -> jnp.ndarray:
    """``quat ⊗ (0, vec)``: quaternion [..., 4] times a pure quaternion vec [..., 3]."""
    w, x, y, z = (quat[..., i] for i in range(4))
    b, c, d = (vec[..., i] for i in range(3))
    return jnp.stack([
        -x * b - y * c - z * d,
        w * b + y * d - z * c,
        w * c - x * d + z * b,
        w * d + x * c - y * b,
    ], axis=-1)


# --------------------------------------------------------------------------- rigid transforms


class Rigid(NamedTuple):
    """A frame: rotation [..., 3, 3] and translation [..., 3] (a jax pytree)."""

    rot: jnp.ndarray
    trans: jnp.ndarray

    def apply(self, points: jnp.ndarray) -> jnp.ndarray:
        """Local -> global: ``rot @ p + trans`` (points [..., 3] broadcast with the frame)."""
        return rot_apply(self.rot, points) + self.trans

    def apply_inverse(self, points: jnp.ndarray) -> jnp.ndarray:
        """Global -> local: ``rot^T @ (p - trans)``."""
        return rot_apply_inverse(self.rot, points - self.trans)

    def invert(self) -> "Rigid":
        inv_rot = rot_transpose(self.rot)
        return Rigid(inv_rot, -rot_apply(inv_rot, self.trans))

    def compose(self, other: "Rigid") -> "Rigid":
        """``self ∘ other``: apply ``other`` first, then ``self``."""
        return Rigid(rot_compose(self.rot, other.rot), self.apply(other.trans))

    def compose_rot(self, rot: jnp.ndarray) -> "Rigid":
        """``self ∘ (rot, 0)``: rotate in the local frame, keep the origin."""
        return Rigid(rot_compose(self.rot, rot), self.trans)

    def map(self, fn) -> "Rigid":
        """Apply ``fn`` to the leading (batch) axes of both arrays, e.g. indexing."""
        return Rigid(fn(self.rot), fn(self.trans))

    @staticmethod
    def identity(shape: tuple[int, ...], dtype=jnp.float32) -> "Rigid":
        return Rigid(jnp.broadcast_to(jnp.eye(3, dtype=dtype), shape + (3, 3)),
                     jnp.zeros(shape + (3,), dtype))

    @staticmethod
    def from_tensor4x4(m: jnp.ndarray) -> "Rigid":
        """Homogeneous transform [..., 4, 4] -> Rigid."""
        return Rigid(m[..., :3, :3], m[..., :3, 3])


def robust_normalize(vec: jnp.ndarray, epsilon: float = 1e-8) -> jnp.ndarray:
    """``vec / sqrt(|vec|² + epsilon)`` along the last axis."""
    return vec / jnp.sqrt(jnp.sum(jnp.square(vec), axis=-1, keepdims=True) + epsilon)


def rigid_from_three_points(point_on_neg_x_axis: jnp.ndarray, origin: jnp.ndarray,
                            point_on_xy_plane: jnp.ndarray, epsilon: float = 1e-8) -> Rigid:
    """Frame by Gram-Schmidt (Jumper et al. 2021, Alg. 21), points [..., 3].

    x axis along ``origin - point_on_neg_x_axis``; the y axis is the part of
    ``point_on_xy_plane - origin`` orthogonal to x; z = x × y.
    """
    e0 = robust_normalize(origin - point_on_neg_x_axis, epsilon)
    v1 = point_on_xy_plane - origin
    e1 = robust_normalize(v1 - jnp.sum(v1 * e0, axis=-1, keepdims=True) * e0, epsilon)
    e2 = jnp.cross(e0, e1)
    return Rigid(jnp.stack([e0, e1, e2], axis=-1), origin)   # columns are the axes


# --------------------------------------------------------------------------- quaternion frames


class QuatRigid(NamedTuple):
    """Frame as quaternion (w, x, y, z) [..., 4] + translation [..., 3]; ``rot`` derives from it."""

    quat: jnp.ndarray
    trans: jnp.ndarray

    @property
    def rot(self) -> jnp.ndarray:
        return quat_to_rot(self.quat)

    @staticmethod
    def identity(shape: tuple[int, ...], dtype=jnp.float32) -> "QuatRigid":
        quat = jnp.zeros(shape + (4,), dtype).at[..., 0].set(1.0)
        return QuatRigid(quat, jnp.zeros(shape + (3,), dtype))

    @staticmethod
    def from_tensor(affine: jnp.ndarray, normalize: bool = False) -> "QuatRigid":
        """From a 7-number affine [..., 7] = (w, x, y, z, tx, ty, tz)."""
        quat = affine[..., :4]
        if normalize:
            quat = quat / jnp.linalg.norm(quat, axis=-1, keepdims=True)
        return QuatRigid(quat, affine[..., 4:])

    def to_tensor(self) -> jnp.ndarray:
        """7-number affine [..., 7]."""
        return jnp.concatenate([self.quat, self.trans], axis=-1)

    def to_rigid(self) -> Rigid:
        return Rigid(self.rot, self.trans)

    def scale_translation(self, factor: float) -> "QuatRigid":
        return QuatRigid(self.quat, self.trans * factor)

    def apply(self, points: jnp.ndarray) -> jnp.ndarray:
        return self.to_rigid().apply(points)

    def apply_inverse(self, points: jnp.ndarray) -> jnp.ndarray:
        return self.to_rigid().apply_inverse(points)

    def pre_compose_update(self, update: jnp.ndarray) -> "QuatRigid":
        """Backbone update (Alg. 23): compose with a local update [..., 6].

        ``update = (b, c, d, tx, ty, tz)``: the rotation is the quaternion
        (1, b, c, d) (normalised), the translation is in the local frame. The
        result is ``self ∘ update`` with its quaternion renormalised.
        """
        vec, local_trans = update[..., :3], update[..., 3:]
        quat = self.quat + quat_multiply_by_vec(self.quat, vec)   # = quat ⊗ (1, b, c, d)
        trans = self.trans + rot_apply(self.rot, local_trans)
        quat = quat / jnp.linalg.norm(quat, axis=-1, keepdims=True)
        return QuatRigid(quat, trans)
