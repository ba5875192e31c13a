"""Baseline: KWLS soft labels with pure-Python dict loops (authors' style).

Mirrors the structure of the authors' generate_soft_label.py (single-label,
per-label term-frequency dicts, word -> labels dict, per-instance count dicts,
then loops over instances, their distinct words and the labels), written
independently, without pandas, with math.log, float64, and a stable softmax.

  python benchmarks/baselines/authors_loop.py IN.jsonl[.gz] --out OUT.npy
"""

from __future__ import annotations

import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (not `_io`: that name is CPython's io module)


def soft_labels(texts, labels, tokenizer="word", k1=2.0, b=0.75, k2=2.0):
  """Soft labels d_i, float64 [N, P], P = max label + 1 (Eqs. 1-8)."""
  tok = _common.TOKENIZERS[tokenizer]
  n = len(texts)
  label_size = max(labels) + 1 if labels else 0
  sentences = [tok(t) for t in texts]

  # Eq. 1-2 statistics: f_{w,X_m}, S_m, and the labels each word occurs in.
  tf_dict_list = [{} for _ in range(label_size)]
  word_num_list = [0] * label_size
  word_labels = {}
  for sentence, m in zip(sentences, labels):
    tf = tf_dict_list[m]
    for word in sentence:
      tf[word] = tf.get(word, 0) + 1
    word_num_list[m] += len(sentence)
    for word in set(sentence):
      word_labels.setdefault(word, set()).add(m)

  # Eq. 4-5 statistics: f_{w,x_i} and document frequencies.
  count_list = []
  df = {}
  for sentence in sentences:
    counts = {}
    for word in sentence:
      counts[word] = counts.get(word, 0) + 1
    for word in counts:
      df[word] = df.get(word, 0) + 1
    count_list.append(counts)

  # Eq. 1-3: WLR_{w,m} for the words of each label.
  s_avg = sum(word_num_list) / label_size if label_size else 0.0
  k_list = [k1 * (1 - b + b * s_m / s_avg) if s_avg else 0.0
            for s_m in word_num_list]
  wlw_dict = {}
  wlr_dict_list = [{} for _ in range(label_size)]
  for m in range(label_size):
    for word, f in tf_dict_list[m].items():
      if word not in wlw_dict:
        wlw_dict[word] = math.log(label_size / len(word_labels[word])) + 1
      wlr_dict_list[m][word] = wlw_dict[word] * (f * k1 / (f + k_list[m]))

  # Eq. 4-7: WIR_{w,i} and the ILR sums over distinct words.
  x_avg = sum(len(s) for s in sentences) / n if n else 0.0
  wiw_dict = {}
  ilr = np.zeros((n, label_size), dtype=np.float64)
  for i, counts in enumerate(count_list):
    row = [0.0] * label_size
    for word, f in counts.items():
      if word not in wiw_dict:
        wiw_dict[word] = math.log(n / df[word]) + 1
      wir = wiw_dict[word] * (f * k2 / (f + k2))
      for m in range(label_size):
        row[m] += wlr_dict_list[m].get(word, 0.0) * wir
    ilr[i] = row
  if x_avg > 0:
    ilr /= x_avg
  else:
    ilr[:] = 0.0

  # Eq. 8: stable softmax.
  e = np.exp(ilr - ilr.max(axis=1, keepdims=True))
  return e / e.sum(axis=1, keepdims=True)


def main(argv=None):
  args = _common.parse_args(argv, __doc__.splitlines()[0])
  texts, labels = _common.read_jsonl(args.input)
  _common.save(args.out, soft_labels(texts, labels, args.tokenizer, args.k1,
                                 args.b, args.k2))


if __name__ == "__main__":
  main()
