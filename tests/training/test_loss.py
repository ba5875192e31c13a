"""Tests for the Eq. 9 loss against a literal loop over i and j."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kwls_jax
from kwls_jax.training import loss as loss_lib


def _eq9_loop(logits, hard, soft, alpha):
  """Eq. 9 written term by term in float64, straight from the paper."""
  n, p = logits.shape
  total = 0.0
  for i in range(n):
    z = np.exp(logits[i] - logits[i].max())
    o = z / z.sum()
    for j in range(p):
      total += hard[i, j] * math.log(o[j]) - alpha / p * (soft[i, j] - o[j]) ** 2
  return -total / (2 * n * (1 + alpha) ** 2)


def _batch(seed, n=7, p=5):
  rng = np.random.default_rng(seed)
  logits = rng.normal(scale=3.0, size=(n, p))
  ids = rng.integers(0, p, size=n)
  soft = rng.dirichlet(np.ones(p), size=n)
  return logits, ids, soft


def _one_hot(ids, p):
  out = np.zeros((len(ids), p))
  out[np.arange(len(ids)), ids] = 1.0
  return out


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0, 5.0])
def test_matches_literal_loop(alpha):
  logits, ids, soft = _batch(0)
  got = loss_lib.eq9_loss(logits, ids, soft, alpha)
  want = _eq9_loop(logits, _one_hot(ids, 5), soft, alpha)
  np.testing.assert_allclose(float(got), want, rtol=1e-5)


def test_alpha_zero_is_half_mean_cross_entropy():
  logits, ids, soft = _batch(1)
  got = loss_lib.eq9_loss(logits, ids, soft, 0.0)
  ce = optax.softmax_cross_entropy_with_integer_labels(
      jnp.asarray(logits, jnp.float32), jnp.asarray(ids)).mean()
  np.testing.assert_allclose(float(got), float(ce) / 2, rtol=1e-6)


def test_multi_hot_labels():
  logits, _, soft = _batch(2)
  hard = (np.random.default_rng(3).random(logits.shape) < 0.4).astype(np.int32)
  hard[0] = 0  # An instance with no label contributes only the MSE term.
  got = loss_lib.eq9_loss(logits, hard, soft, 0.7)
  np.testing.assert_allclose(
      float(got), _eq9_loop(logits, hard, soft, 0.7), rtol=1e-5)
  # Multi-hot rows that are one-hot give the same value as int ids.
  ids = np.argmax(logits, axis=-1)
  np.testing.assert_allclose(
      float(loss_lib.eq9_loss(logits, _one_hot(ids, 5), soft, 0.7)),
      float(loss_lib.eq9_loss(logits, ids, soft, 0.7)), rtol=1e-6)


def test_gradient_finite_and_jit_equals_eager():
  logits, ids, soft = _batch(4)
  logits = jnp.asarray(logits * 20, jnp.float32)  # Saturated softmax.
  grad = jax.grad(loss_lib.eq9_loss)(logits, ids, soft, 0.5)
  assert grad.shape == logits.shape
  assert bool(jnp.all(jnp.isfinite(grad)))
  eager = loss_lib.eq9_loss(logits, ids, soft, 0.5)
  jitted = jax.jit(loss_lib.eq9_loss)(logits, ids, soft, 0.5)
  np.testing.assert_allclose(float(jitted), float(eager), rtol=1e-6)
  grad_alpha = jax.grad(loss_lib.eq9_loss, argnums=3)(logits, ids, soft, 0.5)
  assert bool(jnp.isfinite(grad_alpha))


def test_gradient_matches_finite_difference():
  logits, ids, soft = _batch(5, n=3, p=4)
  logits = jnp.asarray(logits, jnp.float32)
  grad = np.asarray(jax.grad(loss_lib.eq9_loss)(logits, ids, soft, 0.8))
  eps = 1e-3
  for i, j in [(0, 0), (1, 2), (2, 3)]:
    hi = np.array(logits, np.float64)
    lo = hi.copy()
    hi[i, j] += eps
    lo[i, j] -= eps
    fd = (_eq9_loop(hi, _one_hot(ids, 4), soft, 0.8)
          - _eq9_loop(lo, _one_hot(ids, 4), soft, 0.8)) / (2 * eps)
    np.testing.assert_allclose(grad[i, j], fd, rtol=1e-3, atol=1e-5)


def test_two_head_with_equal_heads_is_eq9():
  """Through the package's top level, as the README shows them."""
  logits, ids, soft = _batch(6)
  np.testing.assert_allclose(
      float(kwls_jax.eq9_two_head_loss(logits, logits, ids, soft, 0.4)),
      float(kwls_jax.eq9_loss(logits, ids, soft, 0.4)), rtol=1e-6)


def test_two_head_splits_terms_between_heads():
  logits, ids, soft = _batch(7)
  other = np.random.default_rng(8).normal(size=logits.shape)
  n, p = logits.shape
  alpha = 0.5
  z = np.exp(other - other.max(-1, keepdims=True))
  o2 = z / z.sum(-1, keepdims=True)
  ce = _eq9_loop(logits, _one_hot(ids, p), soft, 0.0) * 2  # Mean CE.
  want = (ce + alpha / (n * p) * np.sum((soft - o2) ** 2)) / (
      2 * (1 + alpha) ** 2)
  got = loss_lib.eq9_two_head_loss(logits, other, ids, soft, alpha)
  np.testing.assert_allclose(float(got), want, rtol=1e-5)
  grads = jax.grad(loss_lib.eq9_two_head_loss, argnums=(0, 1))(
      jnp.asarray(logits, jnp.float32), jnp.asarray(other, jnp.float32),
      ids, soft, alpha)
  assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


def test_bad_shapes_raise():
  logits, ids, soft = _batch(9)
  with pytest.raises(ValueError):
    loss_lib.eq9_loss(logits, ids, soft[:, :3], 0.1)
  with pytest.raises(ValueError):
    loss_lib.eq9_loss(logits, np.zeros((7, 3)), soft, 0.1)


def test_mask_restricts_eq9_to_the_real_rows():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(6, 4)).astype(np.float32)
  labels = rng.integers(0, 4, 6)
  soft = rng.dirichlet(np.ones(4), 6).astype(np.float32)
  full = loss_lib.eq9_loss(logits, labels, soft, 0.7, np.ones(6))
  assert np.isclose(full, loss_lib.eq9_loss(logits, labels, soft, 0.7))
  mask = np.array([1, 1, 1, 1, 0, 0], np.float32)
  part = loss_lib.eq9_loss(logits, labels, soft, 0.7, mask)
  assert np.isclose(part, loss_lib.eq9_loss(logits[:4], labels[:4], soft[:4],
                                            0.7))
  garbage = logits.copy()
  garbage[4:] = 1e4
  assert np.isclose(
      loss_lib.eq9_loss(garbage, labels, soft, 0.7, mask), part)


def test_mask_restricts_the_two_head_loss_to_the_real_rows():
  k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
  logits = jax.random.normal(k1, (6, 4))
  soft_logits = jax.random.normal(k2, (6, 4))
  d = jax.nn.softmax(jax.random.normal(k3, (6, 4)))
  labels = jnp.array([0, 1, 2, 3, 0, 1])
  mask = jnp.array([1, 1, 1, 0, 1, 0], jnp.float32)
  got = loss_lib.eq9_two_head_loss(logits, soft_logits, labels, d, 0.7, mask)
  real = np.flatnonzero(mask)
  want = loss_lib.eq9_two_head_loss(logits[real], soft_logits[real],
                                    labels[real], d[real], 0.7)
  np.testing.assert_allclose(got, want, rtol=1e-6)
  single = loss_lib.eq9_loss(logits, labels, d, 0.7, mask)
  assert abs(float(got) - float(single)) > 1e-4


def test_mask_must_be_one_per_row():
  logits = np.zeros((3, 2), np.float32)
  soft = np.full((3, 2), 0.5, np.float32)
  with pytest.raises(ValueError, match="mask"):
    loss_lib.eq9_loss(logits, np.array([0, 1, 0]), soft, 0.1, np.ones(4))
