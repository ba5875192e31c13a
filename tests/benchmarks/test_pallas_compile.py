"""benchmarks/pallas_compile.py: the kernels' Triton IR, and (with OpenAI
Triton installed) their sm_90a compile report."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "pallas_compile", ROOT / "benchmarks/pallas_compile.py")
pallas_compile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pallas_compile)

SHAPES = dict(batch=2, length=96, heads=2, depth=16)


def test_reads_each_kernels_triton_ir_and_restores_the_lowering():
  from jax._src.pallas.triton import lowering
  before = lowering.lower_jaxpr_to_triton_module
  two = pallas_compile.kernel_ir(pallas_compile.gpu_attention.kernel_options(
      "32x32x4x2"), **SHAPES)
  assert lowering.lower_jaxpr_to_triton_module is before
  assert sorted(two) == ["kwls_attention_dkdv", "kwls_attention_dq",
                         "kwls_attention_fwd"]
  for name, ir in two.items():
    assert f"tt.func public @{name}" in ir
    assert "tensor<32x32xf32>" in ir  # one block of scores
  # A key block holding all (96 -> 128 padded) keys: one backward kernel.
  one = pallas_compile.kernel_ir(pallas_compile.gpu_attention.kernel_options(
      "32x128x4x2"), **SHAPES)
  assert sorted(one) == ["kwls_attention_bwd", "kwls_attention_fwd"]
  assert "tensor<32x128xf32>" in one["kwls_attention_fwd"]


def test_compiles_a_kernel_for_sm90():
  pytest.importorskip("triton")
  ir = pallas_compile.kernel_ir(pallas_compile.gpu_attention.kernel_options(
      "32x32x4x2"), **SHAPES)["kwls_attention_fwd"]
  report = pallas_compile.compile_kernel(ir, num_warps=4, num_stages=2)
  assert 0 < report["registers"] <= 255
  assert report["shared"] > 0
  assert report["wgmma"] + report["mma"] > 0  # the dots use tensor cores
