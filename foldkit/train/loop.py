"""The training loop: optax AdamW + warm-up/decay + clipping + accumulation, jitted steps.

:class:`Trainer` owns the network (haiku, foldkit's AlphaFold modules), the
optimizer and the data stream. One *micro-step* is a jitted forward/backward
pass over ``batch_size`` crops (vmapped) followed by an optax update; with
``accumulate_steps`` k > 1, ``optax.MultiSteps`` applies the averaged update
every k micro-steps, and one training *step* is k micro-steps. Recycling:
micro-step m runs ``recycle_count(seed, m)`` recycles (one compiled function
per count; gradients only through the last iteration).

Outputs in the run folder: ``metrics.jsonl`` (one record per step),
``loss.png``, ``checkpoint.npz`` (see :mod:`foldkit.train.checkpoint`),
``config.json`` and, at the end, ``params_<name>.npz`` + ``params_<name>.json``
(the AlphaFold-layout parameters and config sidecar that ``foldkit predict
--params-dir`` reads).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from foldkit.errors import InputError
from foldkit.io.atomic import atomic_write_text
from foldkit.model.alphafold import forward_fn, init_params
from foldkit.model.global_config import GlobalConfig
from foldkit.model.params import load_params, nested_to_flat, save_params, spec_of, verify_params
from foldkit.train import checkpoint as ckpt
from foldkit.train.config import ScheduleConfig, TrainConfig
from foldkit.train.data import MODEL_FEATURES, MsaStore, TrainData, load_chains, recycle_count
from foldkit.train.evaluate import load_run
from foldkit.train.ground_truth import ground_truth
from foldkit.train.losses import active_terms, example_losses, total_loss

TARGET_KEYS = ("atom37_positions", "atom37_mask", "full_atom", "use_clamped_fape")


def learning_rate_schedule(schedule: ScheduleConfig, total_steps: int) -> optax.Schedule:
    """Linear warm-up to ``peak`` then cosine / exponential / constant."""
    warmup = max(int(schedule.warmup_steps), 0)
    decay_steps = max(total_steps - warmup, 1)
    if schedule.decay == "cosine":
        decay = optax.cosine_decay_schedule(schedule.peak, decay_steps, alpha=schedule.end_factor)
    elif schedule.decay == "exponential":
        decay = optax.exponential_decay(schedule.peak, schedule.decay_every, schedule.decay_rate, staircase=True)
    else:
        decay = optax.constant_schedule(schedule.peak)
    if warmup == 0:
        return decay
    return optax.join_schedules([optax.linear_schedule(0.0, schedule.peak, warmup), decay], [warmup])


def make_optimizer(config: TrainConfig) -> tuple[optax.GradientTransformation, optax.Schedule]:
    o = config.optimizer
    schedule = learning_rate_schedule(config.schedule, config.steps)
    optimizer = optax.chain(optax.clip_by_global_norm(o.clip_norm),
                            optax.adamw(schedule, b1=o.b1, b2=o.b2, eps=o.eps, weight_decay=o.weight_decay))
    if o.accumulate_steps > 1:
        optimizer = optax.MultiSteps(optimizer, every_k_schedule=o.accumulate_steps)
    return optimizer, schedule


def batch_loss_fn(config: TrainConfig, model_tree: dict | None = None) -> Callable:
    """``loss(params, batch, num_recycle) -> (total, term means)`` for a stacked batch."""
    from foldkit.model.config import AlphaFoldConfig

    model = AlphaFoldConfig.from_dict(model_tree or config.model_tree()).model
    global_config = GlobalConfig(zero_init=model.global_config.zero_init, bfloat16=config.bfloat16,
                                 deterministic=True)
    terms = active_terms(config.loss)
    networks = {}

    def network(num_recycle: int):
        if num_recycle not in networks:
            networks[num_recycle] = forward_fn(dataclasses.replace(model, num_recycle=num_recycle), global_config)
        return networks[num_recycle]

    def loss(params, batch, num_recycle: int):
        apply = network(num_recycle).apply

        def one_example(example):
            features = {k: example[k][:num_recycle + 1] for k in MODEL_FEATURES}
            outputs = apply(params, None, features)
            last = {k: example[k][num_recycle] for k in MODEL_FEATURES}
            last["use_clamped_fape"] = example["use_clamped_fape"]
            truth = ground_truth(last["aatype"], example["atom37_positions"],
                                 example["atom37_mask"] * last["seq_mask"][:, None], example["full_atom"])
            return example_losses(outputs, last, truth, model, terms)

        losses, weights = jax.vmap(one_example)(batch)
        return total_loss(losses, weights, config.loss)

    return loss


def step_key(config: TrainConfig) -> str:
    """JSON of the settings the compiled step depends on (not the data selection, seed or name)."""
    values = config.to_dict()
    for name in ("name", "seed", "checkpoint_every", "data"):
        values.pop(name)
    values["model_tree"] = config.model_tree()
    return json.dumps(values, sort_keys=True)


@functools.lru_cache(maxsize=8)
def compiled_step(config_json: str, num_recycle: int) -> Callable:
    """The jitted ``step(params, opt_state, batch) -> (params, opt_state, loss, terms, grad_norm)``.

    Cached per (config, recycle count), so runs with the same config in one
    process (a resumed run, tests) compile once.
    """
    values = json.loads(config_json)
    tree = values.pop("model_tree")
    config = TrainConfig.from_dict(values)
    optimizer, _ = make_optimizer(config)
    loss = batch_loss_fn(config, tree)

    def step(params, opt_state, batch):
        (value, terms), grads = jax.value_and_grad(loss, has_aux=True)(params, batch, num_recycle)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return params, opt_state, value, terms, optax.tree.norm(grads)

    return jax.jit(step, donate_argnums=(0, 1))


@dataclasses.dataclass
class TrainState:
    params: Any
    opt_state: Any
    step: int          # optimizer steps done
    micro_step: int    # micro-batches done (= next example block)


def warm_start_params(path: Path, template: dict) -> dict:
    """Network parameters read from a run checkpoint or a parameter file, checked against ``template``."""
    if not path.is_file():
        raise InputError("file to start from not found", path=str(path))
    if ckpt.is_checkpoint(path):
        params = ckpt.params_from_checkpoint(path)
        verify_params(params, spec_of(template), path=path, what="checkpoint parameters")
    else:
        params = load_params(path, expected=spec_of(template))
    return {module: {name: np.asarray(params[module][name], dtype=np.asarray(value).dtype)
                     for name, value in leaves.items()} for module, leaves in template.items()}


class Trainer:
    """A training run in ``run_dir`` (created; resumed from its checkpoint with ``resume``).

    init_from: start from these network parameters instead of a random
    initialisation (a run's ``checkpoint.npz`` or a parameter file as
    ``--export`` or AlphaFold write it; same architecture), with a fresh
    optimizer at step 0 (warm start / fine-tuning).
    """

    def __init__(self, config: TrainConfig, data_dir: str | Path, run_dir: str | Path,
                 chains=None, msas: MsaStore | None = None, init_from: str | Path | None = None):
        self.config = config
        self.init_from = None if init_from is None else Path(init_from)
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        d = config.data
        if chains is None:
            chains = load_chains(data_dir, d.train_split, limit=d.limit, max_length=d.max_length, subset=d.subset,
                                 full_atom_only=d.full_atom_only)
        self.data = TrainData(chains, msas or MsaStore(data_dir, d.use_msa), d, config.crop_size,
                              config.num_recycle, config.seed, config.loss.fape_clamp_fraction,
                              unclamped_examples=config.loss.fape_unclamped_steps * config.batch_size
                              * config.optimizer.accumulate_steps)
        self.optimizer, self.schedule = make_optimizer(config)
        self._pool = None          # one background thread that builds the next batch
        self._prefetched = None    # (micro_step, future of its batch)

    # ------------------------------------------------------------------ state

    def initial_state(self) -> TrainState:
        params = init_params(self.config.alphafold_config(), seed=self.config.seed)
        if self.init_from is not None:
            params = warm_start_params(self.init_from, params)
        params = jax.tree.map(jnp.asarray, params)
        return TrainState(params, self.optimizer.init(params), 0, 0)

    def restore(self) -> TrainState:
        template = self.initial_state()
        path = self.run_dir / ckpt.CHECKPOINT_NAME
        params, opt_state, meta = ckpt.restore_checkpoint(path, template.params, template.opt_state)
        params = jax.tree.map(jnp.asarray, params)
        opt_state = jax.tree.map(jnp.asarray, opt_state)
        return TrainState(params, opt_state, int(meta["step"]), int(meta["data_state"]["next_example_block"]))

    def save(self, state: TrainState) -> Path:
        data_state = {"seed": self.config.seed, "next_example_block": state.micro_step}
        return ckpt.save_checkpoint(self.run_dir, state.params, state.opt_state, state.step, data_state,
                                    {"config": self.config.to_dict()})

    # ------------------------------------------------------------------ steps

    def _step_fn(self, num_recycle: int) -> Callable:
        return compiled_step(step_key(self.config), num_recycle)

    def _batch(self, micro_step: int) -> dict[str, np.ndarray]:
        """Examples of ``micro_step``; the next micro-step's batch is built in a thread meanwhile."""
        size = self.config.batch_size
        pending = self._prefetched
        batch = pending[1].result() if pending and pending[0] == micro_step else self.data.batch(
            micro_step * size, size)
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="foldkit-batches")
        self._prefetched = (micro_step + 1, self._pool.submit(self.data.batch, (micro_step + 1) * size, size))
        return batch

    def micro_step(self, state: TrainState) -> tuple[TrainState, dict[str, float]]:
        c = self.config
        batch = self._batch(state.micro_step)
        num_recycle = recycle_count(c.seed, state.micro_step, c.num_recycle) if c.sample_recycles else c.num_recycle
        params, opt_state, value, terms, grad_norm = self._step_fn(num_recycle)(
            state.params, state.opt_state, jax.tree.map(jnp.asarray, batch))
        metrics = {"loss": float(value), "grad_norm": float(grad_norm), "recycles": num_recycle}
        metrics.update({k: float(v) for k, v in terms.items()})
        return TrainState(params, opt_state, state.step, state.micro_step + 1), metrics

    def train_step(self, state: TrainState) -> tuple[TrainState, dict[str, float]]:
        """One optimizer step (``accumulate_steps`` micro-steps); metrics averaged over them."""
        records = []
        for _ in range(self.config.optimizer.accumulate_steps):
            state, metrics = self.micro_step(state)
            records.append(metrics)
        merged = {k: float(np.mean([r[k] for r in records])) for k in records[0]}
        merged["learning_rate"] = float(self.schedule(state.step))
        state = TrainState(state.params, state.opt_state, state.step + 1, state.micro_step)
        merged["step"] = state.step
        return state, merged

    # ------------------------------------------------------------------ run

    def run(self, resume: bool = False, max_steps: int | None = None, progress: bool = True) -> TrainState:
        """Train until ``config.steps`` (or ``max_steps`` more steps in this call), checkpointing."""
        from foldkit.train.metrics import MetricsLog

        c = self.config
        has_checkpoint = (self.run_dir / ckpt.CHECKPOINT_NAME).is_file()
        state = self.restore() if resume and has_checkpoint else self.initial_state()
        (self.run_dir / "config.json").write_text(json.dumps(c.to_dict(), indent=2) + "\n")
        log = MetricsLog(self.run_dir, keep_up_to=state.step)
        stop = c.steps if max_steps is None else min(c.steps, state.step + max_steps)
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=c.steps, initial=state.step, desc=c.name, unit="step", dynamic_ncols=True)
        last_save = state.step
        try:
            while state.step < stop:
                start = time.perf_counter()
                state, metrics = self.train_step(state)
                metrics["seconds"] = time.perf_counter() - start
                metrics["steps_per_second"] = 1.0 / max(metrics["seconds"], 1e-9)
                log.append(metrics)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{metrics['loss']:.3f}", steps_s=f"{metrics['steps_per_second']:.2f}")
                if state.step % c.checkpoint_every == 0 or state.step == stop:
                    self.save(state)
                    last_save = state.step
                    log.plot()
        finally:
            if bar is not None:
                bar.close()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool, self._prefetched = None, None
        if last_save != state.step:
            self.save(state)
        log.plot()
        if state.step >= c.steps:
            self.export(state)
        return state

    def export(self, state: TrainState) -> Path:
        """``params_<name>.npz`` (AlphaFold layout) + ``params_<name>.json`` (config sidecar)."""
        return write_params_with_sidecar(self.run_dir / f"params_{self.config.name}.npz", state.params, self.config)


def write_params_with_sidecar(path: str | Path, params: Any, config: TrainConfig) -> Path:
    """Parameters as an AlphaFold-layout npz plus the model config as a sidecar JSON next to it."""
    path = Path(path)
    save_params(path, nested_to_flat(jax.tree.map(np.asarray, hk.data_structures.to_mutable_dict(params))))
    atomic_write_text(path.with_suffix(".json"), json.dumps(config.model_tree(), indent=1) + "\n")
    return path


def export_run(run_dir: str | Path, path: str | Path) -> tuple[Path, int]:
    """Write the latest checkpoint of a run as ``path`` (npz) + sidecar JSON; returns (path, step)."""
    config, params, step = load_run(run_dir)
    return write_params_with_sidecar(path, params, config), step
