"""Model, optimizer and their state as (graphdef, treedef, flat leaves)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from kwls_jax.models import create_model
from kwls_jax.training.config import TrainConfig


def compute_dtype(name: str):
  """None (float32) or bfloat16; 'auto' is bfloat16 on gpu/tpu only."""
  if name == "auto":
    return jnp.bfloat16 if jax.default_backend() in ("gpu", "tpu") else None
  return None if name == "float32" else jnp.bfloat16


def build_model(config: TrainConfig, num_labels: int, vocab_size: int,
                rngs: nnx.Rngs, bert_folder: str = "") -> nnx.Module:
  """The classifier of `config.model`."""
  m = config.model
  kw = dict(m.options)
  dtype = compute_dtype(m.dtype)
  if m.name == "bert":
    if bert_folder:
      return create_model("bert", num_labels, rngs, pretrained=bert_folder,
                          dtype=dtype, **kw)
    return create_model("bert", num_labels, rngs, preset=m.preset,
                        vocab_size=vocab_size, dtype=dtype, **kw)
  return create_model(m.name, num_labels, rngs, vocab_size=vocab_size,
                      embed_dim=m.embed_dim, dropout=m.dropout, dtype=dtype,
                      **kw)


def _key_name(entry) -> str:
  """The name in a pytree path entry (DictKey, GetAttrKey or SequenceKey)."""
  for attr in ("key", "name", "idx"):
    if hasattr(entry, attr):
      return str(getattr(entry, attr))
  return str(entry)


def _decay_mask(params):
  """True for weights that take weight decay: not biases, not norm scales."""
  def keep(path, _):
    names = [n for n in map(_key_name, path) if n != "value"]
    return not names or names[-1] not in ("bias", "scale")
  return jax.tree_util.tree_map_with_path(keep, params)


def learning_rate(config: TrainConfig, total_steps: int):
  """Constant, or linear warmup over warmup_ratio then linear decay to 0."""
  o = config.optimizer
  if o.decay == "constant" and not o.warmup_ratio:
    return o.learning_rate
  warmup = int(round(o.warmup_ratio * total_steps))
  end = 0.0 if o.decay == "linear" else o.learning_rate
  after = optax.linear_schedule(o.learning_rate, end,
                                max(1, total_steps - warmup))
  if not warmup:
    return after
  return optax.join_schedules(
      [optax.linear_schedule(0.0, o.learning_rate, warmup), after], [warmup])


def make_optimizer(config: TrainConfig, total_steps: int):
  """Adam (TextCNN/LSTM) or AdamW with decay mask (BERT), optional clipping."""
  o = config.optimizer
  lr = learning_rate(config, total_steps)
  if o.name == "adamw":
    tx = optax.adamw(lr, weight_decay=o.weight_decay, mask=_decay_mask)
  else:
    tx = optax.adam(lr)
  if o.grad_clip_norm:
    tx = optax.chain(optax.clip_by_global_norm(o.grad_clip_norm), tx)
  return tx


@dataclasses.dataclass
class TrainState:
  """The model and optimizer as graphdef + treedef + a flat list of arrays."""

  graphdef: Any
  treedef: Any
  leaves: list

  def model(self) -> nnx.Module:
    return nnx.merge(self.graphdef, jax.tree.unflatten(self.treedef,
                                                       self.leaves))[0]


def create_state(config: TrainConfig, num_labels: int, vocab_size: int,
                 total_steps: int, bert_folder: str = "") -> TrainState:
  """Fresh state from config.seed (params and the dropout RNG)."""
  rngs = nnx.Rngs(params=config.seed, dropout=config.seed + 1)
  # Two heads = one output layer of 2P units: the first P take the
  # cross-entropy, the last P are fit to the soft labels (steps.split_heads).
  outputs = num_labels * (2 if config.two_head else 1)
  model = build_model(config, outputs, vocab_size, rngs, bert_folder)
  optimizer = nnx.Optimizer(model, make_optimizer(config, total_steps),
                            wrt=nnx.Param)
  graphdef, state = nnx.split((model, optimizer))
  leaves, treedef = jax.tree.flatten(state)
  return TrainState(graphdef, treedef, leaves)


def _is_key(x) -> bool:
  return jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_host(leaves: list) -> dict[str, np.ndarray]:
  """Leaves as numpy arrays keyed '00000'...; PRNG keys as their key data."""
  return {f"{i:05d}": np.asarray(jax.random.key_data(x) if _is_key(x) else x)
          for i, x in enumerate(leaves)}


def from_host(arrays: dict[str, np.ndarray], like: list,
              sharding) -> list:
  """Leaves shaped as `like` from to_host's dict, placed with `sharding`."""
  out = []
  for i, ref in enumerate(like):
    a = np.asarray(arrays[f"{i:05d}"])
    if _is_key(ref):
      key = jax.random.wrap_key_data(a, impl=jax.random.key_impl(ref))
      out.append(jax.device_put(key, sharding))
      continue
    if a.shape != ref.shape or a.dtype != ref.dtype:
      raise ValueError(f"checkpoint leaf {i}: {a.dtype}{list(a.shape)} does "
                       f"not match the model's {ref.dtype}{list(ref.shape)}")
    out.append(jax.device_put(a, sharding))
  return out
