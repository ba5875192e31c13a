"""Compiling for an accelerator this machine does not have (gpu_compile.py,
tpu_compile.py): abstract arguments placed on compile-only devices, code
that asks JAX for its backend told the target's while it is traced, and the
soft-label engine's programs both scripts compile."""

from __future__ import annotations

import contextlib
import time

import jax
import numpy as np

from kwls_jax.smoothing import engine

# IMDb-sized: vocabulary padded to 2^17 (IMDb train has 74,891 words), two
# labels, one chunk of the engine's largest size (IMDb train: 7 chunks).
SOFT_LABEL_SHAPE = dict(vocab=1 << 17, labels=2, pairs=engine.MAX_CHUNK_PAIRS)


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
