#!/usr/bin/env bash
# One GPU check, run on a lent machine (about 6 minutes on one H100):
#   1. BERT-base training throughput, bf16, batch 64, length 128 (issue 3's
#      target: 3,500 samples/s on an H100), 200 timed steps per line: first
#      the previous defaults (nnx.Dropout, three q/k/v matmuls) as the
#      baseline, then today's defaults (on a GPU: nnx.Dropout, one q/k/v
#      matmul) with what each layer keeps for the backward pass (remat none,
#      dots, dots_no_batch), then with other optimizers than AdamW (`kwls
#      train`'s: clipping, decay mask, schedule; AdamW on one flattened
#      vector; SGD, the step without Adam); each line is followed by a
#      10-step profile summary (benchmarks/trace_summary.py: time per kernel
#      class, top kernels), traces kept in $OUT/profile;
#   2. with GPU_EXTRA=1, cuDNN fused attention (no attention dropout) and
#      MiniLM-L6 with the defaults (about 1.5 more minutes);
#   3. `kwls train` end to end on the GPU: TextCNN on IMDb with KWLS soft
#      labels, one epoch, bf16 compute (model.dtype auto), orbax checkpoints;
#      then its final.json (test accuracy, compute dtype, devices);
#   4. with GPU_SOFT_LABELS=1, `kwls soft-labels` end to end with the JAX
#      engine on the GPU and on the same machine's CPU (about 3 more minutes).
# The machine has JAX with CUDA, flax and optax but no internet: the package
# runs from the checkout (PYTHONPATH), and IMDb train / AG News test travel in
# an ignored folder named by KWLS_SHARED_DATASETS (default .gpu_data):
#   mkdir -p .gpu_data && cp -r ../shared/datasets/{imdb,ag_news} .gpu_data/
# and pure-Python packages the machine may lack (tqdm) in .gpu_data/pylib:
#   pip download tqdm --no-deps -d /tmp/w && (cd .gpu_data/pylib && python -m zipfile -e /tmp/w/tqdm-*.whl .)
set -uo pipefail
cd "$(dirname "$0")/.."
export KWLS_SHARED_DATASETS="${KWLS_SHARED_DATASETS:-$PWD/.gpu_data}"
export PYTHONPATH="$PWD:$KWLS_SHARED_DATASETS/pylib${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
OUT="${OUT:-benchmarks/_out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import jax, flax; print('jax', jax.__version__, 'flax', flax.__version__, jax.devices())"

echo "== BERT-base training throughput (bf16, batch 64, length 128)"
python3 benchmarks/gpu_bert_throughput.py --models bert-base --steps 200 \
  --draws nnx --qkv separate 2>&1 | tee "$OUT/bert_throughput.txt"
python3 benchmarks/gpu_bert_throughput.py --models bert-base --steps 200 \
  --remat none,dots,dots_no_batch --profile "$OUT/profile" 2>&1 \
  | tee -a "$OUT/bert_throughput.txt"
python3 benchmarks/gpu_bert_throughput.py --models bert-base --steps 200 \
  --optimizer trainer,flat-adamw,sgd --profile "$OUT/profile" 2>&1 \
  | tee -a "$OUT/bert_throughput.txt"
if [[ "${GPU_EXTRA:-0}" == 1 ]]; then
  python3 benchmarks/gpu_bert_throughput.py --models bert-base \
    --attention cudnn 2>&1 | tee -a "$OUT/bert_throughput.txt"
  python3 benchmarks/gpu_bert_throughput.py --models minilm-l6 --steps 200 \
    2>&1 | tee -a "$OUT/bert_throughput.txt"
fi

echo "== kwls train on the GPU: TextCNN, IMDb, KWLS, bf16, 1 epoch"
RUN="$OUT/imdb_textcnn_kwls_gpu"
rm -rf "$RUN"
KWLS_DATA_DIR="$KWLS_SHARED_DATASETS" WANDB_MODE=disabled python3 -m kwls_jax \
  train experiments/train_imdb_textcnn_kwls.json --set epochs=1 --no-progress \
  --run-dir "$RUN" 2>&1 | tail -5
python3 -c "import json, sys; f = json.load(open(sys.argv[1])); print({k: f.get(k) for k in ('test', 'compute_dtype', 'devices', 'samples_per_s')})" "$RUN/final.json"

if [[ "${GPU_SOFT_LABELS:-0}" == 1 ]]; then
  echo "== soft labels: engine on the GPU"
  python3 benchmarks/soft_labels.py --corpora imdb,imdb400k --impls kwls,scipy \
    --repeat 2 --warmup --json "$OUT/soft_labels_gpu.json" \
    --markdown "$OUT/soft_labels_gpu.md" 2>&1 | tail -12
  echo "== soft labels: engine on this machine's CPU"
  JAX_PLATFORMS=cpu python3 benchmarks/soft_labels.py --corpora imdb,imdb400k \
    --impls kwls --repeat 2 --warmup --json "$OUT/soft_labels_cpu.json" 2>&1 | tail -8
fi
