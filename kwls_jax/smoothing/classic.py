"""LS-Classic (Szegedy et al. 2016): a mixture of the hard label and the uniform."""

from __future__ import annotations

import numpy as np

from kwls_jax.smoothing.hard_labels import label_csr


def check_epsilon(epsilon: float) -> None:
  """LS-Classic's weight must lie in [0, 1]; else a ValueError."""
  if not 0.0 <= epsilon <= 1.0:
    raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")


def classic_soft_labels(labels: np.ndarray, num_labels: int,
                        epsilon: float = 0.1) -> np.ndarray:
  """(1 - eps) * l_i + eps / p, with a multi-hot l_i first normalised to sum 1.

  An instance without any label gets the uniform distribution.
  """
  check_epsilon(epsilon)
  ptr, lab = label_csr(labels, num_labels)
  n = len(ptr) - 1
  hard = np.zeros((n, num_labels), dtype=np.float64)
  n_lab = np.diff(ptr)
  rows = np.repeat(np.arange(n), n_lab)
  hard[rows, lab] = 1.0 / n_lab[rows]
  hard[n_lab == 0] = 1.0 / num_labels
  return ((1.0 - epsilon) * hard + epsilon / num_labels).astype(np.float32)
