"""Baseline: KWLS soft labels with numpy + scipy.sparse (Eqs. 1-8).

Python tokenisation and a vocabulary dict build a CSR count matrix C [N, V];
F = Y^T C gives f_{w,X_m}; WLR [P, V] and WIR [N, V] share the sparsity of F
and C; ILR = WIR WLR^T / X_avg; then a stable softmax.

  python benchmarks/baselines/scipy_sparse.py IN.jsonl[.gz] --out OUT.npy
"""

from __future__ import annotations

import collections
import os
import sys
from array import array

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402  (not `_io`: that name is CPython's io module)


def count_matrix(texts, tokenizer="word"):
  """C [N, V] float64 CSR of f_{w,x_i}, and |x_i| as float64 [N]."""
  tok = _common.TOKENIZERS[tokenizer]
  vocab = {}
  indptr, indices, data = array("q", [0]), array("i"), array("i")
  lengths = np.empty(len(texts), dtype=np.float64)
  for i, text in enumerate(texts):
    words = tok(text)
    lengths[i] = len(words)
    counts = collections.Counter(words)
    indices.extend([vocab.setdefault(w, len(vocab)) for w in counts])
    data.extend(counts.values())
    indptr.append(len(indices))
  c = sp.csr_matrix(
      (np.frombuffer(data, np.int32).astype(np.float64),
       np.frombuffer(indices, np.int32), np.frombuffer(indptr, np.int64)),
      shape=(len(texts), len(vocab)))
  return c, lengths


def soft_labels(texts, labels, tokenizer="word", k1=2.0, b=0.75, k2=2.0):
  """Soft labels d_i, float64 [N, P], P = max label + 1 (Eqs. 1-8)."""
  labels = np.asarray(labels, dtype=np.int64)
  n, p = len(texts), int(labels.max()) + 1 if len(labels) else 0
  c, lengths = count_matrix(texts, tokenizer)
  v = c.shape[1]
  y = sp.csr_matrix((np.ones(n), labels, np.arange(n + 1)), shape=(n, p))

  # Eq. 1: f_{w,X_m} = (Y^T C)_{m,w}, S_m = Y^T |x|, K_m.
  f = (y.T @ c).tocsr()
  f.eliminate_zeros()
  s = y.T @ lengths
  s_avg = s.mean() if p else 0.0
  big_k = k1 * (1 - b + b * s / s_avg) if s_avg > 0 else np.zeros(p)
  # Eq. 2: WLW_w = log(P / #labels with f >= 1) + 1.
  n_labels = np.bincount(f.indices, minlength=v)
  wlw = np.log(p / np.maximum(n_labels, 1)) + 1
  # Eq. 3: WLR = WLW * WLC on the nonzeros of F.
  rows = np.repeat(np.arange(p), np.diff(f.indptr))
  wlr = f.copy()
  wlr.data = wlw[f.indices] * (f.data * k1 / (f.data + big_k[rows]))

  # Eqs. 4-6: WIR = WIW * WIC on the nonzeros of C.
  df = np.bincount(c.indices, minlength=v)
  wiw = np.log(n / np.maximum(df, 1)) + 1
  wir = c.copy()
  wir.data = wiw[c.indices] * (c.data * k2 / (c.data + k2))

  # Eq. 7: ILR = WIR WLR^T / X_avg (WLR^T dense [V, P]).
  x_avg = lengths.mean() if n else 0.0
  if x_avg > 0:
    ilr = np.asarray(wir @ wlr.T.toarray()) / x_avg
  else:
    ilr = np.zeros((n, p))

  # Eq. 8: stable softmax.
  ilr -= ilr.max(axis=1, keepdims=True)
  np.exp(ilr, out=ilr)
  ilr /= ilr.sum(axis=1, keepdims=True)
  return ilr


def main(argv=None):
  args = _common.parse_args(argv, __doc__.splitlines()[0])
  texts, labels = _common.read_jsonl(args.input)
  _common.save(args.out, soft_labels(texts, labels, args.tokenizer, args.k1,
                                     args.b, args.k2))


if __name__ == "__main__":
  main()
