"""benchmarks/tpu_compile.py: the per-chip figures it prints; with libtpu
installed, the trainer's TextCNN steps compiled for four v5e chips."""

from __future__ import annotations

import importlib.util
import types

import jax
import pytest

import tpu_compile  # benchmarks/ (conftest.py)


def test_chip_figures_by_topology_name():
  assert tpu_compile.chip("v5e:2x2") is tpu_compile.CHIPS["v5e"]
  assert tpu_compile.chip("v5p:2x2x1").hbm_bytes == 95 << 30
  assert tpu_compile.chip("v9z:1x1") is None


def test_flops_ceiling():
  # 64 samples of 1 TFLOP a step at 200 TFLOP/s: 5 ms a step at best.
  assert tpu_compile.flops_ceiling(64, 1e12, 200e12) == pytest.approx(12800)


def test_has_loop_finds_a_scan():
  x = jax.numpy.ones((100, 8))
  scan = lambda x: jax.lax.scan(lambda c, r: (c + r, c * r), x[0], x)[1]
  assert tpu_compile.has_loop(jax.jit(scan).lower(x).compile().as_text())
  assert not tpu_compile.has_loop(
      jax.jit(lambda x: jax.numpy.cumsum(x * 2, axis=0)).lower(
          x).compile().as_text())


@pytest.mark.skipif(importlib.util.find_spec("libtpu") is None,
                    reason="needs libtpu (pip install jax[tpu])")
def test_textcnn_steps_compile_for_four_v5e_chips():
  devices = tpu_compile.tpu_devices("v5e:2x2")
  assert len(devices) == 4
  config = tpu_compile.deviceless.train_config("textcnn", batch=8, length=16)
  (train, args), _ = tpu_compile.deviceless.trainer_steps(config, devices,
                                                          "tpu")
  compiled, _ = tpu_compile.deviceless.compile_for(train, args, "tpu")
  assert "all-reduce" in compiled.as_text()  # the gradients, over 4 chips
