"""Compiling for an accelerator this machine does not have (gpu_compile.py,
tpu_compile.py): abstract arguments placed on compile-only devices, and code
that asks JAX for its backend told the target's while it is traced."""

from __future__ import annotations

import contextlib
import time

import jax


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
