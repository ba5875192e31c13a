"""The soft labels d_i of the training split (paper footnote 2: train only).

* none: d = the hard labels (alpha is 0, so d is never used).
* classic / tfidf / kwls: `kwls_jax.soft_labels` on the training texts, or a
  precomputed float32 [N_train, P] .npy (`kwls soft-labels` writes one).
* distill (LS-Distill, Zhang & Sabuncu 2020): d_i is the softmax prediction,
  for training instance i, of the same model trained on hard labels. Train a
  teacher run with method none (it writes predictions/train_probs.npy, the
  training split in input order), then set `teacher_run` to its directory.
"""

from __future__ import annotations

import os

import numpy as np

from kwls_jax.training.config import ConfigError, TrainConfig

TEACHER_PROBS = os.path.join("predictions", "train_probs.npy")


def _load(path: str, n: int, p: int, what: str) -> np.ndarray:
  try:
    d = np.load(path)
  except (OSError, ValueError) as e:
    raise ConfigError(f"{what}: cannot read {path}: {e}") from None
  if d.shape != (n, p):
    raise ConfigError(f"{what}: {path} has shape {list(d.shape)}, the training "
                      f"split needs [{n}, {p}]")
  d = d.astype(np.float32, copy=False)
  if not np.all(np.isfinite(d)) or np.any(d < 0) or not np.allclose(
      d.sum(1), 1.0, atol=1e-3):
    raise ConfigError(f"{what}: {path} rows must be distributions (>= 0, sum 1)")
  return d


def training_soft_labels(config: TrainConfig, texts: list[str],
                         labels: np.ndarray, num_labels: int) -> np.ndarray:
  """float32 [N_train, P] soft labels for `config.method`."""
  n = len(labels)
  if config.soft_labels:
    return _load(config.soft_labels, n, num_labels, "soft_labels")
  if config.method == "distill":
    return _load(os.path.join(config.teacher_run, TEACHER_PROBS), n,
                 num_labels, "teacher_run")
  if config.method == "none":  # l_i, a multi-hot row spread evenly
    hard = (np.eye(num_labels, dtype=np.float32)[labels] if labels.ndim == 1
            else np.asarray(labels, np.float32))
    return hard / hard.sum(axis=1, keepdims=True)
  from kwls_jax.smoothing import api  # pylint: disable=g-import-not-at-top
  s = config.smoothing
  return api.soft_labels(texts, labels, num_labels, method=config.method,
                         tokenizer=s.tokenizer, k1=s.k1, b=s.b, k2=s.k2,
                         epsilon=s.epsilon).astype(np.float32, copy=False)
