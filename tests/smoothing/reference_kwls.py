"""Literal float64 pure-Python KWLS (paper Sec. 4, Eqs. 1-8): the test oracle.

Written loop by loop for clarity and one-to-one correspondence with the
equations, not for speed: per-label term-frequency dicts f_{w,X_m}, a
word -> set-of-labels dict, per-instance count dicts f_{w,x_i}, then loops.

method "kwls": the paper's BM25-style terms. method "tfidf" (LS-TFIDF): plain
term frequency and plain IDF (no saturation, no "+1"), same Eqs. 7 and 8.
"""

from __future__ import annotations

import math
import re

import numpy as np

METHODS = ("kwls", "tfidf")


def tokenize(text: str, tokenizer: str = "word") -> list[str]:
  """The words of x_i: `word` = lowercased \\w+ runs, `whitespace` = str.split()."""
  if tokenizer == "word":
    return re.findall(r"\w+", text.lower())
  if tokenizer == "whitespace":
    return text.split()
  raise ValueError(f"unknown tokenizer {tokenizer!r}")


def _as_multi_hot(labels) -> np.ndarray:
  """Hard labels l_i as bool [N, P]; an int vector [N] becomes one-hot."""
  labels = np.asarray(labels)
  if labels.ndim == 1:
    out = np.zeros((len(labels), int(labels.max()) + 1 if len(labels) else 0),
                   dtype=bool)
    for i, m in enumerate(labels):
      out[i, int(m)] = True
    return out
  return labels.astype(bool)


# --- Sec. 4.1: keyword detection for labels -------------------------------


def wlc(f: int, s_m: float, s_avg: float, k1: float = 2.0, b: float = 0.75,
        method: str = "kwls") -> float:
  """Word-Label Correlation WLC_{w,m} = f*k1/(f+K), K = k1*(1-b+b*S_m/S_avg) (Eq. 1)."""
  if f == 0:
    return 0.0
  if method == "tfidf":
    return float(f)
  big_k = k1 * (1.0 - b + b * s_m / s_avg)
  return f * k1 / (f + big_k)


def wlw(p: int, num_labels_with_w: int, method: str = "kwls") -> float:
  """Word-Label Weight WLW_w = log(p / #{m: f_{w,X_m} >= 1}) + 1 (Eq. 2)."""
  idf = math.log(p / num_labels_with_w)
  return idf if method == "tfidf" else idf + 1.0


def wlr(wlw_w: float, wlc_w_m: float) -> float:
  """Word-Label Relevance WLR_{w,m} = WLW_w * WLC_{w,m} (Eq. 3)."""
  return wlw_w * wlc_w_m


# --- Sec. 4.2: keyword detection for instances ----------------------------


def wic(f: int, k2: float = 2.0, method: str = "kwls") -> float:
  """Word-Instance Correlation WIC_{w,i} = f*k2/(f+k2) (Eq. 4)."""
  if method == "tfidf":
    return float(f)
  return f * k2 / (f + k2)


def wiw(n: int, num_instances_with_w: int, method: str = "kwls") -> float:
  """Word-Instance Weight WIW_w = log(N / #{i: w in x_i}) + 1 (Eq. 5)."""
  idf = math.log(n / num_instances_with_w)
  return idf if method == "tfidf" else idf + 1.0


def wir(wiw_w: float, wic_w_i: float) -> float:
  """Word-Instance Relevance WIR_{w,i} = WIW_w * WIC_{w,i} (Eq. 6)."""
  return wiw_w * wic_w_i


# --- Secs. 4.3-4.4: instance-label relevance and soft labels ---------------


def ilr(wlr_m: dict[str, float], wir_i: dict[str, float], x_avg: float) -> float:
  """ILR_{i,m} = (1/X_avg) * sum over distinct w in x_i of WLR_{w,m}*WIR_{w,i} (Eq. 7)."""
  if x_avg == 0:
    return 0.0
  total = 0.0
  for w in wir_i:
    total += wlr_m.get(w, 0.0) * wir_i[w]
  return total / x_avg


def soft_label(ilr_i: list[float]) -> list[float]:
  """d_i = softmax(ILR_i), with the row max subtracted for stability (Eq. 8)."""
  top = max(ilr_i)
  exps = [math.exp(v - top) for v in ilr_i]
  z = sum(exps)
  return [e / z for e in exps]


# --- Corpus statistics, built with dicts the way the authors' script does --


def _count(tokens: list[str]) -> dict[str, int]:
  """f_{w,x_i}: occurrences of each word in one instance."""
  counts: dict[str, int] = {}
  for w in tokens:
    counts[w] = counts.get(w, 0) + 1
  return counts


def _label_statistics(docs: list[list[str]], multi_hot: np.ndarray):
  """Per-label f_{w,X_m} dicts, S_m, and word -> set of labels with f >= 1."""
  p = multi_hot.shape[1]
  label_tf = [{} for _ in range(p)]
  s = [0 for _ in range(p)]
  word_labels: dict[str, set[int]] = {}
  for i, tokens in enumerate(docs):
    for m in range(p):
      if not multi_hot[i, m]:
        continue
      s[m] += len(tokens)
      for w in tokens:
        label_tf[m][w] = label_tf[m].get(w, 0) + 1
        word_labels.setdefault(w, set()).add(m)
  return label_tf, s, word_labels


def _wlr_table(docs, multi_hot, method, k1, b) -> list[dict[str, float]]:
  """WLR_{w,m} for every word w with f_{w,X_m} >= 1, one dict per label m."""
  p = multi_hot.shape[1]
  label_tf, s, word_labels = _label_statistics(docs, multi_hot)
  s_avg = sum(s) / p if p else 0.0
  table = [{} for _ in range(p)]
  for m in range(p):
    for w, f in label_tf[m].items():
      table[m][w] = wlr(wlw(p, len(word_labels[w]), method),
                        wlc(f, s[m], s_avg, k1, b, method))
  return table


def _wir_table(docs, method, k2) -> list[dict[str, float]]:
  """WIR_{w,i} for every distinct word w of every instance x_i."""
  n = len(docs)
  counts = [_count(tokens) for tokens in docs]
  df: dict[str, int] = {}
  for c in counts:
    for w in c:
      df[w] = df.get(w, 0) + 1
  table = []
  for c in counts:
    row = {}
    for w, f in c.items():
      row[w] = wir(wiw(n, df[w], method), wic(f, k2, method))
    table.append(row)
  return table


def _check(method: str) -> None:
  if method not in METHODS:
    raise ValueError(f"unknown method {method!r}; choose from {METHODS}")


def reference_wlr(texts, multi_hot, method="kwls", tokenizer="word", k1=2.0,
                  b=0.75) -> dict[str, np.ndarray]:
  """WLR_{w,.} as word -> float64 [P] (zeros where f_{w,X_m} = 0) (Eq. 3)."""
  _check(method)
  multi_hot = _as_multi_hot(multi_hot)
  docs = [tokenize(t, tokenizer) for t in texts]
  table = _wlr_table(docs, multi_hot, method, k1, b)
  p = multi_hot.shape[1]
  out = {}
  for tokens in docs:
    for w in tokens:
      if w not in out:
        out[w] = np.array([table[m].get(w, 0.0) for m in range(p)],
                          dtype=np.float64)
  return out


def reference_ilr(texts, multi_hot, method="kwls", tokenizer="word", k1=2.0,
                  b=0.75, k2=2.0) -> np.ndarray:
  """ILR as float64 [N, P] (Eq. 7)."""
  _check(method)
  multi_hot = _as_multi_hot(multi_hot)
  docs = [tokenize(t, tokenizer) for t in texts]
  n, p = multi_hot.shape
  wlr_t = _wlr_table(docs, multi_hot, method, k1, b)
  wir_t = _wir_table(docs, method, k2)
  x_avg = sum(len(tokens) for tokens in docs) / n if n else 0.0
  out = np.zeros((n, p), dtype=np.float64)
  for i in range(n):
    for m in range(p):
      out[i, m] = ilr(wlr_t[m], wir_t[i], x_avg)
  return out


def reference_soft_labels(texts, multi_hot, method="kwls", tokenizer="word",
                          k1=2.0, b=0.75, k2=2.0) -> np.ndarray:
  """Soft labels d_i as float64 [N, P] (Eq. 8)."""
  ilr_all = reference_ilr(texts, multi_hot, method, tokenizer, k1, b, k2)
  out = np.zeros_like(ilr_all)
  for i in range(ilr_all.shape[0]):
    out[i] = soft_label([float(v) for v in ilr_all[i]])
  return out
