"""The reference side of the multimer speed comparison: AlphaFold's multimer network on bench_model.py's inputs.

Runs in an environment with AlphaFold's model code instead of foldkit's (it imports no foldkit module):

    python3.11 -m venv afref && afref/bin/pip install "jax[cpu]==0.4.26" dm-haiku==0.0.12 \\
        ml-collections==0.1.1 dm-tree==0.1.8 chex==0.1.86 numpy==1.26.4 scipy==1.11.4 immutabledict absl-py
    afref/bin/pip install --no-deps alphafold-colabfold==2.3.6      # AlphaFold v2.3's model code, ColabFold's fork
    afref/bin/python benchmarks/bench_multimer_reference.py --complex 2x64 [--msa 64 --extra 256 --templates 4
        --recycles 3 --subbatch-size none|4 --repeats 1]

Same inputs as ``bench_model.py --multimer NxL`` (its synthetic features,
model_1_multimer_v3 at full size with weights drawn by the same recipe from
foldkit's packaged parameter spec, float32). The network is
``modules_multimer.AlphaFold(config.model)(batch, is_training=False)`` under
``hk.transform`` and ``jax.jit``, as AlphaFold's ``RunModel`` wraps it. In
this fork one call is one network iteration (it recycles outside the network,
feeding ``prev`` back), so a prediction with R recycles is R + 1 calls of the
compiled function; compile = ahead-of-time compilation of that function.
``--subbatch-size`` is AlphaFold's ``global_config.subbatch_size`` (4 by
default: its attention layers run in chunks of 4 at inference; ``none``: not
chunked), the knob foldkit calls ``chunk_size``. Memory as bench_model.py
measures it: RSS before compiling, peak RSS sampled every 20 ms while the
predictions run, and the process's ``ru_maxrss``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SPEC_FILE = HERE.parent / "foldkit" / "data" / "af2_param_specs.json"
MODEL_NAME = "model_1_multimer_v3"
sys.path.insert(0, str(HERE))                   # bench_model's numpy-only helpers (no foldkit import here)


def random_params(seed: int = 0) -> dict:
    """bench_model.random_params' recipe on the packaged spec: N(0, 0.02) weights, zero biases and offsets,
    unit LayerNorm scales; haiku's nested {module path: {name: array}} layout (the official files' keys)."""
    import jax.numpy as jnp
    from bench_model import random_param_values                             # numpy and the standard library

    specs = json.loads(SPEC_FILE.read_text())
    tree = specs["trees"][specs["models"][MODEL_NAME]]["params"]
    rng = np.random.default_rng(seed)
    nested: dict = {}
    for name_key, shape in sorted(tree.items()):
        path, name = name_key.split("//", 1)
        nested.setdefault(path, {})[name] = jnp.asarray(random_param_values(name, shape, rng))
    return nested


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--complex", required=True, help="NxL: N chains of L residues")
    parser.add_argument("--msa", type=int, default=64)
    parser.add_argument("--extra", type=int, default=256)
    parser.add_argument("--templates", type=int, default=4)
    parser.add_argument("--recycles", type=int, default=3)
    parser.add_argument("--subbatch-size", default="4", help="rows per chunk, or 'none'")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)

    import haiku as hk
    import jax
    import jax.numpy as jnp
    from alphafold.model import config, modules_multimer

    from bench_model import RssSampler, rss_bytes                           # numpy and the standard library
    from bench_model_multimer import parse_complex, synthetic_multimer_features

    chains, chain_length = parse_complex(args.complex)
    subbatch = None if args.subbatch_size == "none" else int(args.subbatch_size)
    num_res = chains * chain_length
    cfg = config.model_config(MODEL_NAME)
    cfg.model.embeddings_and_evoformer.num_msa = args.msa
    cfg.model.embeddings_and_evoformer.num_extra_msa = args.extra
    cfg.model.global_config.bfloat16 = False
    cfg.model.global_config.subbatch_size = subbatch
    evoformer = cfg.model.embeddings_and_evoformer
    features = synthetic_multimer_features(chains, chain_length, args.msa + args.extra, args.templates)
    features["all_atom_positions"] = np.zeros((num_res, 37, 3), np.float32)   # AlphaFold's pipeline gives zeros
    batch = {k: jnp.asarray(v) for k, v in features.items()}
    prev = {"prev_msa_first_row": jnp.zeros((num_res, evoformer.msa_channel), jnp.float32),
            "prev_pair": jnp.zeros((num_res, num_res, evoformer.pair_channel), jnp.float32),
            "prev_pos": jnp.zeros((num_res, 37, 3), jnp.float32)}

    def forward(batch):
        return modules_multimer.AlphaFold(cfg.model)(batch, is_training=False)

    apply = jax.jit(hk.transform(forward).apply)
    params = random_params()
    key = jax.random.PRNGKey(0)
    rss_ready = rss_bytes()
    start = time.perf_counter()
    compiled = apply.lower(params, key, {**batch, "prev": prev}).compile()
    compile_seconds = time.perf_counter() - start
    times = []
    with RssSampler() as sampler:
        for _ in range(args.repeats):
            start = time.perf_counter()
            recycled = prev
            for iteration in range(args.recycles + 1):
                outputs = compiled(params, jax.random.fold_in(key, iteration), {**batch, "prev": recycled})
                recycled = outputs["prev"]
            jax.block_until_ready(outputs)
            times.append(time.perf_counter() - start)
    record = {"tool": "alphafold-colabfold " + _version(), "complex": args.complex, "length": num_res,
              "msa": args.msa, "extra": args.extra, "templates": args.templates, "recycles": args.recycles,
              "subbatch_size": subbatch, "compile_s": compile_seconds, "predict_s": times,
              "predict_s_min": min(times), "rss_ready_gib": rss_ready / 2 ** 30,
              "rss_run_peak_gib": sampler.peak / 2 ** 30,
              "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 2 ** 30,
              "finite_outputs": bool(np.all(np.isfinite(np.asarray(outputs["plddt"])))), "jax": jax.__version__}
    print(json.dumps(record))
    return record


def _version() -> str:
    from importlib.metadata import version

    return version("alphafold-colabfold")


if __name__ == "__main__":
    main()
