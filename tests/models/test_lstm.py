"""Tests for the BiLSTM classifier: shapes, padding invariance, determinism."""

from flax import nnx
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import lstm

IDS = np.array([[5, 6, 7, 8, 9, 0], [4, 3, 0, 0, 0, 0], [2, 2, 2, 2, 2, 2]],
               np.int32)


@nnx.jit
def _run(model, ids):
  return model(ids, ids != 0, deterministic=True)


def _model(seed=0, **kw):
  cfg = dict(embed_dim=12, hidden_size=10)
  cfg.update(kw)
  return lstm.BiLSTMClassifier(30, 3, rngs=nnx.Rngs(seed), **cfg)


@pytest.mark.parametrize("pooling", lstm.POOLINGS)
def test_shapes_and_right_padding_changes_nothing(pooling):
  model = _model(pooling=pooling)
  logits = _run(model, IDS)
  assert logits.shape == (3, 3)
  padded = np.pad(IDS, ((0, 0), (0, 7)))
  np.testing.assert_allclose(logits, _run(model, padded), atol=1e-6)


def test_backward_direction_starts_at_last_real_token():
  model = _model()
  x = model.embed(jnp.asarray(IDS[1:2, :2]))
  full = model.encode(x)  # No padding at all.
  padded = model.encode(jnp.pad(x, ((0, 0), (0, 4), (0, 0))), jnp.array([2]))
  np.testing.assert_allclose(full, padded[:, :2], atol=1e-6)


def test_masked_pool():
  h = jnp.arange(12.0).reshape(1, 4, 3) - 5
  mask = jnp.array([[True, True, False, False]])
  np.testing.assert_allclose(lstm.masked_pool(h, mask, "mean")[0],
                             [-3.5, -2.5, -1.5])
  np.testing.assert_allclose(lstm.masked_pool(h, mask, "max")[0],
                             [-2.0, -1.0, 0.0])
  empty = lstm.masked_pool(h, jnp.zeros_like(mask), "mean_max")
  np.testing.assert_array_equal(empty, 0)


def test_determinism_and_bad_pooling():
  a, b = _model(0), _model(0)
  np.testing.assert_array_equal(_run(a, IDS), _run(b, IDS))
  assert not np.allclose(_run(a, IDS), _run(_model(1), IDS))
  with pytest.raises(ValueError):
    _model(pooling="sum")
