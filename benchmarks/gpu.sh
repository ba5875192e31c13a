#!/usr/bin/env bash
# One GPU check, run on a lent machine (about 5 minutes on one H100):
#   1. BERT-base training throughput, bf16, batch 64, length 128 (issue 3's
#      target: 3,500 samples/s on an H100), for each way of drawing dropout
#      masks (nnx.Dropout's float32 uniforms vs 16-bit draws) and of
#      projecting q/k/v (three matmuls vs one); the first line is the
#      baseline of results/benchmarks/gpu_h100.md (3,457 samples/s);
#   2. the same with cuDNN fused attention (no attention dropout), and
#      MiniLM-L6 with the defaults;
#   3. with GPU_SOFT_LABELS=1, `kwls soft-labels` end to end with the JAX
#      engine on the GPU and on the same machine's CPU (about 3 more minutes).
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

echo "== BERT-base training throughput (bf16, batch 64, length 128)"
python3 benchmarks/gpu_bert_throughput.py --models bert-base \
  --draws nnx,bits16 --qkv separate,fused 2>&1 | tee "$OUT/bert_throughput.txt"
python3 benchmarks/gpu_bert_throughput.py --models bert-base \
  --attention cudnn 2>&1 | tee -a "$OUT/bert_throughput.txt"
python3 benchmarks/gpu_bert_throughput.py --models minilm-l6 2>&1 \
  | tee -a "$OUT/bert_throughput.txt"

if [[ "${GPU_SOFT_LABELS:-0}" == 1 ]]; then
  echo "== soft labels: engine on the GPU"
  python3 benchmarks/soft_labels.py --corpora imdb,imdb400k --impls kwls,scipy \
    --repeat 2 --warmup --json "$OUT/soft_labels_gpu.json" \
    --markdown "$OUT/soft_labels_gpu.md" 2>&1 | tail -12
  echo "== soft labels: engine on this machine's CPU"
  JAX_PLATFORMS=cpu python3 benchmarks/soft_labels.py --corpora imdb,imdb400k \
    --impls kwls --repeat 2 --warmup --json "$OUT/soft_labels_cpu.json" 2>&1 | tail -8
fi
