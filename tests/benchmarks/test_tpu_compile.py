"""benchmarks/tpu_compile.py: the trainer's steps built and compiled as for a
TPU (here on the CPU), the per-chip figures; with libtpu installed, the
TextCNN steps compiled for four v5e chips."""

from __future__ import annotations

import importlib.util
import pathlib
import types

import jax
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "tpu_compile", ROOT / "benchmarks/tpu_compile.py")
tpu_compile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tpu_compile)


def test_chip_figures_by_topology_name():
  assert tpu_compile.chip("v5e:2x2") is tpu_compile.CHIPS["v5e"]
  assert tpu_compile.chip("v5p:2x2x1").hbm_bytes == 95 << 30
  assert tpu_compile.chip("v9z:1x1") is None


def test_hbm_needed_counts_donated_state_once():
  memory = types.SimpleNamespace(
      argument_size_in_bytes=100, output_size_in_bytes=90,
      alias_size_in_bytes=80, temp_size_in_bytes=7)
  assert tpu_compile.hbm_needed(memory) == 100 + 10 + 7


class _Compiled:
  """What describe() reads of an XLA executable."""

  def __init__(self, hbm, hlo=""):
    self.hbm, self.hlo = hbm, hlo

  def memory_analysis(self):
    return types.SimpleNamespace(
        argument_size_in_bytes=self.hbm, output_size_in_bytes=0,
        alias_size_in_bytes=0, temp_size_in_bytes=0)

  def cost_analysis(self):
    return {"flops": 1e12, "bytes accessed": 2e9}

  def as_text(self):
    return self.hlo


def test_describe_flags_what_does_not_fit_and_loops():
  v5e = tpu_compile.CHIPS["v5e"]
  fits = tpu_compile.describe(_Compiled(1 << 30), 64, v5e)
  assert fits.startswith("HBM 1.00 of 16 GiB,") and "ceiling 12,608" in fits
  assert "DOES NOT FIT" in tpu_compile.describe(_Compiled(17 << 30), 64, v5e)
  loop = tpu_compile.describe(
      _Compiled(1 << 30, "  %w = (s32[]) while(%t), condition=%c"), 64, v5e)
  assert "ceiling" not in loop and "counts its body once" in loop


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


def test_trainer_steps_built_as_on_a_tpu_use_bf16_and_compile():
  config = tpu_compile.train_config("textcnn", batch=4, length=8)
  assert config.model.max_length == 8 and config.optimizer.name == "adam"
  train, args, evaluate, eval_args = tpu_compile.trainer_steps(
      config, jax.devices()[:1])
  leaves, batch, _ = args
  assert batch["input_ids"].shape == (4, 8)
  assert eval_args[1]["input_ids"].shape == (config.eval_batch_size, 8)
  assert {x.dtype for x in jax.tree.leaves(leaves)
          if jax.numpy.issubdtype(x.dtype, jax.numpy.floating)} == {
              jax.numpy.dtype("float32")}  # parameters stay float32
  compiled, _ = tpu_compile.deviceless.compile_for(train, args, "tpu")
  assert "bf16" in compiled.as_text()  # model.dtype auto: bf16 on a TPU
  text = tpu_compile.describe(compiled, 4, tpu_compile.CHIPS["v5e"])
  assert text.startswith("HBM ") and "of 16 GiB" in text
  evaluated, _ = tpu_compile.deviceless.compile_for(evaluate, eval_args, "cpu")
  assert tpu_compile.hbm_needed(evaluated.memory_analysis()) > 0


@pytest.mark.skipif(importlib.util.find_spec("libtpu") is None,
                    reason="needs libtpu (pip install jax[tpu])")
def test_textcnn_steps_compile_for_four_v5e_chips():
  devices = tpu_compile.tpu_devices("v5e:2x2")
  assert len(devices) == 4
  config = tpu_compile.train_config("textcnn", batch=8, length=16)
  train, args, _, _ = tpu_compile.trainer_steps(config, devices)
  compiled, _ = tpu_compile.deviceless.compile_for(train, args, "tpu")
  assert "all-reduce" in compiled.as_text()  # the gradients, over 4 chips
