"""Tests for the 16-bit-draw dropout (kwls_jax.models.dropout), and the layer
contract it shares with hash_dropout.Dropout."""

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import dropout
from kwls_jax.models import hash_dropout


def test_threshold_and_keep_probability():
  assert dropout.drop_threshold(0.1) == 6554
  assert dropout.keep_probability(0.1) == 1 - 6554 / 65536
  for rate in (0.05, 0.1, 0.3, 0.5):
    assert abs(dropout.keep_probability(rate) - (1 - rate)) <= 2**-17


@pytest.mark.parametrize("shape", [(3, 5), (7,), (2, 3, 9), (4, 1024)])
def test_bits16_shape_and_distinct_keys(shape):
  a = dropout.bits16(jax.random.key(0), shape)
  b = dropout.bits16(jax.random.key(1), shape)
  assert a.shape == shape and a.dtype == jnp.uint16
  assert not np.array_equal(a, b)
  np.testing.assert_array_equal(a, dropout.bits16(jax.random.key(0), shape))


def test_bits16_are_uniform_and_the_four_lanes_independent():
  n = 1 << 20
  draws = np.asarray(dropout.bits16(jax.random.key(3), (256, n // 256)),
                     np.int64)
  # Each of the four draws cut from one threefry output, on its own: the
  # 16 high-nibble bins are uniform (chi-square, 15 dof, p ~ 1e-6 at 55).
  lanes = draws.reshape(-1, 4)
  for lane in range(4):
    counts = np.bincount(lanes[:, lane] >> 12, minlength=16)
    expected = len(lanes) / 16
    assert np.sum((counts - expected) ** 2 / expected) < 55, lane
  # ... and uncorrelated with each other.
  corr = np.corrcoef(lanes.T.astype(np.float64))
  assert np.max(np.abs(corr - np.eye(4))) < 0.01
  # No two rows are the same stream (counters are per element, not per row).
  assert not np.array_equal(draws[0], draws[1])


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_keep_mask_rate(rate):
  n = 1 << 21
  mask = np.asarray(dropout.keep_mask(jax.random.key(5), (64, n // 64), rate))
  p = dropout.keep_probability(rate)
  sigma = np.sqrt(p * (1 - p) / n)
  assert abs(mask.mean() - p) < 5 * sigma


def test_rbg_keys_use_jax_random_bits():
  key = jax.random.key(0, impl="rbg")
  mask = dropout.keep_mask(key, (128, 256), 0.1)
  assert abs(float(np.mean(mask)) - 0.9) < 0.01


# The layer contract both mask kinds share (dropout.KeepMaskDropout): this
# module's 16-bit draws and hash_dropout's hashed masks.
LAYERS = {"bits16": (dropout.Dropout, dropout.keep_probability),
          "hash": (hash_dropout.Dropout, hash_dropout.keep_probability)}


def _module(rate=0.1, kind="bits16", **kw):
  return LAYERS[kind][0](rate, rngs=nnx.Rngs(dropout=0), **kw)


@pytest.mark.parametrize("kind", LAYERS)
def test_module_scales_kept_values_and_is_unbiased(kind):
  x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 4096)),
                  jnp.float32) + 2.0
  layer = _module(kind=kind)
  keep_probability = LAYERS[kind][1](0.1)
  y = np.asarray(layer(x, deterministic=False))
  kept = y != 0
  np.testing.assert_allclose(y[kept], np.asarray(x)[kept] / keep_probability,
                             rtol=1e-6)
  assert abs(kept.mean() - keep_probability) < 0.003
  assert abs(y.mean() - float(x.mean())) < 0.01
  # A new mask every call: the module's RNG stream advances.
  assert not np.array_equal(kept, np.asarray(layer(x, deterministic=False)) != 0)


@pytest.mark.parametrize("kind", LAYERS)
def test_module_bf16_scale_is_rounded_once(kind):
  x = jnp.ones((64, 1024), jnp.bfloat16)
  y = np.asarray(_module(kind=kind)(x, deterministic=False), np.float32)
  kept = y[y != 0]
  # Every kept value is 1/keep_probability computed in float32 and rounded
  # to bf16 once.
  np.testing.assert_array_equal(
      kept, np.float32(jnp.asarray(1 / LAYERS[kind][1](0.1), jnp.bfloat16)))


@pytest.mark.parametrize("kind", LAYERS)
def test_module_deterministic_and_fallbacks(kind):
  x = jnp.ones((8, 16))
  module = lambda *a, **kw: _module(*a, kind=kind, **kw)  # noqa: E731
  np.testing.assert_array_equal(module()(x, deterministic=True), x)
  np.testing.assert_array_equal(module(0.0)(x, deterministic=False), x)
  np.testing.assert_array_equal(module(1.0)(x, deterministic=False), 0 * x)
  # Broadcast dimensions go to nnx.Dropout: one mask per column.
  y = np.asarray(module(0.5, broadcast_dims=(0,))(x, deterministic=False))
  assert np.all((y == 0).all(axis=0) | (y != 0).all(axis=0))
  with pytest.raises(ValueError):
    module(deterministic=None)(x)


_SHARDED = """
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from kwls_jax.models import dropout
assert jax.device_count() == 2
mesh = Mesh(np.array(jax.devices()), ("data",))
shape = (8, 3, 20)
f = lambda key: dropout.bits16(key, shape)
one = np.asarray(jax.jit(f)(jax.random.key(11)))
two = jax.jit(f, out_shardings=NamedSharding(mesh, P("data")))(
    jax.random.key(11))
assert len(two.sharding.device_set) == 2
np.testing.assert_array_equal(np.asarray(two), one)
print("ok")
"""


def test_draws_do_not_depend_on_batch_sharding(two_devices):
  proc = two_devices(_SHARDED)
  out, err = proc.communicate(timeout=120)
  assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
