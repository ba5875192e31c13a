"""Compiling for an accelerator this machine does not have (gpu_compile.py,
tpu_compile.py): abstract arguments placed on compile-only devices, code
that asks JAX for its backend told the target's while it is traced, and the
programs both scripts compile: the trainer's steps and the soft-label
engine."""

from __future__ import annotations

import contextlib
import time

import jax
import numpy as np

from kwls_jax.smoothing import engine
from kwls_jax.training import config as config_lib
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps

# IMDb-sized: vocabulary padded to 2^17 (IMDb train has 74,891 words), two
# labels, one chunk of the engine's largest size (IMDb train: 7 chunks).
SOFT_LABEL_SHAPE = dict(vocab=1 << 17, labels=2, pairs=engine.MAX_CHUNK_PAIRS)
# Trainer `model` config per name; BERTs from random init with the
# bert-base-uncased vocabulary size.
MODELS = {
    "textcnn": {"name": "textcnn"},
    "lstm": {"name": "lstm"},
    "minilm-l6": {"name": "bert", "preset": "minilm-l6", "vocab": "vocab.txt"},
    "bert-base": {"name": "bert", "preset": "bert-base", "vocab": "vocab.txt"},
}
BERT_VOCAB = 30522
NUM_LABELS = 4  # AG News


@contextlib.contextmanager
def as_backend(name: str):
  """jax.default_backend() returns `name` inside: code that picks by backend
  (the trainer's bf16 `auto` dtype, BERT's `auto` dropout draws, the Pallas
  kernel's interpret default) builds and traces as it would there."""
  default_backend = jax.default_backend
  jax.default_backend = lambda: name
  try:
    yield
  finally:
    jax.default_backend = default_backend


def abstract(tree, placement):
  """ShapeDtypeStructs of a pytree's leaves, on `placement`: a device or a
  sharding."""
  if not isinstance(placement, jax.sharding.Sharding):
    placement = jax.sharding.SingleDeviceSharding(placement)
  return jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=placement),
      tree)


def failure(e: Exception) -> str:
  """"FAILED <error>: <its first line>", for a program that did not compile."""
  return f"FAILED {type(e).__name__}: {str(e).strip().splitlines()[0][:300]}"


def attempt(label: str, build):
  """build()'s result, or None after printing "<label>: FAILED ...": one
  program that does not build or compile must not stop the others."""
  try:
    return build()
  except Exception as e:  # pylint: disable=broad-except  # reported, go on
    print(f"{label}: {failure(e)}", flush=True)
    return None


def compile_for(jitted, args, backend: str) -> tuple[object, float]:
  """(XLA executable, seconds) of a jitted function on abstract arguments,
  traced as on `backend`."""
  start = time.perf_counter()
  with as_backend(backend):
    compiled = jitted.trace(*args).lower().compile()
  return compiled, time.perf_counter() - start


def soft_label_programs(placement, vocab: int, labels: int, pairs: int):
  """[(name, jitted function, abstract arguments)] of the KWLS engine's two
  jitted functions (kwls_jax/smoothing/engine.py), float32: the word tables
  of a vocabulary and the soft labels of one chunk of (instance, word)
  pairs."""
  f32 = lambda *shape: jax.ShapeDtypeStruct(shape, np.float32)
  i32 = lambda *shape: jax.ShapeDtypeStruct(shape, np.int32)
  v, p, s = vocab, labels, pairs
  return [
      ("word_tables (Eqs. 1-3, 5)",
       jax.jit(lambda *a: engine.word_tables(*a, method="kwls")),
       abstract((f32(v, p), f32(v), f32(v), f32(p), f32(), f32(), f32()),
                placement)),
      ("chunk_soft_labels (Eqs. 4, 6-8)",
       jax.jit(lambda *a: engine.chunk_soft_labels(
           *a, method="kwls", num_segments=s)),
       abstract((f32(v, p), f32(v), i32(s), f32(s), i32(s), f32(), f32()),
                placement))]


def hbm_needed(memory) -> int:
  """Device memory a compiled program holds at its peak, from XLA's
  memory_analysis: arguments, outputs not aliased to them (donated state
  is updated in place), temporaries."""
  return (memory.argument_size_in_bytes + memory.output_size_in_bytes
          - memory.alias_size_in_bytes + memory.temp_size_in_bytes)


def train_config(model: str, batch: int, length: int,
                 options: dict | None = None) -> config_lib.TrainConfig:
  """The resolved trainer config of `model` (KWLS, Eq. 9 with alpha 1)."""
  values = dict(MODELS[model], max_length=length, options=options or {})
  return config_lib.resolve(config_lib.TrainConfig(
      model=config_lib.ModelConfig(**values), method="kwls",
      batch_size=batch,
      data=config_lib.DataConfig(train="train.jsonl", test="test.jsonl")))


def trainer_steps(config: config_lib.TrainConfig, devices, backend: str):
  """((train step, its abstract arguments), (eval step, its arguments)) of
  the trainer (kwls_jax/training/steps.py) on a data-parallel mesh over
  `devices`, the model built as on `backend` (bf16 where `auto` says so)."""
  vocab = (BERT_VOCAB if config.model.name == "bert"
           else config.model.vocab_max_size)
  with as_backend(backend):
    state = state_lib.create_state(config, NUM_LABELS, vocab, total_steps=1000)
  mesh = steps.make_mesh(devices)
  rep, shard = steps.replicated(mesh), steps.data_sharded(mesh)
  b, e, t = config.batch_size, config.eval_batch_size, config.model.max_length
  leaves = abstract(state.leaves, rep)
  batch = {"input_ids": np.zeros((b, t), np.int32),
           "attention_mask": np.zeros((b, t), np.int32),
           "labels": np.zeros(b, np.int32), "mask": np.zeros(b, np.float32),
           "soft_labels": np.zeros((b, NUM_LABELS), np.float32)}
  hyper = {"alpha": np.float32(1.0), "start_step": np.int32(0)}
  eval_batch = {"input_ids": np.zeros((e, t), np.int32),
                "attention_mask": np.zeros((e, t), np.int32)}
  return ((steps.make_train_step(state.graphdef, state.treedef, mesh),
           (leaves, abstract(batch, shard), abstract(hyper, rep))),
          (steps.make_eval_step(state.graphdef, state.treedef, mesh),
           (leaves, abstract(eval_batch, shard))))
