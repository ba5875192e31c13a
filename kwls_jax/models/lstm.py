"""Bidirectional LSTM classifier with masked pooling over time."""

from __future__ import annotations

from flax import nnx
import jax
import jax.numpy as jnp

from kwls_jax.models import word_vocab

POOLINGS = ("mean", "max", "mean_max")


def masked_pool(h: jax.Array, mask: jax.Array, pooling: str) -> jax.Array:
  """Mean and/or max of h [B, T, F] over the positions where mask is true."""
  m = mask[..., None]
  count = jnp.maximum(jnp.sum(m, axis=1), 1).astype(h.dtype)
  mean = jnp.sum(jnp.where(m, h, 0), axis=1) / count
  maxed = jnp.max(jnp.where(m, h, jnp.finfo(h.dtype).min), axis=1)
  maxed = jnp.where(jnp.any(m, axis=1), maxed, 0)  # Empty rows pool to 0.
  if pooling == "mean":
    return mean
  if pooling == "max":
    return maxed
  return jnp.concatenate([mean, maxed], axis=-1)


class BiLSTMClassifier(nnx.Module):
  """Embeddings -> BiLSTM (stops at each row's length) -> pooling -> dense.

  Rows are right-padded; the backward LSTM starts at each row's last real
  token, so extra padding leaves the output unchanged.
  """

  def __init__(self, vocab_size: int, num_labels: int, *, rngs: nnx.Rngs,
               embed_dim: int = 300, hidden_size: int = 256,
               pooling: str = "mean_max", dropout: float = 0.5,
               dtype=None, param_dtype=jnp.float32):
    if pooling not in POOLINGS:
      raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    self.pooling = pooling
    self.dtype = dtype  # Lookup in param_dtype: fast embedding gradients.
    self.embed = nnx.Embed(vocab_size, embed_dim, param_dtype=param_dtype,
                           rngs=rngs)
    cell = lambda: nnx.OptimizedLSTMCell(
        embed_dim, hidden_size, dtype=dtype, param_dtype=param_dtype,
        rngs=rngs)
    # The carries start at zero (below), so the RNNs keep no RNG stream of
    # their own: with rngs they would need a 'carry' stream that the
    # trainer's Rngs(params=..., dropout=...) does not have.
    self.bilstm = nnx.Bidirectional(
        nnx.RNN(cell(), rngs=False),
        nnx.RNN(cell(), reverse=True, keep_order=True, rngs=False),
        rngs=False)
    self.dropout = nnx.Dropout(dropout, rngs=rngs)
    width = 2 * hidden_size * (2 if pooling == "mean_max" else 1)
    self.classifier = nnx.Linear(width, num_labels, dtype=dtype,
                                 param_dtype=param_dtype, rngs=rngs)

  def encode(self, x, lengths=None) -> jax.Array:
    """BiLSTM outputs [B, T, 2 * hidden] of embeddings x [B, T, E], each
    direction from zero (c, h) carries, stopping at each row's length."""
    cell = self.bilstm.forward_rnn.cell  # both directions: same shapes
    zeros = jnp.zeros((x.shape[0], cell.hidden_features), cell.param_dtype)
    return self.bilstm(x, seq_lengths=lengths,
                       initial_carry=((zeros, zeros), (zeros, zeros)))

  def __call__(self, input_ids, attention_mask=None, *,
               deterministic: bool | None = None) -> jax.Array:
    input_ids = jnp.asarray(input_ids)
    mask = word_vocab.padding_mask(input_ids, attention_mask)
    lengths = jnp.sum(mask, axis=-1, dtype=jnp.int32)
    x = self.embed(input_ids)
    x = x if self.dtype is None else x.astype(self.dtype)
    x = self.dropout(x, deterministic=deterministic)
    h = self.encode(x, lengths)
    features = self.dropout(masked_pool(h, mask, self.pooling),
                            deterministic=deterministic)
    return self.classifier(features).astype(jnp.float32)
