#!/usr/bin/env bash
# One GPU check, run on a lent machine:
#   1. BERT-base training throughput, bf16, batch 64 x 128 (samples/s, median
#      of three windows of 100 steps, each printed): `kwls train`'s own step
#      (benchmarks/train_throughput.py), and in the same call PyTorch +
#      transformers with torch.compile where torch with CUDA is installed;
#   2. `kwls train` end to end: BERT-base (random init, the bert-base-uncased
#      vocabulary carried in .gpu_data/bert_vocab) on IMDb with KWLS soft
#      labels, batch 64 x 128, one epoch (293 steps), bf16, orbax checkpoints;
#      its samples/s per 50-step window and final.json
#      (benchmarks/run_throughput.py): the trainer's speed, data and all;
#   3. `kwls soft-labels` end to end with the JAX engine on the GPU and on the
#      same machine's CPU, next to the scipy.sparse baseline;
#   4. with GPU_EXTRA=1: MiniLM-L6, TextCNN and BiLSTM throughput as in 1, and
#      `kwls train` TextCNN and BiLSTM on IMDb with KWLS, one epoch each.
# The machine has JAX with CUDA, flax and optax but no internet: the package
# runs from the checkout (PYTHONPATH), and the corpora, the BERT vocabulary and
# pure-Python packages it may lack (tqdm, tokenizers) travel in an ignored
# folder named by KWLS_SHARED_DATASETS (default .gpu_data), built by
#   bash benchmarks/prepare_gpu_data.sh
# Smoke test on a CPU, with tiny shapes (10 minutes on a busy 2-core machine;
# KWLS_SHARED_DATASETS a folder with imdb/ and bert_vocab/vocab.txt):
#   BENCH_ARGS="--models minilm-l6 --batch 4 --length 16 --steps 1 --repeats 1 --warmup 1 --no-torch" \
#   BERT_TRAIN_SET="--set max_steps=3 --set model.options.num_hidden_layers=1 --set model.max_length=16" \
#   SOFT_ARGS="--corpora imdb --impls kwls" OUT=/tmp/gpu_smoke bash benchmarks/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
export KWLS_SHARED_DATASETS="${KWLS_SHARED_DATASETS:-$PWD/.gpu_data}"
export PYTHONPATH="$PWD:$KWLS_SHARED_DATASETS/pylib${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
OUT="${OUT:-benchmarks/_out}"
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import jax, flax; print('jax', jax.__version__, 'flax', flax.__version__, jax.devices())"

echo "== BERT-base training throughput (batch 64 x 128; bf16 on the GPU)"
python3 benchmarks/train_throughput.py --models bert-base --steps 100 \
  --repeats 3 --warmup 3 --torch-compile --markdown "$OUT/throughput.md" \
  ${BENCH_ARGS:-} 2>&1 | tee "$OUT/throughput.txt"

echo "== kwls train on the GPU: BERT-base (random init), IMDb, KWLS, bf16, batch 64 x 128, 1 epoch"
# The run (with its 1.3 GB of checkpoints) stays outside $OUT; its records
# are copied there.
RUN="${TMPDIR:-/tmp}/kwls_gpu/imdb_bert_base_kwls_gpu"
rm -rf "$RUN"
cat > "$OUT/imdb_bert_base_kwls_gpu.json" <<JSON
{"name": "imdb_bert_base_kwls_gpu",
 "model": {"name": "bert", "preset": "bert-base", "max_length": 128,
           "vocab": "$KWLS_SHARED_DATASETS/bert_vocab"},
 "method": "kwls", "alpha": 1.0, "batch_size": 64, "epochs": 1, "seed": 0,
 "log_every": 50,
 "data": {"train": {"path": "imdb:train", "fold": 0, "k": 4, "seed": 0, "part": "train"},
          "dev": {"path": "imdb:train", "fold": 0, "k": 4, "seed": 0, "part": "dev"},
          "test": "imdb:test"}}
JSON
KWLS_DATA_DIR="$KWLS_SHARED_DATASETS" WANDB_MODE=disabled python3 -m kwls_jax \
  train "$OUT/imdb_bert_base_kwls_gpu.json" --no-progress --run-dir "$RUN" \
  ${BERT_TRAIN_SET:-} 2>&1 | tail -5
python3 benchmarks/run_throughput.py "$RUN"
mkdir -p "$OUT/imdb_bert_base_kwls_gpu"
cp "$RUN"/{config.json,metrics.jsonl,final.json} "$OUT/imdb_bert_base_kwls_gpu/" || true

echo "== soft labels: engine on the GPU"
python3 benchmarks/soft_labels.py ${SOFT_ARGS:---corpora imdb,imdb400k --impls kwls,scipy} \
  --repeat 2 --warmup --json "$OUT/soft_labels_gpu.json" \
  --markdown "$OUT/soft_labels_gpu.md" 2>&1 | tail -12
echo "== soft labels: engine on this machine's CPU"
JAX_PLATFORMS=cpu python3 benchmarks/soft_labels.py \
  ${SOFT_ARGS:---corpora imdb,imdb400k --impls kwls} --repeat 2 --warmup \
  --json "$OUT/soft_labels_cpu.json" 2>&1 | tail -8

if [[ "${GPU_EXTRA:-0}" == 1 ]]; then
  echo "== training throughput: MiniLM-L6, TextCNN, BiLSTM"
  python3 benchmarks/train_throughput.py --models minilm-l6,textcnn,lstm \
    --steps 100 --repeats 3 --warmup 3 --torch-compile 2>&1 \
    | tee -a "$OUT/throughput.txt"
  for model in textcnn lstm; do
    echo "== kwls train on the GPU: $model, IMDb, KWLS, bf16, 1 epoch"
    RUN="$OUT/imdb_${model}_kwls_gpu"
    rm -rf "$RUN"
    KWLS_DATA_DIR="$KWLS_SHARED_DATASETS" WANDB_MODE=disabled python3 -m kwls_jax \
      train experiments/train_imdb_textcnn_kwls.yaml --set epochs=1 \
      --set model.name=$model --no-progress --run-dir "$RUN" 2>&1 | tail -5
    python3 benchmarks/run_throughput.py "$RUN"
  done
fi
