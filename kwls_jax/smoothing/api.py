"""The Python entry point: `soft_labels(texts, labels, num_labels, method=...)`."""

from __future__ import annotations

from typing import Sequence

import numpy as np

METHODS = ("kwls", "tfidf", "classic")


def _num_labels(labels: np.ndarray, num_labels: int | None) -> int:
  if num_labels is not None:
    return int(num_labels)
  if labels.ndim == 2:
    return labels.shape[1]
  return int(labels.max()) + 1 if labels.size else 1


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
  from kwls_jax.smoothing import engine, tokenize  # pylint: disable=g-import-not-at-top
  labels = np.asarray(labels)
  p = _num_labels(labels, num_labels)
  if len(labels) != len(texts):
    raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
  bar = _progress_bar(len(texts), progress)
  counts = tokenize.count_words(texts, tokenizer,
                                progress=bar.update if bar else None)
  if bar:
    bar.reset()
    bar.set_description("soft labels")
  result = engine.compute(counts, labels, p, method=method, k1=k1, b=b, k2=k2,
                          progress=bar.update if bar else None)
  if bar:
    bar.close()
  return result


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


def _progress_bar(total: int, enabled: bool):
  if not enabled:
    return None
  from tqdm.auto import tqdm  # pylint: disable=g-import-not-at-top
  return tqdm(total=total, desc="counting words", unit="doc", leave=False,
              disable=None)  # off when stderr is not a terminal
