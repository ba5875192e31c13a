"""Hard labels l_i as CSR rows: numpy only, so LS-Classic needs no JAX."""

from __future__ import annotations

import numpy as np


def label_csr(labels: np.ndarray, num_labels: int):
  """Hard labels as (ptr [N+1], label ids) from ids [N] or multi-hot [N, P]."""
  labels = np.asarray(labels)
  if labels.ndim == 1:
    if labels.size and (labels.min() < 0 or labels.max() >= num_labels):
      raise ValueError(
          f"label ids must lie in [0, {num_labels}); got min {labels.min()}, "
          f"max {labels.max()}")
    return np.arange(len(labels) + 1, dtype=np.int64), labels.astype(np.int64)
  if labels.ndim != 2 or labels.shape[1] != num_labels:
    raise ValueError(
        f"multi-hot labels must be [N, {num_labels}], got {labels.shape}")
  rows, cols = np.nonzero(labels)
  ptr = np.zeros(len(labels) + 1, dtype=np.int64)
  np.cumsum(np.bincount(rows, minlength=len(labels)), out=ptr[1:])
  return ptr, cols.astype(np.int64)
