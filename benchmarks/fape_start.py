"""How far backbone FAPE alone gets from AlphaFold's initial structure, clamped vs unclamped.

    python benchmarks/fape_start.py [--data ../shared/train] [--chain-index 0] [--steps 500]

Takes one validation chain (≤ 60 residues), starts every backbone frame at the
origin with (almost) the identity rotation, as the structure module does, and
fits the frames themselves (a quaternion and a translation per residue, Adam)
to the true structure with the FAPE loss, once clamped at 10 Å and once
unclamped. No network is involved, so the numbers describe the loss, not a
model: with clamping the fit stalls far from the structure (almost every
frame/atom pair starts beyond the clamp and gives no gradient), without it the
fit converges. foldkit's training config therefore has
``loss.fape_unclamped_steps`` (see foldkit/params/MINI.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import optax

from foldkit.train.data import Chain, load_chains
from foldkit.train.ground_truth import ground_truth
from foldkit.train.losses import backbone_fape


def chain_truth(chain: Chain) -> dict:
    """Ground truth (backbone frames and their mask among it) of a whole training chain."""
    positions, mask = chain.atom37()
    return ground_truth(jnp.asarray(chain.aatype, jnp.int32), jnp.asarray(positions), jnp.asarray(mask, jnp.float32),
                        jnp.float32(chain.full_atom))


def fit_frames(truth: dict, clamped: float, steps: int, learning_rate: float, seed: int = 0) -> list[float]:
    """FAPE after each Adam step of free per-residue frames (quaternion + translation)."""
    num_res = truth["backbone_mask"].shape[0]

    def loss(p):
        quat = p["quat"] / jnp.linalg.norm(p["quat"], axis=-1, keepdims=True)     # [L, 4]
        traj = jnp.concatenate([quat, p["trans"]], axis=-1)[None]                  # [1, L, 7]
        return backbone_fape(traj, truth["backbone_rot"], truth["backbone_trans"], truth["backbone_mask"],
                             use_clamped=clamped)

    noise = 0.01 * jax.random.normal(jax.random.PRNGKey(seed), (num_res, 4))
    params = {"quat": jnp.tile(jnp.array([1.0, 0.0, 0.0, 0.0]), (num_res, 1)) + noise,
              "trans": jnp.zeros((num_res, 3))}
    optimizer = optax.adam(learning_rate)
    state = optimizer.init(params)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss)(params)
        updates, state = optimizer.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    history = []
    for _ in range(steps):
        params, state, value = step(params, state)
        history.append(float(value))
    history.append(float(loss(params)))
    return history


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "train")
    parser.add_argument("--chain-index", type=int, default=0, help="which of the short validation chains")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    args = parser.parse_args(argv)
    chain = load_chains(args.data, "valid", max_length=60)[args.chain_index]
    truth = chain_truth(chain)
    print(f"chain {chain.chain_id}, {len(chain)} residues, {args.steps} Adam steps (lr {args.learning_rate})")
    print("| FAPE | start | after 10% | after 50% | end |")
    print("| --- | --- | --- | --- | --- |")
    for label, clamped in (("clamped at 10 Å", 1.0), ("unclamped", 0.0)):
        h = fit_frames(truth, clamped, args.steps, args.learning_rate)
        marks = [h[0], h[len(h) // 10], h[len(h) // 2], h[-1]]
        print(f"| {label} | " + " | ".join(f"{v:.3f}" for v in marks) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
