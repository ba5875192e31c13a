"""TextCNN (Kim, 2014): convolutions of widths 3/4/5 with max-over-time pooling."""

from __future__ import annotations

from typing import Sequence

from flax import nnx
import jax
import jax.numpy as jnp

from kwls_jax.models import word_vocab


def wide_conv(conv: nnx.Conv, x: jax.Array) -> jax.Array:
  """conv(x) with width - 1 zeros padded on both sides, as shifted matmuls.

  Same result as conv(x); under XLA:CPU its gradient is about 6x faster than
  that of lax.conv_general_dilated.
  """
  kernel = conv.kernel[...]  # [w, E, F]
  w = kernel.shape[0]
  if conv.dtype is not None:
    x, kernel = x.astype(conv.dtype), kernel.astype(conv.dtype)
  padded = jnp.pad(x, ((0, 0), (w - 1, w - 1), (0, 0)))
  length = x.shape[1] + w - 1
  h = sum(padded[:, i:i + length] @ kernel[i] for i in range(w))
  return h + conv.bias[...].astype(h.dtype)


class TextCNN(nnx.Module):
  """Embeddings -> Conv1D x widths -> ReLU -> masked max over time -> dense.

  Each sentence is zero-padded by width - 1 on both sides (Kim's wide
  convolution); padding tokens embed to zero and windows that hold no real
  token are left out of the max, so extra padding leaves the output unchanged.
  """

  def __init__(self, vocab_size: int, num_labels: int, *, rngs: nnx.Rngs,
               embed_dim: int = 300, filter_widths: Sequence[int] = (3, 4, 5),
               num_filters: int = 100, dropout: float = 0.5,
               dtype=None, param_dtype=jnp.float32):
    self.dtype = dtype  # Lookup in param_dtype: fast embedding gradients.
    self.embed = nnx.Embed(vocab_size, embed_dim, param_dtype=param_dtype,
                           rngs=rngs)
    self.filter_widths = tuple(filter_widths)
    self.convs = nnx.List([
        nnx.Conv(embed_dim, num_filters, kernel_size=(w,),
                 padding=((w - 1, w - 1),), dtype=dtype,
                 param_dtype=param_dtype, rngs=rngs)
        for w in self.filter_widths])
    self.dropout = nnx.Dropout(dropout, rngs=rngs)
    self.classifier = nnx.Linear(num_filters * len(self.filter_widths),
                                 num_labels, dtype=dtype,
                                 param_dtype=param_dtype, rngs=rngs)

  def __call__(self, input_ids, attention_mask=None, *,
               deterministic: bool | None = None) -> jax.Array:
    input_ids = jnp.asarray(input_ids)
    mask = word_vocab.padding_mask(input_ids, attention_mask)
    x = jnp.where(mask[..., None], self.embed(input_ids), 0)
    x = x if self.dtype is None else x.astype(self.dtype)
    pooled = []
    for w, conv in zip(self.filter_widths, self.convs):
      h = jax.nn.relu(wide_conv(conv, x))  # [B, T + w - 1, F]
      # Output t sees tokens t-w+1 .. t: valid iff one of them is real.
      m = jnp.pad(mask, ((0, 0), (w - 1, w - 1)))
      valid = jax.lax.reduce_window(
          m, False, jax.lax.bitwise_or, (1, w), (1, 1), "VALID")
      # ReLU outputs are >= 0, so zeroing invalid windows keeps the max.
      pooled.append(jnp.max(jnp.where(valid[..., None], h, 0), axis=1))
    features = self.dropout(jnp.concatenate(pooled, axis=-1),
                            deterministic=deterministic)
    return self.classifier(features).astype(jnp.float32)
