"""The Python entry point: `soft_labels(texts, labels, num_labels, method=...)`."""

from __future__ import annotations

import contextlib
import math
from typing import Sequence

import numpy as np

METHODS = ("kwls", "tfidf", "classic")


def _num_labels(labels: np.ndarray, num_labels: int | None) -> int:
  if num_labels is not None:
    return int(num_labels)
  if labels.ndim == 2:
    return labels.shape[1]
  return int(labels.max()) + 1 if labels.size else 1


def check_hyperparameters(k1: float, b: float, k2: float) -> None:
  """k1 > 0 and 0 <= b <= 1 (Eq. 1), k2 > 0 (Eq. 4), all finite; else a
  ValueError naming the one that is not (NaN soft labels otherwise)."""
  for name, value, ok in (("k1", k1, lambda v: v > 0),
                          ("b", b, lambda v: 0 <= v <= 1),
                          ("k2", k2, lambda v: v > 0)):
    if not (math.isfinite(value) and ok(value)):
      bound = "lie in [0, 1]" if name == "b" else "be a finite number > 0"
      raise ValueError(f"{name} must {bound}, got {value}")


def count(texts: Sequence[str], tokenizer: str = "word",
          progress: bool = False):
  """f_{w,x_i} for every distinct word of every instance (`WordCounts`)."""
  from kwls_jax.smoothing import tokenize  # pylint: disable=g-import-not-at-top
  with _progress_bar(len(texts), progress, "counting words") as bar:
    return tokenize.count_words(texts, tokenizer,
                                progress=None if bar is None else bar.update)


def from_counts(counts, labels, num_labels: int | None = None,
                method: str = "kwls", k1: float = 2.0, b: float = 0.75,
                k2: float = 2.0, progress: bool = False):
  """KWLS or LS-TFIDF (Eqs. 1-8) from word counts (`SoftLabelResult`)."""
  from kwls_jax.smoothing import engine  # pylint: disable=g-import-not-at-top
  check_hyperparameters(k1, b, k2)
  labels = np.asarray(labels)
  p = _num_labels(labels, num_labels)
  with _progress_bar(counts.num_docs, progress, "soft labels") as bar:
    return engine.compute(counts, labels, p, method=method, k1=k1, b=b, k2=k2,
                          progress=None if bar is None else bar.update)


def compute_soft_labels(texts: Sequence[str],
                        labels,
                        num_labels: int | None = None,
                        method: str = "kwls",
                        tokenizer: str = "word",
                        k1: float = 2.0,
                        b: float = 0.75,
                        k2: float = 2.0,
                        progress: bool = False):
  """KWLS or LS-TFIDF with everything that explains the result (`SoftLabelResult`)."""
  if len(labels) != len(texts):
    raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
  check_hyperparameters(k1, b, k2)  # before counting, which may take long
  return from_counts(count(texts, tokenizer, progress), labels, num_labels,
                     method, k1, b, k2, progress)


def soft_labels(texts: Sequence[str],
                labels,
                num_labels: int | None = None,
                method: str = "kwls",
                tokenizer: str = "word",
                k1: float = 2.0,
                b: float = 0.75,
                k2: float = 2.0,
                epsilon: float = 0.1,
                progress: bool = False) -> np.ndarray:
  """Soft labels d_i [N, P] (float32, rows sum to 1) for hard labels and texts.

  Args:
    texts: the N instances.
    labels: int label ids [N], or a multi-hot [N, P] array (multi-label).
    num_labels: P; defaults to max label + 1 (or the multi-hot width).
    method: "kwls" (Eqs. 1-8), "tfidf" (LS-TFIDF) or "classic" (LS-Classic).
    tokenizer: "word" (lowercase, Unicode word characters) or "whitespace"
      (Python's str.split()).
    k1, b: Eq. 1 hyperparameters. k2: Eq. 4 hyperparameter.
    epsilon: LS-Classic's smoothing weight.
    progress: show a progress bar on stderr.
  """
  if method not in METHODS:
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")
  labels = np.asarray(labels)
  if method == "classic":
    from kwls_jax.smoothing.classic import classic_soft_labels  # pylint: disable=g-import-not-at-top
    if len(labels) != len(texts):
      raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    return classic_soft_labels(labels, _num_labels(labels, num_labels), epsilon)
  result = compute_soft_labels(texts, labels, num_labels, method, tokenizer,
                               k1, b, k2, progress)
  return result.soft_labels.astype(np.float32, copy=False)


@contextlib.contextmanager
def _progress_bar(total: int, enabled: bool, desc: str):
  if not enabled:
    yield None
    return
  from tqdm.auto import tqdm  # pylint: disable=g-import-not-at-top
  # disable=None: shown only when stderr is a terminal.
  with tqdm(total=total, desc=desc, unit="doc", leave=False,
            disable=None) as bar:
    yield bar
