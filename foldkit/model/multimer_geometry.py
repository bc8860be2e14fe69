"""Frame arithmetic of the AlphaFold-Multimer structure module (jnp, plain functions).

The multimer model states every frame as a rotation matrix plus translation
(no quaternions are carried between layers). foldkit reuses the monomer
:class:`~foldkit.model.geometry.Rigid` (``rot [..., 3, 3]``, ``trans [..., 3]``,
``x_global = rot @ x_local + trans``; compose, apply, apply_inverse, invert)
and adds here what the multimer model needs on top:

* the ``[..., 3, 4]`` array form ``[R | t]`` of the multimer outputs
  (``rigid_to_array`` / ``rigid_from_array``);
* the backbone update rotation from a non-unit quaternion ``(1, x, y, z)``
  (``rot_from_quaternion``);
* the frame of three points with x along ``c - b`` and ``a`` in the xy plane
  (``rot_from_two_vectors``, ``rigid_from_reference_points``);
* vector norms clamped from below (``norm``, ``normalize``) and the dihedral
  angle of four points (``dihedral_angle``).

Norm clamping follows the multimer convention: ``sqrt(max(|v|^2, eps^2))``,
so a zero vector normalises to exactly zero.
"""

from __future__ import annotations

import jax.numpy as jnp

from foldkit.model.geometry import Rigid

VECTOR_EPSILON = 1e-6          # default floor of vector norms
QUATERNION_EPSILON = 1e-6      # floor of the squared quaternion norm


def rigid_to_array(rigid: Rigid) -> jnp.ndarray:
    """``[R | t]`` [..., 3, 4] (row i of R, then t_i, in column 3)."""
    return jnp.concatenate([rigid.rot, rigid.trans[..., None]], axis=-1)


def rigid_from_array(array: jnp.ndarray) -> Rigid:
    """Inverse of :func:`rigid_to_array`: [..., 3, 4] -> Rigid."""
    array = jnp.asarray(array)
    return Rigid(array[..., :3], array[..., 3])


def scale_translation(rigid: Rigid, factor: float) -> Rigid:
    """The same rotation with the translation multiplied by ``factor`` (unit change)."""
    return Rigid(rigid.rot, rigid.trans * factor)


def norm(vec: jnp.ndarray, epsilon: float = VECTOR_EPSILON) -> jnp.ndarray:
    """``sqrt(max(|vec|^2, epsilon^2))`` over the last axis [..., 3] -> [...]."""
    squared = jnp.sum(jnp.square(vec), axis=-1)
    if epsilon:
        squared = jnp.maximum(squared, epsilon * epsilon)
    return jnp.sqrt(squared)


def normalize(vec: jnp.ndarray, epsilon: float = VECTOR_EPSILON) -> jnp.ndarray:
    """``vec / norm(vec)`` [..., 3]; a zero vector stays zero."""
    return vec / norm(vec, epsilon)[..., None]


def rot_from_quaternion(w: jnp.ndarray, x: jnp.ndarray, y: jnp.ndarray, z: jnp.ndarray,
                        epsilon: float = QUATERNION_EPSILON) -> jnp.ndarray:
    """Rotation matrix [..., 3, 3] of the quaternion (w, x, y, z) after normalising it.

    The squared norm is floored at ``epsilon``; the matrix is the unit
    quaternion's ``1 - 2(y² + z²)``, ``2(xy - wz)`` ... form.
    """
    scale = 1.0 / jnp.sqrt(jnp.maximum(epsilon, w * w + x * x + y * y + z * z))
    w, x, y, z = w * scale, x * scale, y * scale, z * scale
    rows = [
        jnp.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], axis=-1),
        jnp.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], axis=-1),
        jnp.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], axis=-1),
    ]
    return jnp.stack(rows, axis=-2)


def rot_from_two_vectors(x_direction: jnp.ndarray, xy_plane: jnp.ndarray) -> jnp.ndarray:
    """Rotation [..., 3, 3] whose columns are the axes of a Gram-Schmidt frame.

    Column 0 (x) is ``x_direction`` normalised; column 1 (y) is the part of
    ``xy_plane`` orthogonal to x, normalised (so ``xy_plane`` has y > 0);
    column 2 is x × y. Zero inputs give zero columns.
    """
    e0 = normalize(x_direction)
    along = jnp.sum(xy_plane * e0, axis=-1, keepdims=True)
    e1 = normalize(xy_plane - along * e0)
    e2 = jnp.cross(e0, e1)
    return jnp.stack([e0, e1, e2], axis=-1)


def rigid_from_reference_points(a: jnp.ndarray, b: jnp.ndarray, c: jnp.ndarray) -> Rigid:
    """Frame with origin ``b``, x axis along ``c - b`` and ``a`` in the xy plane (points [..., 3]).

    For a backbone: ``a`` = N, ``b`` = CA, ``c`` = C.
    """
    return Rigid(rot_from_two_vectors(c - b, a - b), b)


def dihedral_angle(a: jnp.ndarray, b: jnp.ndarray, c: jnp.ndarray, d: jnp.ndarray) -> jnp.ndarray:
    """Torsion angle (radians, in [-pi, pi]) of the points a-b-c-d [..., 3] -> [...].

    The angle between the planes (a, b, c) and (b, c, d), signed by the
    right-hand rule about the axis b -> c, computed as atan2 of the two
    projections of the plane normals (no arccos).
    """
    ab, bc, dc = a - b, b - c, d - c
    normal_abc = jnp.cross(ab, bc)
    normal_bcd = jnp.cross(dc, bc)
    perpendicular = jnp.cross(normal_bcd, normal_abc)
    sine_term = jnp.sum(perpendicular * bc, axis=-1)
    cosine_term = norm(bc) * jnp.sum(normal_abc * normal_bcd, axis=-1)
    return jnp.arctan2(sine_term, cosine_term)
