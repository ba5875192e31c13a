"""benchmarks/trace_summary.py: busy time, the kernel line, kernel classes."""

from __future__ import annotations

import gzip
import json

import jax
import jax.numpy as jnp
import pytest

import trace_summary  # benchmarks/ (conftest.py)


def _x(pid, tid, ts, dur, name, **args):
  return {"ph": "X", "pid": pid, "tid": tid, "ts": ts, "dur": dur,
          "name": name, "args": args}


def _meta(pid, name, tid=None):
  if tid is None:
    return {"ph": "M", "pid": pid, "name": "process_name",
            "args": {"name": name}}
  return {"ph": "M", "pid": pid, "tid": tid, "name": "thread_name",
          "args": {"name": name}}


def _write(tmp_path, events):
  path = tmp_path / "plugins/profile/run/perfetto_trace.json.gz"
  path.parent.mkdir(parents=True)
  with gzip.open(path, "wt") as f:
    json.dump({"traceEvents": events}, f)
  return path


def test_busy_time_is_the_union_of_intervals():
  events = [{"ts": 0, "dur": 10}, {"ts": 2, "dur": 3}, {"ts": 8, "dur": 4},
            {"ts": 20, "dur": 5}]
  assert trace_summary.busy_us(events) == 17
  assert trace_summary.busy_us([]) == 0


@pytest.mark.parametrize("name, hlo_op, want", [
    ("sm90_xmma_gemm_bf16bf16_bf16f32", "", "matmul"),
    ("cutlass_80_tensorop_s16816gemm", "custom-call.3", "matmul"),
    ("loop_threefry2x32_fusion", "fusion.12", "random numbers"),
    ("input_reduce_fusion_3", "", "reduction"),
    ("cudnn_generated_fort_native_sdpa", "", "fused attention"),
    ("kwls_attention_dkdv", "custom-call.5", "fused attention"),
    ("transpose_copy_fusion", "", "data movement"),
    ("loop_multiply_fusion_7", "fusion.9", "other fusion"),
    ("some_kernel", "", "other"),
])
def test_classify(name, hlo_op, want):
  assert trace_summary.classify(name, hlo_op) == want


def test_summary_reads_the_stream_line_of_the_device(tmp_path):
  gpu, host = 1, 2
  events = [_meta(gpu, "/device:GPU:0"), _meta(host, "/host:CPU"),
            _meta(gpu, "XLA Modules", 10),
            _meta(gpu, "Stream #14(Compute)", 11),
            _meta(host, "python", 20)]
  for step in range(2):  # two steps of 1,000 us: gemm 600, rng 100, gap
    t = step * 1000
    events += [_x(gpu, 10, t, 990, "jit_step"),
               _x(gpu, 11, t, 600, "sm90_xmma_gemm_bf16", hlo_op="dot.1"),
               _x(gpu, 11, t + 650, 100, "loop_threefry_fusion"),
               _x(gpu, 11, t + 800, 50, "loop_add_fusion_2"),
               _x(host, 20, t, 5000, "PjitFunction(step)")]
  path = _write(tmp_path, events)
  text = trace_summary.summarize(tmp_path, steps=2, top=5)
  assert str(path) in text and "host events only" not in text
  assert "PjitFunction" not in text  # host lines are left out
  # The kernel line is the stream, not XLA Modules (which is busier).
  assert ("kernel classes on Stream #14(Compute) (busy 0.750 ms per step)"
          in text)
  rows = {line.split(" | ")[0].strip("| "): line.split(" | ")[1:]
          for line in text.splitlines() if line.startswith("| ")}
  assert rows["matmul"][0] == "0.600" and rows["matmul"][1].startswith("80.0")
  assert rows["random numbers"][0] == "0.100"
  assert rows["sm90_xmma_gemm_bf16"][:3] == ["dot.1", "1", "0.600"]


def test_summary_of_a_real_jax_trace(tmp_path):
  f = jax.jit(lambda x: jnp.tanh(x @ x).sum())
  x = jnp.ones((64, 64))
  f(x).block_until_ready()
  with jax.profiler.trace(str(tmp_path), create_perfetto_trace=True):
    f(x).block_until_ready()
  text = trace_summary.summarize(tmp_path)
  assert text.startswith("trace: ") and "per step, each timeline" in text


def test_missing_trace_says_how_to_make_one(tmp_path):
  with pytest.raises(FileNotFoundError, match="create_perfetto_trace"):
    trace_summary.find_trace(tmp_path)
