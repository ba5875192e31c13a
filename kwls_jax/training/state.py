"""Model, optimizer and their state as (graphdef, treedef, flat leaves)."""

from __future__ import annotations

import dataclasses
from typing import Any

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from kwls_jax.models import families
from kwls_jax.training.config import TrainConfig


def compute_dtype(name: str):
  """None (float32) or bfloat16; 'auto' is bfloat16 on gpu/tpu only."""
  if name == "auto":
    return jnp.bfloat16 if jax.default_backend() in ("gpu", "tpu") else None
  return None if name == "float32" else jnp.bfloat16


def build_model(config: TrainConfig, num_labels: int, vocab_size: int,
                rngs: nnx.Rngs, weights: str = "") -> nnx.Module:
  """The classifier of `config.model` (`weights`: its pretrained folder)."""
  m = config.model
  return families.get(m.name).build(m, num_labels, vocab_size, rngs, weights,
                                    dtype=compute_dtype(m.dtype))


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
  """The model and optimizer as graphdef + treedef + a flat list of arrays,
  each leaf named by its path in the (model, optimizer) state."""

  graphdef: Any
  treedef: Any
  leaves: list
  names: list[str]

  def model(self) -> nnx.Module:
    return nnx.merge(self.graphdef, jax.tree.unflatten(self.treedef,
                                                       self.leaves))[0]


def create_state(config: TrainConfig, num_labels: int, vocab_size: int,
                 total_steps: int, weights: str = "") -> TrainState:
  """Fresh state from config.seed (params and the dropout RNG)."""
  rngs = nnx.Rngs(params=config.seed, dropout=config.seed + 1)
  # Two heads = one output layer of 2P units: the first P take the
  # cross-entropy, the last P are fit to the soft labels (steps.split_heads).
  outputs = num_labels * (2 if config.two_head else 1)
  model = build_model(config, outputs, vocab_size, rngs, weights)
  return state_of(model, config, total_steps)


def state_of(model: nnx.Module, config: TrainConfig,
             total_steps: int) -> TrainState:
  """The TrainState of `model` and config's optimizer over its parameters."""
  optimizer = nnx.Optimizer(model, make_optimizer(config, total_steps),
                            wrt=nnx.Param)
  graphdef, state = nnx.split((model, optimizer))
  paths, treedef = jax.tree_util.tree_flatten_with_path(state)
  names = [jax.tree_util.keystr(p, simple=True, separator="/")
           for p, _ in paths]
  return TrainState(graphdef, treedef, [x for _, x in paths], names)


def _is_key(x) -> bool:
  return jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def to_host(state: TrainState) -> dict[str, np.ndarray]:
  """The leaves as numpy arrays keyed by name; PRNG keys as their key data."""
  return {n: np.asarray(jax.random.key_data(x) if _is_key(x) else x)
          for n, x in zip(state.names, state.leaves)}


def from_host(arrays: dict[str, np.ndarray], state: TrainState,
              sharding) -> list:
  """Leaves for `state` from to_host's dict, matched by name, placed with
  `sharding`; ValueError when the names, shapes or dtypes differ."""
  missing = [n for n in state.names if n not in arrays]
  extra = sorted(set(arrays) - set(state.names))
  if missing or extra:
    raise ValueError(
        f"the checkpoint does not hold this model's state: missing "
        f"{missing[:3]}{' ...' if len(missing) > 3 else ''}, unexpected "
        f"{extra[:3]}{' ...' if len(extra) > 3 else ''} (a checkpoint of "
        "another model, or one keyed by position)")
  out = []
  for name, ref in zip(state.names, state.leaves):
    a = np.asarray(arrays[name])
    if _is_key(ref):
      key = jax.random.wrap_key_data(a, impl=jax.random.key_impl(ref))
      out.append(jax.device_put(key, sharding))
      continue
    if a.shape != ref.shape or a.dtype != ref.dtype:
      raise ValueError(f"checkpoint leaf {name}: {a.dtype}{list(a.shape)} "
                       f"does not match the model's "
                       f"{ref.dtype}{list(ref.shape)}")
    out.append(jax.device_put(a, sharding))
  return out
