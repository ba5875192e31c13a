"""Dropout whose mask costs a quarter of the random numbers of nnx.Dropout's.

nnx.Dropout draws a float32 uniform per element; with JAX's (partitionable)
threefry each element then costs one whole threefry2x32 evaluation, whose 64
output bits are XORed down to 32. For BERT-base at batch 64 x 128 that is
~300 million evaluations per step, a sizeable part of a GPU step. Here every
evaluation's 64 bits make four 16-bit draws; an element is kept when its draw
is >= round(rate * 2^16), so the rate is exact to 2^-17 (0.1 -> 0.100006) and
the kept values are scaled by the exact inverse keep probability.
"""

from __future__ import annotations

import math

from flax import nnx
import jax
from jax import lax
import jax.extend.random as jex_random
import jax.numpy as jnp
import numpy as np

_LEVELS = 1 << 16  # 16-bit draws


def drop_threshold(rate: float) -> int:
  """The 16-bit draw below which an element is dropped: round(rate * 2^16)."""
  return int(round(float(rate) * _LEVELS))


def keep_probability(rate: float) -> float:
  """The exact keep probability of keep_mask(.., rate): 1 - threshold / 2^16."""
  return 1.0 - drop_threshold(rate) / _LEVELS


def _is_threefry(key: jax.Array) -> bool:
  return "threefry" in str(jax.random.key_impl(key))


def bits16(key: jax.Array, shape: tuple[int, ...]) -> jax.Array:
  """Uniform uint16 draws of `shape`, four per threefry2x32 evaluation.

  Counters run along the last axis in blocks of four, so the draws are
  elementwise in every leading axis (batch sharding partitions them as
  it partitions the inputs). Other key types use jax.random.bits.
  """
  shape = tuple(shape)
  if (not shape or math.prod(shape) >= 2**32
      or not jnp.issubdtype(key.dtype, jax.dtypes.prng_key) or key.ndim
      or not _is_threefry(key)):
    return jax.random.bits(key, shape, jnp.uint16)
  *lead, last = shape
  words = -(-last // 4)  # threefry evaluations per row of the last axis
  block = (*lead, words)
  counts = jnp.zeros(block, jnp.uint32)
  stride = 1
  for axis in reversed(range(len(block))):
    counts = counts + lax.broadcasted_iota(jnp.uint32, block, axis) * np.uint32(
        stride)
    stride *= block[axis]
  k1, k2 = jax.random.key_data(key)
  hi, lo = jex_random.threefry2x32_p.bind(k1, k2, jnp.zeros_like(counts),
                                          counts)
  pairs = jnp.stack([hi, lo], axis=-1)  # [..., words, 2] uint32
  draws = lax.bitcast_convert_type(pairs, jnp.uint16)  # [..., words, 2, 2]
  return draws.reshape(*lead, words * 4)[..., :last]


def keep_mask(key: jax.Array, shape: tuple[int, ...], rate: float) -> jax.Array:
  """Bernoulli keep mask with P(keep) = keep_probability(rate)."""
  return bits16(key, shape) >= np.uint16(drop_threshold(rate))


class KeepMaskDropout(nnx.Dropout):
  """nnx.Dropout that makes its keep masks itself; same state, same arguments.

  A subclass says which rates get its masks (_own_mask), draws a mask
  (_keep, one key from the layer's stream) and scales the kept values
  (_scale, in float32). Broadcast dimensions, a key passed at call time and
  the rates it leaves go to nnx.Dropout.
  """

  def _own_mask(self) -> bool:
    raise NotImplementedError

  def _keep(self, shape: tuple[int, ...]) -> jax.Array:
    raise NotImplementedError

  def _scale(self, inputs: jax.Array) -> jax.Array:
    raise NotImplementedError

  def __call__(self, inputs, *, deterministic: bool | None = None,
               rngs=None) -> jax.Array:
    deterministic = (self.deterministic if deterministic is None
                     else deterministic)
    if (deterministic is None or deterministic or rngs is not None
        or self.broadcast_dims or not isinstance(self.rngs, nnx.RngStream)
        or not self._own_mask()):
      return super().__call__(inputs, deterministic=deterministic, rngs=rngs)
    keep = self._keep(inputs.shape)
    # Scaled in float32, then rounded once: 1/0.9 itself is not a bf16 value.
    scaled = self._scale(inputs.astype(jnp.float32)).astype(inputs.dtype)
    return jnp.where(keep, scaled, jnp.zeros_like(inputs))


class Dropout(KeepMaskDropout):
  """nnx.Dropout with keep_mask's 16-bit draws; same state, same arguments.

  Falls back to nnx.Dropout for broadcast dimensions, a key passed at call
  time, or a rate whose 16-bit threshold is 0 or 2^16.
  """

  def _own_mask(self) -> bool:
    return 0 < drop_threshold(self.rate) < _LEVELS

  def _keep(self, shape):
    return keep_mask(self.rngs(), shape, self.rate)

  def _scale(self, inputs):
    return inputs * (_LEVELS / (_LEVELS - drop_threshold(self.rate)))
