"""Tests for hashed dropout masks and their layer (models/hash_dropout.py)."""

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import hash_dropout as hd


def test_threshold_is_exact_to_2_to_the_32():
  assert hd.drop_threshold(0.1) == round(0.1 * 2**32)
  assert abs(hd.keep_probability(0.1) - 0.9) < 2**-32
  assert hd.drop_threshold(0.0) == 0
  assert hd.drop_threshold(1.0) == 2**32 - 1


def test_mix32_is_a_bijection_with_avalanche():
  x = jnp.arange(1 << 16, dtype=jnp.uint32)
  y = np.asarray(hd.mix32(x))
  assert len(np.unique(y)) == len(y)  # no two inputs share an output
  # Flipping the lowest input bit flips each output bit about half the time.
  flips = np.asarray(hd.mix32(x ^ np.uint32(1))) ^ y
  per_bit = [((flips >> b) & 1).mean() for b in range(32)]
  assert 0.45 < min(per_bit) and max(per_bit) < 0.55


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_keep_mask_rate_and_independence(rate):
  seed = hd.seed_from_key(jax.random.key(1))
  mask = np.asarray(hd.keep_mask(seed, (4, 12, 128, 128), rate))
  p = hd.keep_probability(rate)
  assert abs(mask.mean() - p) < 5 * np.sqrt(p * (1 - p) / mask.size)
  for axis in range(4):  # neighbours along every axis are uncorrelated
    a = np.moveaxis(mask, axis, 0).astype(np.float64)
    corr = np.corrcoef(a[1:].ravel(), a[:-1].ravel())[0, 1]
    assert abs(corr) < 0.01, (axis, corr)
  other = np.asarray(hd.keep_mask(hd.seed_from_key(jax.random.key(2)),
                                  (4, 12, 128, 128), rate))
  disagree = 2 * p * (1 - p)  # two independent masks
  assert abs((mask != other).mean() - disagree) < 0.01


def test_keep_mask_numbers_rows_across_all_leading_axes():
  seed = hd.seed_from_key(jax.random.key(3))
  four = hd.keep_mask(seed, (2, 3, 5, 64), 0.5)
  two = hd.keep_mask(seed, (30, 64), 0.5)
  np.testing.assert_array_equal(np.asarray(four).reshape(30, 64), two)
  assert hd.keep_mask(seed, (), 0.5).shape == ()


# The layer's scaling, fallbacks and bf16 rounding: test_dropout.py tests
# them for both dropout layers.
def test_layer_uses_the_stream_like_nnx_dropout():
  """Same RNG state as nnx.Dropout: checkpoints are interchangeable, and
  the layer's mask is keep_mask of the seed its stream's next key gives."""
  layer = hd.Dropout(0.1, rngs=nnx.Rngs(dropout=0))
  plain = nnx.Dropout(0.1, rngs=nnx.Rngs(dropout=0))
  assert (jax.tree.structure(nnx.state(layer))
          == jax.tree.structure(nnx.state(plain)))
  x = jnp.ones((8, 32))
  y = layer(x, deterministic=False)
  key = nnx.Dropout(0.1, rngs=nnx.Rngs(dropout=0)).rngs()
  want = hd.keep_mask(hd.seed_from_key(key), x.shape, 0.1)
  np.testing.assert_array_equal(np.asarray(y) != 0, want)


_SHARDED = """
import jax, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from kwls_jax.models import hash_dropout as hd
assert jax.device_count() == 2
mesh = Mesh(np.array(jax.devices()), ("data",))
seed = hd.seed_from_key(jax.random.key(11))
f = lambda seed: hd.keep_mask(seed, (8, 3, 20), 0.5)
one = np.asarray(jax.jit(f)(seed))
two = jax.jit(f, out_shardings=NamedSharding(mesh, P("data")))(seed)
assert len(two.sharding.device_set) == 2
np.testing.assert_array_equal(np.asarray(two), one)
print("ok")
"""


def test_masks_do_not_depend_on_batch_sharding(two_devices):
  proc = two_devices(_SHARDED)
  out, err = proc.communicate(timeout=120)
  assert proc.returncode == 0 and out.strip() == "ok", err[-2000:]
