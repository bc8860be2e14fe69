#!/usr/bin/env bash
# Everything a lent GPU session runs, in one go (benchmarks/RESULTS.md "GPU").
#
#   bash benchmarks/gpu_session.sh OUT_DIR [TRAIN_SECONDS] [BENCH_SECONDS]
#
# Expects, in the repository root (both ignored by git through .git/info/exclude; together
# under the 64 MiB a lent machine receives):
#   .whl/      wheels of what the GPU image lacks:
#              pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#                  --platform manylinux2014_x86_64 -d .whl dm-haiku==0.0.17 jmp==0.0.4
#   .devdata/  train shards 000-002 of ../shared/train (structures/ + shard_index.tsv; single
#              sequence, so no msas/) and a copy of ../shared/reference/af2 as .devdata/af2:
#              mkdir -p .devdata/structures && cp ../shared/train/structures/shard_00[012].npz \
#                  .devdata/structures/ && cp ../shared/train/shard_index.tsv .devdata/ \
#                  && cp -r ../shared/reference/af2 .devdata/af2
# Runs, in this order, each under its own time limit so that one failure does
# not cost the others:
#   1. foldkit-mini training (foldkit/train/configs/mini_gpu.json) for
#      TRAIN_SECONDS; the run folder is OUT_DIR/mini_gpu (checkpoint every 200
#      steps, so a stop at the limit keeps the last one; it comes back and
#      `foldkit train --resume` continues it anywhere);
#   2. the golden cases (modules, whole model) on the GPU in float32 (skipped with GOLDENS=0);
#   3. bench_model.py: full-size model_1_ptm at L=256/64/384, fp32 and bf16 (in that
#      order; skipped with BENCH_SECONDS=0).
set -u
out=${1:?usage: gpu_session.sh OUT_DIR [TRAIN_SECONDS] [BENCH_SECONDS]}
train_seconds=${2:-300}
bench_seconds=${3:-180}
mkdir -p "$out"
exec > >(tee -a "$out/device.log") 2>&1

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
export PYTHONPATH="$PWD:/tmp/site" PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
python3 -c "import jax, haiku; print('jax', jax.__version__, 'haiku', haiku.__version__, jax.devices())"

echo "== training foldkit-mini for ${train_seconds} s"
# the Python API, not the CLI: the CLI imports every subcommand (gemmi, Biopython), which the GPU
# image lacks; training needs neither
timeout "$train_seconds" python3 -c "
import sys
from pathlib import Path
from foldkit.train.config import load_config
from foldkit.train.loop import Trainer
Trainer(load_config(Path('foldkit/train/configs/mini_gpu.json')), '.devdata', sys.argv[1]).run(progress=False)
" "$out/mini_gpu" > "$out/train_progress.txt" 2>&1
echo "training exit $?; last metrics:"; tail -n 1 "$out/mini_gpu/metrics.jsonl"

echo "== golden cases on $(python3 -c 'import jax; print(jax.devices()[0].device_kind)')"
for kind in $([ "${GOLDENS:-1}" = 0 ] || echo modules model); do
  # full float32 (the golden runner's default), then the backend's default (TF32 matrix products) for comparison
  for precision in highest default; do
    echo "-- $kind, --matmul-precision $precision"
    timeout 90 python3 -m foldkit.testing.golden .devdata/af2 --only $kind --matmul-precision $precision \
        > /tmp/golden.txt 2>&1
    grep -E "FAIL|^golden" /tmp/golden.txt | tail -n 6
  done
done

echo "== bench_model (${bench_seconds} s)"
[ "$bench_seconds" -gt 0 ] && timeout "$bench_seconds" bash -c "
  for length in 256 64 384; do
    python3 benchmarks/bench_model.py --lengths \$length --chunk-sizes none --repeats 2 --log '$out/bench.jsonl'
    python3 benchmarks/bench_model.py --lengths \$length --chunk-sizes none --repeats 2 --bfloat16 \
        --log '$out/bench.jsonl'
  done
"
rm -f "$out/mini_gpu/run.json"   # keep the files that come back under 8
echo "== done"
