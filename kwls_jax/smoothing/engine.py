"""KWLS / LS-TFIDF in bounded memory: counts -> WLR [V, P] -> chunked ILR -> soft labels.

Host (numpy) side: the label-level counts f_{w,X_m}, S_m and the document
frequencies, all O(nnz) bincounts. Device (jitted JAX) side: every equation.
Instances are streamed through one jitted function in chunks of a fixed number
of (instance, word) pairs, padded to power-of-two buckets, so compilations do
not grow with the corpus and a chunk's working set stays bounded.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from kwls_jax.smoothing import relevance
from kwls_jax.smoothing.hard_labels import label_csr
from kwls_jax.smoothing.tokenize import WordCounts

MAX_CHUNK_PAIRS = 1 << 19
_MIN_BUCKET = 1 << 10


@dataclasses.dataclass
class LabelStats:
  """Everything Eqs. 1-6 need, counted once on the host."""

  f_label: np.ndarray  # [V, P] f_{w,X_m}
  label_df: np.ndarray  # [V] #labels m with f_{w,X_m} >= 1
  df: np.ndarray  # [V] #instances containing w
  s_label: np.ndarray  # [P] S_m
  num_instances: int
  x_avg: float  # X_avg of Eq. 7


@dataclasses.dataclass
class SoftLabelResult:
  """Soft labels with the quantities that explain them."""

  soft_labels: np.ndarray  # [N, P] Eq. 8
  ilr: np.ndarray  # [N, P] Eq. 7
  wlr: np.ndarray  # [V, P] Eq. 3
  wiw: np.ndarray  # [V] Eq. 5 (or its TF-IDF counterpart)
  counts: WordCounts
  stats: LabelStats
  method: str
  k2: float


def _next_pow2(n: int) -> int:
  return 1 << max(int(n) - 1, 0).bit_length()


def label_stats(counts: WordCounts, labels: np.ndarray, num_labels: int,
                max_pairs: int = 1 << 20) -> LabelStats:
  """f_{w,X_m}, S_m (Eq. 1), label and instance document frequencies (Eqs. 2, 5).

  Streams over instances `max_pairs` pairs at a time, so the temporaries stay
  bounded however large the corpus.
  """
  if len(labels) != counts.num_docs:
    raise ValueError(
        f"{counts.num_docs} texts but {len(labels)} labels")
  ptr, lab = label_csr(labels, num_labels)
  v, p = counts.vocab_size, num_labels
  n_lab = np.diff(ptr)
  f_label = np.zeros(p * v, dtype=np.float64)
  df = np.zeros(v, dtype=np.int64)
  key_type = np.int32 if p * v < 2**31 else np.int64
  for a, b in plan_chunks(counts.doc_ptr, max_pairs):
    lo, hi = counts.doc_ptr[a], counts.doc_ptr[b]
    word, count = counts.word[lo:hi], counts.count[lo:hi]
    pairs_per_doc = np.diff(counts.doc_ptr[a:b + 1])
    if labels.ndim == 1:  # one label per instance
      key = np.repeat((lab[a:b] * v).astype(key_type), pairs_per_doc)
      key += word
    else:  # an instance in several X_m counts once in each
      reps = np.repeat(n_lab[a:b], pairs_per_doc)
      src = np.repeat(np.arange(hi - lo), reps)
      first_label = np.repeat(ptr[a:b], pairs_per_doc)[src]
      within = np.arange(len(src)) - np.repeat(np.cumsum(reps) - reps, reps)
      key = (lab[first_label + within] * v + word[src]).astype(key_type)
      count = count[src]
    f_label += np.bincount(key, weights=count, minlength=p * v)
    df += np.bincount(word, minlength=v)
  f_label = f_label.reshape(p, v).T
  doc_of_label = np.repeat(np.arange(len(n_lab)), n_lab)
  s_label = np.bincount(lab, weights=counts.length[doc_of_label], minlength=p)
  n = counts.num_docs
  return LabelStats(
      f_label=f_label,
      label_df=(f_label > 0).sum(axis=1),
      df=df,
      s_label=s_label,
      num_instances=n,
      x_avg=float(counts.length.mean()) if n else 0.0)


@functools.partial(jax.jit, static_argnames=("method",))
def word_tables(f_label, label_df, df, s_label, num_instances, k1, b, method):
  """WLR [V, P] (Eqs. 1-3) and WIW [V] (Eq. 5)."""
  wlc_fn, wlw_fn, _, wiw_fn = relevance.WEIGHTINGS[method]
  num_labels = f_label.shape[1]
  wlr = relevance.wlr(wlw_fn(label_df, num_labels),
                      wlc_fn(f_label, s_label, k1, b))
  return wlr, wiw_fn(df, num_instances)


@functools.partial(jax.jit, static_argnames=("method", "num_segments"))
def chunk_soft_labels(wlr, wiw, word, count, segment, x_avg, k2, method,
                      num_segments):
  """ILR (Eqs. 4, 6, 7) and soft labels (Eq. 8) for one chunk of instances."""
  wic_fn = relevance.WEIGHTINGS[method][2]
  wir = relevance.wir(wiw[word], wic_fn(count, k2))
  ilr = relevance.ilr(wlr[word], wir, segment, num_segments, x_avg)
  return ilr, relevance.soft_label(ilr)


def plan_chunks(doc_ptr: np.ndarray, max_pairs: int):
  """Greedy instance ranges [a, b) with at most `max_pairs` pairs and instances.

  An instance with more distinct words than `max_pairs` gets a chunk alone.
  """
  n = len(doc_ptr) - 1
  out, a = [], 0
  while a < n:
    b = int(np.searchsorted(doc_ptr, doc_ptr[a] + max_pairs, side="right")) - 1
    b = min(max(b, a + 1), a + max_pairs, n)
    out.append((a, b))
    a = b
  return out


def _pad(x: np.ndarray, size: int, value) -> np.ndarray:
  out = np.full(size, value, dtype=x.dtype)
  out[:len(x)] = x
  return out


def compute(counts: WordCounts,
            labels: np.ndarray,
            num_labels: int,
            method: str = "kwls",
            k1: float = 2.0,
            b: float = 0.75,
            k2: float = 2.0,
            dtype=None,
            max_chunk_pairs: int = MAX_CHUNK_PAIRS,
            progress: Callable[[int], None] | None = None) -> SoftLabelResult:
  """Soft labels (Eqs. 1-8) for counted instances.

  Args:
    counts: from `tokenize.count_words`.
    labels: int ids [N] or multi-hot [N, P].
    num_labels: P.
    method: "kwls" or "tfidf".
    dtype: float dtype of the computation; float32 unless jax_enable_x64 is
      on, then float64.
    max_chunk_pairs: (instance, word) pairs per jitted call.
    progress: called with the number of instances done after each chunk.
  """
  if method not in relevance.WEIGHTINGS:
    raise ValueError(f"method must be one of {sorted(relevance.WEIGHTINGS)}")
  if num_labels < 1:
    raise ValueError("num_labels must be >= 1")
  labels = np.asarray(labels)
  if dtype is None:
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
  stats = label_stats(counts, labels, num_labels)
  # numpy in, jitted functions only: an eager jnp op compiles once per shape.
  np_dtype = np.dtype(dtype)
  v_pad = max(_next_pow2(counts.vocab_size), _MIN_BUCKET)
  pad_rows = lambda x: np.concatenate(
      [x, np.zeros((v_pad - len(x),) + x.shape[1:], x.dtype)]).astype(np_dtype)
  scalar = lambda x: np.asarray(x, np_dtype)
  wlr, wiw = word_tables(
      pad_rows(stats.f_label), pad_rows(stats.label_df), pad_rows(stats.df),
      stats.s_label.astype(np_dtype), scalar(stats.num_instances), scalar(k1),
      scalar(b), method=method)
  x_avg, k2_ = scalar(stats.x_avg), scalar(k2)
  n = counts.num_docs
  ilr = np.zeros((n, num_labels), dtype=np_dtype)
  soft = np.zeros((n, num_labels), dtype=np_dtype)
  pending = []

  def drain():
    a_, b_, ilr_c, soft_c = pending.pop(0)
    ilr[a_:b_] = np.asarray(ilr_c)[:b_ - a_]
    soft[a_:b_] = np.asarray(soft_c)[:b_ - a_]
    if progress is not None:
      progress(b_ - a_)

  for a, b_ in plan_chunks(counts.doc_ptr, max_chunk_pairs):
    lo, hi = counts.doc_ptr[a], counts.doc_ptr[b_]
    size = max(_next_pow2(max(hi - lo, b_ - a)), _MIN_BUCKET)
    segment = np.repeat(np.arange(b_ - a, dtype=np.int32),
                        np.diff(counts.doc_ptr[a:b_ + 1]))
    out = chunk_soft_labels(
        wlr, wiw,
        _pad(counts.word[lo:hi], size, 0),
        _pad(counts.count[lo:hi], size, 0).astype(np_dtype),
        _pad(segment, size, size),  # padding: a dropped segment
        x_avg, k2_, method=method, num_segments=size)
    pending.append((a, b_) + tuple(out))
    if len(pending) > 2:  # keep two chunks in flight
      drain()
  while pending:
    drain()
  return SoftLabelResult(
      soft_labels=soft, ilr=ilr,
      wlr=np.asarray(wlr)[:counts.vocab_size],
      wiw=np.asarray(wiw)[:counts.vocab_size],
      counts=counts, stats=stats, method=method, k2=k2)
