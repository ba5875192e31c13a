"""What benchmarks/gpu.sh runs, compiled for an H100 on a machine without one.

A device session is short (15 minutes, all tries together); a program that
fails to compile there, or a kernel that spills registers, wastes it. XLA
can compile for a GPU it does not have: JAX's CUDA plugin, given a target
description (benchmarks/h100_sxm.txtpb: the card's published figures),
makes compile-only devices, and XLA runs its whole GPU pipeline on them,
Pallas kernels through XLA's own Triton down to PTX. Nothing runs, so this
says nothing of speed; it does say what compiles, what XLA fuses, and how
much memory a step takes.

  1. attention: one BERT-base attention (batch 64 x 128, 12 heads of 64,
     bf16) forward + backward for each of gpu_attention.py's
     implementations: compiled or the error, kernels, GB moved (below), and
     for the Pallas kernels (kwls_jax/models/attention_kernel.py) each
     Triton kernel's registers and spilled bytes (ptxas -v on the PTX XLA
     made; 255 registers is the limit);
  2. bert: the BERT-base training step of gpu_bert_throughput.py (bf16,
     batch 64 x 128, AdamW, Eq. 9) for the variants gpu.sh times: compiled
     or the error, compile seconds, kernels, GB moved, XLA's temporary
     buffers;
  3. train: `kwls train`'s own train and eval steps (deviceless.trainer_steps,
     as tpu_compile.py compiles them for a TPU) for TextCNN, BiLSTM,
     MiniLM-L6 and BERT-base: kernels, GB moved, the memory a step holds
     (arguments, outputs not aliased to them, temporaries);
  4. soft-labels: the KWLS engine's two jitted functions at IMDb's size
     (deviceless.soft_label_programs; tpu_compile.py compiles the same for
     a TPU): kernels, GB moved, XLA's temporary buffers.

Kernels are the instructions of the optimized program that launch work
(fusions, cuBLAS/cuDNN/Triton calls, copies); GB moved adds up each one's
operands and results: what the step reads and writes in device memory if no
cache helps, a static figure for comparing variants (most of a BERT step
outside its matmuls is bound by memory traffic), not a time.

  pip install "jax[cuda13]==$(python -c 'import jax; print(jax.__version__)')"
  python benchmarks/gpu_compile.py                   # all parts
  python benchmarks/gpu_compile.py --part attention --impls pallas:64x64x4x2

On a CPU-only machine the plugin cannot start a GPU client (it logs a cuInit
error, which is expected); the script skips its CUDA version checks for
that (JAX_SKIP_CUDA_CONSTRAINTS_CHECK). The device's JAX may be newer than
the one here, so its XLA may fuse differently; a program that compiles here
very probably compiles there.
"""

from __future__ import annotations

import argparse
import glob
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

# Read when JAX starts its backends, so set before anything uses JAX; only
# when run as a script (an import, as in the tests, changes nothing).
_DUMP = tempfile.mkdtemp(prefix="kwls_gpu_compile_") if (
    __name__ == "__main__") else None
if _DUMP:
  os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")
  os.environ["XLA_FLAGS"] = " ".join(  # XLA's PTX, for ptxas' report
      filter(None, [os.environ.get("XLA_FLAGS"), f"--xla_dump_to={_DUMP}"]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deviceless  # noqa: E402
import gpu_attention  # noqa: E402
import gpu_bert_throughput as bench  # noqa: E402

from kwls_jax.models import attention_kernel  # noqa: E402

TARGET = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      "h100_sxm.txtpb")
# gpu.sh's BERT-base runs: (attention, dropout draws, q/k/v, GELU); pallas
# runs once per kernel setting of part 1 that compiled without spills.
BERT_VARIANTS = (("einsum", "nnx", "separate", "autodiff"),
                 ("einsum", "auto", "fused", "autodiff"),
                 ("einsum", "auto", "fused", "recompute"),
                 ("einsum", "hash", "fused", "recompute"),
                 ("cudnn", "auto", "fused", "recompute"))


def h100(target: str = TARGET):
  """A compile-only H100 (no GPU needed) from an XLA target description.

  Call it before anything else starts JAX's backends: without a GPU the
  CUDA plugin starts only with its version checks skipped.
  """
  from jax.experimental import topologies  # pylint: disable=g-import-not-at-top
  os.environ.setdefault("JAX_SKIP_CUDA_CONSTRAINTS_CHECK", "1")
  with open(target) as f:
    config = f.read()
  try:
    topology = topologies.get_topology_desc(
        platform="cuda", target_config=config, topology="1x1x1")
  except (RuntimeError, NotImplementedError) as e:
    raise SystemExit(
        f"JAX cannot make a compile-only CUDA device ({e}); install the "
        "CUDA plugin of this JAX: pip install \"jax[cuda13]=="
        f"{jax.__version__}\"") from None
  return topology.devices[0]


_BYTES = {"pred": 1, "s8": 1, "u8": 1, "bf16": 2, "f16": 2, "s16": 2,
          "u16": 2, "f32": 4, "s32": 4, "u32": 4, "f64": 8, "s64": 8,
          "u64": 8}
# Instructions that launch nothing: they name, bundle or reinterpret buffers.
_FREE = ("parameter", "tuple", "get-tuple-element", "bitcast", "constant")


def shape_bytes(shape: str) -> int:
  """Bytes of an HLO shape (an array or a tuple of arrays)."""
  total = 0
  for dtype, dims in re.findall(r"\b([a-z]+[0-9]*)\[([0-9,]*)\]", shape):
    size = _BYTES.get(dtype, 0)
    for d in filter(None, dims.split(",")):
      size *= int(d)
    total += size
  return total


def _closing(text: str, start: int) -> int:
  """Index of the parenthesis closing the one at text[start]."""
  depth = 0
  for i in range(start, len(text)):
    depth += {"(": 1, ")": -1}.get(text[i], 0)
    if depth == 0:
      return i
  raise ValueError(f"unbalanced parentheses in {text[:80]!r}")


def entry_kernels(hlo: str) -> list[tuple[str, str, int]]:
  """(name, opcode, bytes) of each instruction of optimized HLO's entry
  computation that launches work (fusions, custom calls such as cuBLAS,
  cuDNN and Triton kernels, copies): bytes are its distinct operands' plus
  its results', what it moves through memory if it reads each once."""
  entry = hlo[hlo.index("\nENTRY "):]
  body = entry[entry.index("{") + 1:entry.index("\n}")]
  sizes, kernels = {}, []
  for line in body.splitlines():
    m = re.match(r"\s*(?:ROOT )?%(\S+) = (.*)$", line)
    if not m:
      continue
    name, rest = m.groups()
    split = _closing(rest, 0) + 1 if rest.startswith("(") else rest.index(" ")
    sizes[name] = shape_bytes(rest[:split])
    op = rest[split:].lstrip()
    opcode = op[:op.index("(")]
    if opcode in _FREE:
      continue
    # An operand passed twice counts once (the attention kernel takes one
    # [B, T, 3, N, D] array three times and reads a third of it each time).
    operands = set(re.findall(r"%([\w.\-]+)",
                              op[:_closing(op, len(opcode)) + 1]))
    kernels.append(
        (name, opcode, sizes[name] + sum(sizes.get(o, 0) for o in operands)))
  return kernels


def kernel_summary(hlo: str) -> str:
  """"N kernels, X GB moved" of optimized HLO (entry_kernels)."""
  kernels = entry_kernels(hlo)
  moved = sum(b for _, _, b in kernels)
  return f"{len(kernels)} kernels, {moved / 1e9:.2f} GB moved"


def ptxas_report(text: str) -> tuple[int, int]:
  """(registers, spilled bytes: stores + loads) from `ptxas -v` output."""
  registers = int(re.search(r"Used (\d+) registers", text).group(1))
  spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads",
                     text)
  return registers, int(spills.group(1)) + int(spills.group(2))


def ptxas() -> str:
  """The ptxas of the CUDA toolkit JAX's plugin installed (nvidia-cuda-nvcc)."""
  found = sorted(glob.glob(os.path.join(
      os.path.dirname(os.path.dirname(jnp.__file__)), "..", "nvidia", "*",
      "bin", "ptxas")))
  if not found:
    raise FileNotFoundError("no ptxas beside JAX (pip install "
                            "nvidia-cuda-nvcc)")
  return found[0]


def triton_kernels(since: float, dump: str) -> dict[str, tuple[int, int]]:
  """{kernel: (registers, spilled bytes)} of the kwls_attention_* kernels
  whose PTX XLA dumped into `dump` after time `since`."""
  report = {}
  for path in glob.glob(os.path.join(dump, "*.ptx")):
    if os.path.getmtime(path) < since:
      continue
    with open(path) as f:
      entry = re.search(r"\.entry (kwls_attention_\w+)\(", f.read())
    if not entry:
      continue
    run = subprocess.run([ptxas(), "-v", "--gpu-name=sm_90a", path, "-o",
                          os.devnull], capture_output=True, text=True)
    report[entry.group(1)] = (ptxas_report(run.stdout + run.stderr)
                              if run.returncode == 0 else None)
  return report


def compile_for(jitted, args) -> tuple[object, float]:
  """(XLA executable, seconds) of a jitted function on abstract arguments."""
  return deviceless.compile_for(jitted, args, "gpu")


def attention_args(shape, device):
  """Abstract arguments of gpu_attention.fwd_bwd: q, k, v [B, T, N, D] bf16,
  the key mask, a PRNG key and the float32 output weights."""
  q = jax.ShapeDtypeStruct(shape, jnp.bfloat16)
  return deviceless.abstract(
      (q, q, q, jax.ShapeDtypeStruct(shape[:2], jnp.bool_),
       jax.eval_shape(lambda: jax.random.key(0)),
       jax.ShapeDtypeStruct(shape, jnp.float32)), device)


def attention_part(device, impls, shape):
  """Part 1; returns the Pallas settings that compiled without spills."""
  print(f"\n## attention fwd+bwd, bf16, batch {shape[0]} x {shape[1]}, "
        f"{shape[2]} heads of {shape[3]}", flush=True)
  args = attention_args(shape, device)
  clean = []
  for impl in impls:
    since = time.time()
    result = deviceless.attempt(impl, lambda: compile_for(
        gpu_attention.fwd_bwd(gpu_attention.make(impl)), args))
    if result is None:
      continue
    compiled, seconds = result
    line = (f"{impl}: compiled in {seconds:.1f} s, "
            f"{kernel_summary(compiled.as_text())}")
    if impl.startswith("pallas:"):
      try:
        kernels = triton_kernels(since, _DUMP) if _DUMP else {}
      except FileNotFoundError as e:  # compiled; registers unknown
        print(f"{line}; registers not read: {e}", flush=True)
        clean.append(impl.split(":", 1)[1])
        continue
      line += "".join(
          f"; {name[len('kwls_attention_'):]}: "
          + (f"{r[0]} registers, {r[1]} B spilled" if r else "ptxas failed")
          for name, r in sorted(kernels.items()))
      if kernels and all(r and r[1] == 0 for r in kernels.values()):
        clean.append(impl.split(":", 1)[1])
    print(line, flush=True)
  return clean


def bert_step(device, name, attention, draws, qkv, batch, length,
              gelu="recompute"):
  """(jitted train step, abstract arguments) of gpu_bert_throughput's step
  (bf16, AdamW, dropout on)."""
  with deviceless.as_backend("gpu"):
    step, state, data = bench.build(
        name, batch=batch, length=length, dtype="bf16", attention=attention,
        dropout=True, draws=draws, fused_qkv=qkv == "fused",
        optimizer="adamw", remat="none", gelu=gelu, shapes_only=True)
  return step, deviceless.abstract((state, data), device)


def bert_part(device, name, variants, batch, length):
  print(f"\n## {name} training step, bf16, batch {batch} x {length}, AdamW, "
        "Eq. 9", flush=True)
  for attention, draws, qkv, gelu in variants:
    kernel = ""
    if attention.startswith("pallas:"):
      attention, kernel = attention.split(":")
      attention_kernel.KERNEL_OPTIONS.update(
          gpu_attention.kernel_options(kernel))
    label = (f"attention={attention}{kernel and ':' + kernel} "
             f"draws={draws} qkv={qkv} gelu={gelu}")
    result = deviceless.attempt(label, lambda: compile_for(*bert_step(
        device, name, attention, draws, qkv, batch, length, gelu)))
    if result is None:
      continue
    compiled, seconds = result
    memory = compiled.memory_analysis()
    print(f"{label}: compiled in {seconds:.0f} s, "
          f"{kernel_summary(compiled.as_text())}, XLA temp "
          f"{memory.temp_size_in_bytes / 2**30:.2f} GiB", flush=True)


def train_part(device, models, batch, length):
  print(f"\n## kwls train's own train and eval steps, batch {batch} x "
        f"{length}, bf16 compute (model.dtype auto), Eq. 9 (KWLS)", flush=True)
  for model in models:
    config = deviceless.train_config(model, batch, length)
    result = deviceless.attempt(model, lambda: [
        compile_for(*program)
        for program in deviceless.trainer_steps(config, [device], "gpu")])
    if result is None:
      continue
    (compiled, seconds), (evaluated, _) = result
    hbm = deviceless.hbm_needed(compiled.memory_analysis())
    eval_hbm = deviceless.hbm_needed(evaluated.memory_analysis())
    print(f"{model}: train step compiled in {seconds:.0f} s, "
          f"{kernel_summary(compiled.as_text())}, memory {hbm / 2**30:.2f} "
          f"GiB; eval step (batch {config.eval_batch_size}): "
          f"{kernel_summary(evaluated.as_text())}, memory "
          f"{eval_hbm / 2**30:.2f} GiB", flush=True)


def soft_label_part(device):
  shape = deviceless.SOFT_LABEL_SHAPE
  print(f"\n## KWLS soft labels (float32): vocabulary {shape['vocab']:,}, "
        f"{shape['labels']} labels, chunks of {shape['pairs']:,} pairs",
        flush=True)
  for name, fn, args in deviceless.soft_label_programs(device, **shape):
    result = deviceless.attempt(name, lambda: compile_for(fn, args))
    if result is None:
      continue
    compiled, seconds = result
    print(f"{name}: compiled in {seconds:.1f} s, "
          f"{kernel_summary(compiled.as_text())}, XLA temp "
          f"{compiled.memory_analysis().temp_size_in_bytes / 2**30:.2f} GiB",
          flush=True)


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--part", default="all",
                      choices=["attention", "bert", "train", "soft-labels",
                               "all"])
  parser.add_argument("--impls", default=gpu_attention.DEFAULT_IMPLS,
                      help="attention implementations (gpu_attention.py)")
  parser.add_argument("--model", default="bert-base",
                      choices=list(bench.CONFIGS))
  parser.add_argument("--train-models", default=",".join(deviceless.MODELS),
                      help="models of part train")
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--target", default=TARGET,
                      help="XLA GpuTargetConfigProto (text) of the GPU")
  args = parser.parse_args(argv)
  device = h100(args.target)
  print(f"machine: {platform.node()}, {platform.machine()}, "
        f"{os.cpu_count()} cores; jax {jax.__version__}; compiling for "
        f"{device.device_kind} ({os.path.basename(args.target)}), "
        "deviceless", flush=True)
  impls = args.impls.split(",")
  clean = [i.split(":", 1)[1] for i in impls if i.startswith("pallas:")]
  if args.part in ("attention", "all"):
    config = bench.CONFIGS[args.model]()
    clean = attention_part(
        device, impls, (args.batch, args.length, config.num_attention_heads,
                        config.hidden_size // config.num_attention_heads))
  if args.part in ("bert", "all"):
    variants = list(BERT_VARIANTS) + [
        (f"pallas:{s}", "hash", "fused", "recompute") for s in clean]
    bert_part(device, args.model, variants, args.batch, args.length)
  if args.part in ("train", "all"):
    train_part(device, args.train_models.split(","), args.batch, args.length)
  if args.part in ("soft-labels", "all"):
    soft_label_part(device)


if __name__ == "__main__":
  main()
