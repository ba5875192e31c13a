"""LS-Classic: (1 - eps) * l_i + eps / p."""

import numpy as np
import pytest

import kwls_jax


def test_single_label():
  got = kwls_jax.soft_labels(["x"] * 3, [0, 2, 1], 4, method="classic",
                             epsilon=0.2)
  want = np.full((3, 4), 0.05)
  want[[0, 1, 2], [0, 2, 1]] += 0.8
  np.testing.assert_allclose(got, want, atol=1e-7)
  assert got.dtype == np.float32


def test_multi_label_and_no_label():
  multi_hot = np.array([[1, 1, 0], [0, 0, 0]], bool)
  got = kwls_jax.soft_labels(["x", "y"], multi_hot, method="classic",
                             epsilon=0.3)
  np.testing.assert_allclose(got[0], [0.45, 0.45, 0.1], atol=1e-7)
  np.testing.assert_allclose(got[1], 1 / 3, atol=1e-7)


def test_epsilon_bounds():
  with pytest.raises(ValueError, match="epsilon"):
    kwls_jax.soft_labels(["x"], [0], 2, method="classic", epsilon=1.5)
