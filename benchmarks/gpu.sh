#!/usr/bin/env bash
# One GPU check, run on a lent machine (about 6 minutes on one H100):
#   1. `kwls soft-labels` end to end with the JAX engine on the GPU, and on the
#      same machine's CPU (JAX_PLATFORMS=cpu), IMDb train and 400k documents;
#   2. BERT-base / MiniLM-L6 training throughput, bf16, batch 64, length 128.
# The machine has JAX with CUDA, flax and optax but no internet: the package
# runs from the checkout (PYTHONPATH), and IMDb train / AG News test travel in
# an ignored folder named by KWLS_SHARED_DATASETS (default .gpu_data):
#   mkdir -p .gpu_data && cp -r ../shared/datasets/{imdb,ag_news} .gpu_data/
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export KWLS_SHARED_DATASETS="${KWLS_SHARED_DATASETS:-$PWD/.gpu_data}"
OUT="${OUT:-benchmarks/_out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import jax, flax; print('jax', jax.__version__, 'flax', flax.__version__, jax.devices())"

echo "== soft labels: engine on the GPU"
python3 benchmarks/soft_labels.py --corpora imdb,imdb400k --impls kwls,scipy \
  --repeat 2 --warmup --json "$OUT/soft_labels_gpu.json" \
  --markdown "$OUT/soft_labels_gpu.md" 2>&1 | tail -12
echo "== soft labels: engine on this machine's CPU"
JAX_PLATFORMS=cpu python3 benchmarks/soft_labels.py --corpora imdb,imdb400k \
  --impls kwls --repeat 2 --warmup --json "$OUT/soft_labels_cpu.json" 2>&1 | tail -8

echo "== BERT training throughput"
python3 benchmarks/gpu_bert_throughput.py 2>&1 | tee "$OUT/bert_throughput.txt" | tail -15
