"""What `kwls train` and `kwls soft-labels` run, compiled for TPUs on a
machine without one.

The trainer is meant to run on CPUs, GPUs and TPUs; no TPU is lent to us.
libtpu makes compile-only TPU devices from a topology name ("v5e:2x2": four
v5e chips) and XLA's TPU compiler compiles for them; nothing runs. So this
says whether the programs compile for a TPU, whether they fit its memory,
and how much work XLA counts in them, not how fast they are:

  1. train: the trainer's own steps (kwls_jax.training: create_state from
     each model's resolved config, make_train_step and make_eval_step; the
     Eq. 9 loss with soft labels, the model's optimizer) for TextCNN, BiLSTM,
     MiniLM-L6 and BERT-base (random init) at batch 64 x length 128, bf16
     compute (model.dtype `auto` on a TPU), on one chip and data parallel
     over all chips of the topology. Per chip: the HBM a train step needs
     (arguments, outputs not aliased to them, temporaries) against the
     chip's, the FLOPs and bytes XLA's cost model counts, and the ceiling
     the FLOPs put on samples/s at the chip's published bf16 peak (a real
     step is slower: memory traffic, the gradient all-reduce). The cost
     model counts a loop's body once, so for the BiLSTM (a scan over time)
     it says so instead;
  2. bert: MiniLM-L6's train step with each dropout_draws and
     attention_impl on one chip ("pallas" and "cudnn" must be refused);
  3. soft labels: the KWLS engine's two jitted functions (word_tables and
     chunk_soft_labels, kwls_jax/smoothing/engine.py) at IMDb's size
     (vocabulary padded to 2^17, a chunk of 2^19 word-instance pairs),
     float32, on one chip.

  pip install "jax[tpu]==$(python -c 'import jax; print(jax.__version__)')"
  python benchmarks/tpu_compile.py                          # v5e:2x2
  python benchmarks/tpu_compile.py --topology v5p:2x2x1 --part train \\
      --models textcnn,lstm

libtpu warns that it cannot find a TPU (host bounds, worker hostnames); that
is expected. Topologies that work here: v5e:2x2, v5p:2x2x1 (v4 lists each
chip's two cores as devices).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sys
from typing import NamedTuple

import jax

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deviceless  # noqa: E402


class Chip(NamedTuple):
  """A TPU generation's published per-chip figures (Google Cloud's TPU
  pages)."""

  bf16_flops: float  # peak, per second
  hbm_bytes: int


CHIPS = {"v4": Chip(275e12, 32 << 30), "v5e": Chip(197e12, 16 << 30),
         "v5p": Chip(459e12, 95 << 30), "v6e": Chip(918e12, 32 << 30)}
ATTENTION_VARIANTS = (("einsum", "auto"), ("einsum", "bits16"),
                      ("einsum", "hash"), ("xla", "auto"), ("pallas", "auto"),
                      ("cudnn", "auto"))


def chip(topology: str) -> Chip | None:
  """The published figures of a topology's chips ("v5e:2x2" -> v5e)."""
  return CHIPS.get(topology.split(":")[0])


def flops_ceiling(batch: int, flops_per_chip: float,
                  peak: float) -> float:
  """Samples/s if every chip did nothing but its step's FLOPs at peak: a
  data-parallel step of `batch` samples takes at least flops / peak."""
  return batch * peak / flops_per_chip


def has_loop(hlo: str) -> bool:
  """Whether optimized HLO holds a while loop (a scan: the BiLSTM)."""
  return re.search(r"\swhile\(%", hlo) is not None


def describe(compiled, batch: int | None, spec: Chip | None) -> str:
  """Per-chip HBM, TFLOPs, GB accessed and the FLOPs ceiling of a program."""
  memory, cost = compiled.memory_analysis(), compiled.cost_analysis() or {}
  hbm = deviceless.hbm_needed(memory)
  of = f" of {spec.hbm_bytes / 2**30:.0f}" if spec else ""
  fits = "" if not spec or hbm <= spec.hbm_bytes else " (DOES NOT FIT)"
  parts = [f"HBM {hbm / 2**30:.2f}{of} GiB{fits}"]
  flops = cost.get("flops", 0.0)
  if flops:
    parts.append(f"{flops / 1e12:.3f} TFLOP")
  if cost.get("bytes accessed"):
    parts.append(f"{cost['bytes accessed'] / 1e9:.2f} GB accessed")
  if has_loop(compiled.as_text()):
    parts.append("a while loop: XLA's cost model counts its body once, so "
                 "FLOPs and bytes are far too low")
  elif spec and batch and flops:
    ceiling = flops_ceiling(batch, flops, spec.bf16_flops)
    parts.append(f"FLOPs ceiling {ceiling:,.0f} samples/s")
  return ", ".join(parts)


def train_part(devices, spec, models, batch, length):
  print(f"\n## train and eval steps, batch {batch} x {length}, bf16 compute, "
        "Eq. 9 (KWLS)", flush=True)
  meshes = [devices[:1]] + ([devices] if len(devices) > 1 else [])
  for model in models:
    config = deviceless.train_config(model, batch, length)
    for mesh_devices in meshes:
      label = f"{model}, {len(mesh_devices)} chip(s)"
      result = deviceless.attempt(label, lambda: [
          deviceless.compile_for(*program, "tpu") for program in
          deviceless.trainer_steps(config, mesh_devices, "tpu")])
      if result is None:
        continue
      (compiled, seconds), (evaluated, _) = result
      eval_hbm = deviceless.hbm_needed(evaluated.memory_analysis())
      print(f"{label}: train step compiled in {seconds:.0f} s, per chip: "
            f"{describe(compiled, batch, spec)}; eval step "
            f"(batch {config.eval_batch_size}): HBM {eval_hbm / 2**30:.2f} GiB",
            flush=True)


def bert_part(devices, spec, batch, length):
  print(f"\n## MiniLM-L6 train step per attention_impl and dropout_draws, "
        f"batch {batch} x {length}, one chip", flush=True)
  for attention, draws in ATTENTION_VARIANTS:
    label = f"attention_impl={attention} dropout_draws={draws}"
    config = deviceless.train_config(
        "minilm-l6", batch, length,
        {"attention_impl": attention, "dropout_draws": draws})
    result = deviceless.attempt(label, lambda: deviceless.compile_for(
        *deviceless.trainer_steps(config, devices[:1], "tpu")[0], "tpu"))
    if result is None:
      continue
    compiled, seconds = result
    print(f"{label}: compiled in {seconds:.0f} s, "
          f"{describe(compiled, batch, spec)}", flush=True)


def soft_label_part(device, spec):
  shape = deviceless.SOFT_LABEL_SHAPE
  print(f"\n## KWLS soft labels (float32): vocabulary {shape['vocab']:,}, "
        f"{shape['labels']} labels, chunks of {shape['pairs']:,} pairs, one "
        "chip", flush=True)
  for name, fn, args in deviceless.soft_label_programs(device, **shape):
    result = deviceless.attempt(
        name, lambda: deviceless.compile_for(fn, args, "tpu"))
    if result is None:
      continue
    compiled, seconds = result
    print(f"{name}: compiled in {seconds:.1f} s, "
          f"{describe(compiled, None, spec)}", flush=True)


def tpu_devices(topology: str):
  """Compile-only devices of a TPU topology (libtpu; no TPU needed)."""
  from jax.experimental import topologies  # pylint: disable=g-import-not-at-top
  try:
    return topologies.get_topology_desc(topology_name=topology,
                                        platform="tpu").devices
  except Exception as e:  # pylint: disable=broad-except  # missing libtpu
    raise SystemExit(
        f"JAX cannot make compile-only TPU devices for {topology!r} ({e}); "
        "install libtpu for this JAX: pip install \"jax[tpu]=="
        f"{jax.__version__}\"") from None


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--topology", default="v5e:2x2")
  parser.add_argument("--part", choices=["train", "bert", "soft-labels",
                                         "all"], default="all")
  parser.add_argument("--models", default=",".join(deviceless.MODELS))
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  args = parser.parse_args(argv)
  models = args.models.split(",")
  unknown = sorted(set(models) - set(deviceless.MODELS))
  if unknown:
    parser.error(f"unknown models {unknown}: choose from "
                 f"{list(deviceless.MODELS)}")
  devices = tpu_devices(args.topology)
  spec = chip(args.topology)
  print(f"machine: {platform.node()}, {platform.machine()}, "
        f"{os.cpu_count()} cores; jax {jax.__version__}; compiling for "
        f"{args.topology} ({len(devices)} x {devices[0].device_kind}), "
        "deviceless", flush=True)
  if args.part in ("train", "all"):
    train_part(devices, spec, models, args.batch, args.length)
  if args.part in ("bert", "all"):
    bert_part(devices, spec, args.batch, args.length)
  if args.part in ("soft-labels", "all"):
    soft_label_part(devices[0], spec)


if __name__ == "__main__":
  main()
