"""benchmarks/gpu_compile.py: reading XLA's optimized HLO and ptxas' report;
with JAX's CUDA plugin installed, a Pallas kernel compiled for an H100."""

from __future__ import annotations

import importlib.util

import jax
import jax.numpy as jnp
import pytest

import gpu_compile  # benchmarks/ (conftest.py)


def test_shape_bytes_of_arrays_and_tuples():
  assert gpu_compile.shape_bytes("bf16[64,128]{1,0}") == 64 * 128 * 2
  assert gpu_compile.shape_bytes("f32[]") == 4
  assert gpu_compile.shape_bytes(
      "(bf16[64,768,128]{2,1,0}, pred[3]{0}, u32[2])") == (
          64 * 768 * 128 * 2 + 3 + 8)


def test_entry_kernels_of_a_compiled_program():
  n = 1000
  x = jnp.ones((n,), jnp.float32)
  # One elementwise fusion: reads x (4n bytes), writes the result (4n).
  hlo = jax.jit(lambda x: x * 2 + 1).lower(x).compile().as_text()
  kernels = gpu_compile.entry_kernels(hlo)
  assert len(kernels) == 1 and kernels[0][1] == "fusion"
  assert kernels[0][2] == 8 * n
  # A matmul and a reduction: every launch counted, parameters not.
  a = jnp.ones((64, 32), jnp.float32)
  hlo = jax.jit(lambda a: jnp.sum(jnp.tanh(a @ a.T), axis=0)).lower(
      a).compile().as_text()
  kernels = gpu_compile.entry_kernels(hlo)
  assert kernels and all(op != "parameter" for _, op, _ in kernels)
  moved = sum(b for _, _, b in kernels)
  assert moved >= 64 * 32 * 4 + 64 * 4  # at least a read and the result
  assert gpu_compile.kernel_summary(hlo).startswith(f"{len(kernels)} kernels")


def test_ptxas_report():
  text = """ptxas info    : Compiling entry function 'kwls_attention_fwd' for 'sm_90a'
ptxas info    : Function properties for kwls_attention_fwd
    8 bytes stack frame, 12 bytes spill stores, 20 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 8 bytes cumulative stack size
"""
  assert gpu_compile.ptxas_report(text) == (255, 32)


def _has_cuda_plugin():
  return any(importlib.util.find_spec(f"jax_plugins.xla_cuda{v}")
             for v in (12, 13)) if importlib.util.find_spec(
                 "jax_plugins") else False


@pytest.mark.skipif(not _has_cuda_plugin(),
                    reason="needs JAX's CUDA plugin (pip install jax[cuda13])")
def test_pallas_attention_compiles_for_an_h100():
  try:
    device = gpu_compile.h100()
  except SystemExit as e:  # a plugin that cannot start (CUDA version checks)
    pytest.skip(str(e))
  args = gpu_compile.attention_args((2, 64, 2, 32), device)
  step = gpu_compile.gpu_attention.fwd_bwd(
      gpu_compile.gpu_attention.make("pallas:32x32x4x2"))
  compiled, _ = gpu_compile.compile_for(step, args)
  ops = [op for _, op, _ in gpu_compile.entry_kernels(compiled.as_text())]
  assert ops.count("custom-call") >= 3  # forward, dk/dv and dq kernels
