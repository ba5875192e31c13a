"""Dropout masks as a counter-based hash of the element's position.

An element at (row, col) of a tensor viewed as [rows, last axis] is kept
when bits(seed, row, col) >= round(rate * 2^32), so the rate is exact to
2^-33. bits is lowbias32 (C. Wellons; a bijective avalanche hash of uint32)
applied twice to the column, keyed by a per-row key that hashes the row with
the call's seed (two uint32 words drawn from the layer's PRNG key).

No random numbers are materialised: the mask is a handful of integer
operations per element on iota, which XLA fuses into the op that applies it,
and which a kernel can recompute in its backward pass instead of storing it
(kwls_jax/models/attention_kernel.py draws the same masks). Rows are numbered
across the whole tensor, so batch sharding partitions the mask as it
partitions the inputs. `Dropout` is the layer (BERT's `dropout_draws: hash`).
"""

from __future__ import annotations

from flax import nnx
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np

from kwls_jax.models import dropout as dropout_lib


def mix32(x):
  """lowbias32: a bijective avalanche hash of uint32 values."""
  x = x ^ (x >> 16)
  x = x * np.uint32(0x7FEB352D)
  x = x ^ (x >> 15)
  x = x * np.uint32(0x846CA68B)
  return x ^ (x >> 16)


def drop_threshold(rate: float) -> int:
  """The 32-bit draw below which an element is dropped: round(rate * 2^32)."""
  return min(int(round(float(rate) * 2.0**32)), 2**32 - 1)


def keep_probability(rate: float) -> float:
  """The exact keep probability of keep_mask: 1 - threshold / 2^32."""
  return 1.0 - drop_threshold(rate) / 2.0**32


def seed_from_key(key: jax.Array) -> jax.Array:
  """The two uint32 words of a mask's seed, drawn from a JAX PRNG key."""
  return jax.random.bits(key, (2,), jnp.uint32)


def row_keys(seed, rows):
  """A uint32 key per row index (uint32 array) from the seed's two words."""
  return mix32(seed[0] ^ mix32(rows + seed[1]))


def bits(keys, cols):
  """The 32-bit draws of rows keyed `keys` [R, 1] at columns `cols` [1, C]."""
  return mix32(mix32(cols ^ keys) + keys)


def keep_mask(seed: jax.Array, shape: tuple[int, ...], rate: float):
  """Bernoulli keep mask of `shape`, P(keep) = keep_probability(rate).

  Rows are the positions in all axes but the last, numbered row-major (past
  2^32 they wrap); the mask is built in `shape` itself (no reshape), so it
  shards as the tensor it is applied to.
  """
  if not shape:
    return keep_mask(seed, (1,), rate)[0]
  shape = tuple(shape)
  lead = shape[:-1] + (1,)
  rows = jnp.zeros(lead, jnp.uint32)
  stride = 1
  for axis in reversed(range(len(shape) - 1)):
    rows = rows + lax.broadcasted_iota(jnp.uint32, lead, axis) * np.uint32(
        stride % 2**32)
    stride *= shape[axis]
  cols = lax.broadcasted_iota(jnp.uint32, (1,) * (len(shape) - 1)
                              + shape[-1:], len(shape) - 1)
  draws = bits(row_keys(jnp.asarray(seed, jnp.uint32), rows), cols)
  return draws >= np.uint32(drop_threshold(rate))


class Dropout(dropout_lib.KeepMaskDropout):
  """nnx.Dropout with keep_mask's hashed masks; same state, same arguments.

  Falls back to nnx.Dropout for broadcast dimensions, a key passed at call
  time, or a rate of 0 or 1.
  """

  def mask_seed(self, deterministic: bool | None = None) -> jax.Array | None:
    """The seed of this call's keep_mask, or None when dropout is off.

    Draws one key from the layer's stream, as a call does; a fused kernel
    (attention_kernel.py) makes the mask from it.
    """
    if deterministic is None:
      deterministic = self.deterministic
    if deterministic is None:
      raise ValueError("pass deterministic= to the call (or set it on the "
                       "dropout layer)")
    if deterministic or self.rate == 0:
      return None
    if not isinstance(self.rngs, nnx.RngStream):
      raise ValueError("dropout needs the layer built with rngs")
    return seed_from_key(self.rngs())

  def _own_mask(self) -> bool:
    return 0 < drop_threshold(self.rate) < 2**32 - 1

  def _keep(self, shape):
    return keep_mask(self.mask_seed(False), shape, self.rate)

  def _scale(self, inputs):
    return inputs / keep_probability(self.rate)
