"""A BERT encoder and classifier in Flax NNX (Devlin et al., 2019).

The layout follows Hugging Face's `BertModel` (post-LN layers, exact-erf GELU,
tanh pooler) so that its checkpoints load one to one; see bert_checkpoint.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any, NamedTuple

from flax import nnx
import jax
from jax import lax
import jax.numpy as jnp


@jax.custom_vjp
def gelu(x):
  """Exact GELU, x * Phi(x), keeping only x for the backward pass.

  Autodiff of jax.nn.gelu keeps three tensors of x's size (the output, erfc
  and a scaled x) for the backward pass; this keeps x and recomputes
  Phi(x) + x * phi(x) there, in float32: for BERT-base at batch 64 x 128 on
  a CPU, 23 % less temporary memory per step
  (results/benchmarks/gelu_backward_cpu.md).
  """
  return jax.nn.gelu(x, approximate=False)


def _gelu_fwd(x):
  return gelu(x), x


def _gelu_bwd(x, grad):
  x32 = x.astype(jnp.float32)
  cdf = 0.5 * (1.0 + lax.erf(x32 * (1.0 / math.sqrt(2.0))))
  pdf = jnp.exp(-0.5 * x32 * x32) * (1.0 / math.sqrt(2.0 * math.pi))
  return ((grad.astype(jnp.float32) * (cdf + x32 * pdf)).astype(x.dtype),)


gelu.defvjp(_gelu_fwd, _gelu_bwd)


_ACTIVATIONS = {
    "gelu": gelu,
    "gelu_new": lambda x: jax.nn.gelu(x, approximate=True),
    "gelu_pytorch_tanh": lambda x: jax.nn.gelu(x, approximate=True),
    "relu": jax.nn.relu,
}


ATTENTION_IMPLS = ("einsum", "xla", "cudnn")


@dataclasses.dataclass(frozen=True)
class BertConfig:
  """Hyperparameters of a BERT encoder; names as in Hugging Face config.json."""

  vocab_size: int = 30522
  hidden_size: int = 768
  num_hidden_layers: int = 12
  num_attention_heads: int = 12
  intermediate_size: int = 3072
  hidden_act: str = "gelu"
  hidden_dropout_prob: float = 0.1
  attention_probs_dropout_prob: float = 0.1
  max_position_embeddings: int = 512
  type_vocab_size: int = 2
  initializer_range: float = 0.02
  layer_norm_eps: float = 1e-12
  pad_token_id: int = 0
  # "einsum": explicit softmax with attention dropout (as in BERT);
  # "xla" / "cudnn": jax.nn.dot_product_attention, no attention dropout;
  # "cudnn" assumes right padding (it takes key lengths, not a mask).
  attention_impl: str = "einsum"

  def __post_init__(self):
    if self.attention_impl not in ATTENTION_IMPLS:
      raise ValueError(f"unsupported attention_impl {self.attention_impl!r}: "
                       f"one of {ATTENTION_IMPLS}")

  @classmethod
  def from_dict(cls, values: dict[str, Any]) -> "BertConfig":
    """Config from a config.json dict; unknown keys are ignored."""
    names = {f.name for f in dataclasses.fields(cls)}
    config = cls(**{k: v for k, v in values.items() if k in names})
    if config.hidden_act not in _ACTIVATIONS:
      raise ValueError(f"unsupported hidden_act {config.hidden_act!r}")
    if values.get("position_embedding_type", "absolute") != "absolute":
      raise ValueError("only absolute position embeddings are supported")
    return config

  @classmethod
  def from_json(cls, path: str | os.PathLike) -> "BertConfig":
    """Config from a Hugging Face config.json file."""
    with open(path, encoding="utf-8") as f:
      return cls.from_dict(json.load(f))

  @classmethod
  def bert_base(cls, **overrides) -> "BertConfig":
    """bert-base-uncased: 12 layers, 768 hidden, 12 heads, 3072 ff."""
    return cls(**overrides)

  @classmethod
  def minilm_l6(cls, **overrides) -> "BertConfig":
    """all-MiniLM-L6-v2: 6 layers, 384 hidden, 12 heads, 1536 ff."""
    values = dict(hidden_size=384, num_hidden_layers=6, intermediate_size=1536)
    return cls(**{**values, **overrides})

  @property
  def head_dim(self) -> int:
    return self.hidden_size // self.num_attention_heads


class BertOutput(NamedTuple):
  last_hidden_state: jax.Array  # [B, T, H]
  pooler_output: jax.Array | None  # [B, H]


def _dense(n_in, n_out, config, dtype, param_dtype, rngs):
  return nnx.Linear(
      n_in, n_out, dtype=dtype, param_dtype=param_dtype,
      kernel_init=nnx.initializers.normal(config.initializer_range),
      rngs=rngs)


def _fused_dense(x, layers):
  """The outputs of several nnx.Linear layers on x as one matmul, joined
  (q, k and v: one [H, 3H] matmul, the parameters kept as three layers)."""
  kernel = jnp.concatenate([l.kernel[...] for l in layers], axis=-1)
  bias = jnp.concatenate([l.bias[...] for l in layers], axis=-1)
  x, kernel, bias = nnx.nn.dtypes.promote_dtype((x, kernel, bias),
                                                dtype=layers[0].dtype)
  return jnp.dot(x, kernel, precision=layers[0].precision) + bias


def _norm(config, dtype, param_dtype, rngs):
  return nnx.LayerNorm(
      config.hidden_size, epsilon=config.layer_norm_eps, dtype=dtype,
      param_dtype=param_dtype, use_fast_variance=False, rngs=rngs)


def einsum_attention(q, k, v, mask, dropout):
  """BERT's attention with XLA einsums: softmax over unmasked keys (float32),
  `dropout` on the probabilities, then the values. q, k, v: [B, T, N, D];
  mask: bool [B, T]."""
  scores = jnp.einsum("bqnd,bknd->bnqk", q, k).astype(jnp.float32)
  scores = scores / jnp.sqrt(jnp.float32(q.shape[-1]))
  scores = jnp.where(mask[:, None, None, :], scores,
                     jnp.finfo(jnp.float32).min)
  probs = dropout(jax.nn.softmax(scores, axis=-1).astype(v.dtype))
  return jnp.einsum("bnqk,bknd->bqnd", probs, v)


class BertEmbeddings(nnx.Module):
  """Word + position + token-type embeddings, then LayerNorm and dropout."""

  def __init__(self, config: BertConfig, *, dtype, param_dtype,
               rngs: nnx.Rngs):
    # Tables are looked up in param_dtype: with a bf16 lookup the backward
    # pass scatter-adds in bf16, which is many times slower on GPUs.
    init = nnx.initializers.normal(config.initializer_range)
    embed = lambda n: nnx.Embed(
        n, config.hidden_size, param_dtype=param_dtype, embedding_init=init,
        rngs=rngs)
    self.word_embeddings = embed(config.vocab_size)
    self.position_embeddings = embed(config.max_position_embeddings)
    self.token_type_embeddings = embed(config.type_vocab_size)
    self.layer_norm = _norm(config, dtype, param_dtype, rngs)
    self.dropout = nnx.Dropout(config.hidden_dropout_prob, rngs=rngs)

  def __call__(self, input_ids, token_type_ids, *, deterministic=None):
    positions = jnp.arange(input_ids.shape[-1])[None, :]
    x = (self.word_embeddings(input_ids)
         + self.position_embeddings(positions)
         + self.token_type_embeddings(token_type_ids))
    return self.dropout(self.layer_norm(x), deterministic=deterministic)


class BertSelfAttention(nnx.Module):
  """Multi-head scaled dot-product attention over unmasked keys."""

  def __init__(self, config: BertConfig, *, dtype, param_dtype,
               rngs: nnx.Rngs):
    h = config.hidden_size
    if h % config.num_attention_heads:
      raise ValueError("hidden_size must be divisible by num_attention_heads")
    self.num_heads = config.num_attention_heads
    self.head_dim = config.head_dim
    self.impl = config.attention_impl
    self.query = _dense(h, h, config, dtype, param_dtype, rngs)
    self.key = _dense(h, h, config, dtype, param_dtype, rngs)
    self.value = _dense(h, h, config, dtype, param_dtype, rngs)
    self.dropout = nnx.Dropout(config.attention_probs_dropout_prob, rngs=rngs)

  def __call__(self, x, mask, *, deterministic=None):
    b, t, _ = x.shape
    split = lambda y: y.reshape(b, t, self.num_heads, self.head_dim)
    qkv = _fused_dense(x, [self.query, self.key, self.value])
    q, k, v = map(split, jnp.split(qkv, 3, axis=-1))
    if self.impl == "einsum":
      out = einsum_attention(
          q, k, v, mask,
          lambda probs: self.dropout(probs, deterministic=deterministic))
    elif self.impl == "cudnn":
      lengths = jnp.sum(mask, axis=-1, dtype=jnp.int32)
      out = jax.nn.dot_product_attention(
          q, k, v, key_value_seq_lengths=lengths, implementation="cudnn")
    else:
      out = jax.nn.dot_product_attention(
          q, k, v, mask=mask[:, None, None, :], implementation=self.impl)
    return out.reshape(b, t, -1)


class BertLayer(nnx.Module):
  """Post-LN transformer layer: LN(x + Attn(x)), then LN(h + FF(h))."""

  def __init__(self, config: BertConfig, *, dtype, param_dtype,
               rngs: nnx.Rngs):
    h, f = config.hidden_size, config.intermediate_size
    self.attention = BertSelfAttention(
        config, dtype=dtype, param_dtype=param_dtype, rngs=rngs)
    self.attention_output = _dense(h, h, config, dtype, param_dtype, rngs)
    self.attention_norm = _norm(config, dtype, param_dtype, rngs)
    self.intermediate = _dense(h, f, config, dtype, param_dtype, rngs)
    self.output = _dense(f, h, config, dtype, param_dtype, rngs)
    self.output_norm = _norm(config, dtype, param_dtype, rngs)
    self.dropout = nnx.Dropout(config.hidden_dropout_prob, rngs=rngs)
    self.activation = _ACTIVATIONS[config.hidden_act]

  def __call__(self, x, mask, *, deterministic=None):
    a = self.attention(x, mask, deterministic=deterministic)
    a = self.dropout(self.attention_output(a), deterministic=deterministic)
    x = self.attention_norm(x + a)
    f = self.output(self.activation(self.intermediate(x)))
    f = self.dropout(f, deterministic=deterministic)
    return self.output_norm(x + f)


class BertModel(nnx.Module):
  """BERT encoder: embeddings, a stack of layers and a tanh pooler on [CLS]."""

  def __init__(self, config: BertConfig, *, rngs: nnx.Rngs,
               add_pooler: bool = True, dtype=None,
               param_dtype=jnp.float32):
    self.config = config
    kw = dict(dtype=dtype, param_dtype=param_dtype, rngs=rngs)
    self.embeddings = BertEmbeddings(config, **kw)
    self.layers = nnx.List(
        [BertLayer(config, **kw) for _ in range(config.num_hidden_layers)])
    self.pooler = (
        _dense(config.hidden_size, config.hidden_size, config, dtype,
               param_dtype, rngs) if add_pooler else None)

  def __call__(self, input_ids, attention_mask=None, token_type_ids=None, *,
               deterministic: bool | None = None) -> BertOutput:
    input_ids = jnp.asarray(input_ids)
    if attention_mask is None:
      attention_mask = jnp.ones_like(input_ids)
    if token_type_ids is None:
      token_type_ids = jnp.zeros_like(input_ids)
    mask = jnp.asarray(attention_mask).astype(bool)
    x = self.embeddings(input_ids, token_type_ids, deterministic=deterministic)
    for layer in self.layers:
      x = layer(x, mask, deterministic=deterministic)
    pooled = None if self.pooler is None else jnp.tanh(self.pooler(x[:, 0]))
    return BertOutput(x, pooled)


class BertClassifier(nnx.Module):
  """BERT with dropout and a dense layer on the pooled [CLS] output."""

  def __init__(self, config: BertConfig, num_labels: int, *, rngs: nnx.Rngs,
               classifier_dropout: float | None = None, dtype=None,
               param_dtype=jnp.float32):
    self.bert = BertModel(config, rngs=rngs, dtype=dtype,
                          param_dtype=param_dtype)
    rate = (config.hidden_dropout_prob if classifier_dropout is None
            else classifier_dropout)
    self.dropout = nnx.Dropout(rate, rngs=rngs)
    self.classifier = _dense(config.hidden_size, num_labels, config, dtype,
                             param_dtype, rngs)

  def __call__(self, input_ids, attention_mask=None, token_type_ids=None, *,
               deterministic: bool | None = None) -> jax.Array:
    pooled = self.bert(input_ids, attention_mask, token_type_ids,
                       deterministic=deterministic).pooler_output
    pooled = self.dropout(pooled, deterministic=deterministic)
    return self.classifier(pooled).astype(jnp.float32)
