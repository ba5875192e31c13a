"""The Pallas attention kernels compiled for an H100, on a machine without one.

A device session is short (15 minutes, all tries together); a kernel that
fails to compile there, or spills registers, wastes it. This script does
that part of the check on a CPU:

  1. JAX lowers attention_kernel.fused_attention, forward and backward, for
     CUDA (no GPU needed) at BERT-base's shapes (batch 64 x 128, 12 heads of
     64, bf16, dropout 0.1); each kernel's Triton IR is kept;
  2. OpenAI Triton (PyPI `triton`) compiles each kernel for sm_90a (H100)
     with the setting's warps and pipeline stages, down to a cubin;
  3. the ptxas Triton ships reports registers and spills.

One line per kernel and setting: shared memory, registers (255 is the
limit), spilled bytes, and the count of Hopper tensor-core instructions
(wgmma) against older mma.sync ones. "FAILED" names the error.

  pip install triton                       # 3.x, about 290 MB, CPU is fine
  python benchmarks/pallas_compile.py      # gpu_attention.py's settings
  python benchmarks/pallas_compile.py --settings 64x64x4x2,128x128x8x2

What it does not show: speed, and XLA's own Triton. On the device, XLA (or
jaxlib's Triton) compiles the same IR with its pinned Triton version, whose
passes may differ; a kernel that compiles here very probably compiles
there, and one that spills here is a poor candidate there. Step 1 uses a
JAX internal (jax._src.pallas.triton.lowering), so a JAX upgrade may move
it; the script then says so.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_attention  # noqa: E402  (kernel_options, DEFAULT_IMPLS)

from kwls_jax.models import attention_kernel as ak  # noqa: E402

ARCH = 90  # H100 (sm_90a)


@contextlib.contextmanager
def triton_modules():
  """Collects the Triton IR (text) of every pallas_call lowered for a GPU."""
  try:
    from jax._src.pallas.triton import lowering  # pylint: disable=g-import-not-at-top
    lower = lowering.lower_jaxpr_to_triton_module
  except (ImportError, AttributeError) as e:
    raise SystemExit(
        f"this JAX ({jax.__version__}) has no "
        "jax._src.pallas.triton.lowering.lower_jaxpr_to_triton_module, "
        f"which this script reads the Triton IR from ({e})") from None
  modules = []

  def keep(*args, **kwargs):
    result = lower(*args, **kwargs)
    modules.append(result.module.operation.get_asm())
    return result

  lowering.lower_jaxpr_to_triton_module = keep
  try:
    yield modules
  finally:
    lowering.lower_jaxpr_to_triton_module = lower


def kernel_ir(options: dict, batch: int, length: int, heads: int,
              depth: int) -> dict[str, str]:
  """{kernel name: Triton IR} of one attention's forward and backward."""
  q = jax.ShapeDtypeStruct((batch, length, heads, depth), jnp.bfloat16)
  mask = jax.ShapeDtypeStruct((batch, length), jnp.bool_)
  seed = jax.ShapeDtypeStruct((2,), jnp.uint32)
  blocks = {k: options[k] for k in ("block_q", "block_k")}

  def loss(q, k, v, mask, seed):
    out = ak.fused_attention(q, k, v, mask, seed, gpu_attention.RATE,
                             interpret=False, **blocks)
    return jnp.sum(out.astype(jnp.float32))

  grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
  with triton_modules() as modules:
    grad.trace(q, q, q, mask, seed).lower(lowering_platforms=("cuda",))
  return {re.search(r"tt\.func public @(\w+)", text).group(1): text
          for text in modules}


def compile_kernel(ir: str, num_warps: int, num_stages: int) -> dict:
  """Shared memory, registers, spills and tensor-core instructions of one
  kernel compiled by Triton for sm_90a."""
  import triton  # pylint: disable=g-import-not-at-top
  from triton.backends.compiler import GPUTarget  # pylint: disable=g-import-not-at-top
  from triton.backends.nvidia import compiler as nvidia  # pylint: disable=g-import-not-at-top

  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "kernel.ttir")  # the suffix tells Triton the IR
    with open(path, "w") as f:
      f.write(ir)
    kernel = triton.compile(
        path, target=GPUTarget("cuda", ARCH, 32),
        options=dict(num_warps=num_warps, num_stages=num_stages))
    ptx = os.path.join(tmp, "kernel.ptx")
    with open(ptx, "w") as f:
      f.write(kernel.asm["ptx"])
    report = subprocess.run(
        [nvidia.get_ptxas(ARCH).path, "-v", f"--gpu-name=sm_{ARCH}a", ptx,
         "-o", os.devnull], capture_output=True, text=True, check=True)
  text = report.stdout + report.stderr
  spills = re.search(r"(\d+) bytes spill stores, (\d+) bytes spill loads",
                     text)
  return dict(
      shared=kernel.metadata.shared,
      registers=int(re.search(r"Used (\d+) registers", text).group(1)),
      spilled=int(spills.group(1)) + int(spills.group(2)),
      wgmma=kernel.asm["ptx"].count("wgmma.mma_async"),
      mma=kernel.asm["ptx"].count("mma.sync"))


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  default = ",".join(i.split(":")[1] for i in
                     gpu_attention.DEFAULT_IMPLS.split(",")
                     if i.startswith("pallas:"))
  parser.add_argument("--settings", default=default,
                      help="QxKxWxS settings (block_q x block_k x warps x "
                      f"stages), comma-separated; default: {default}")
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--heads", type=int, default=12)
  parser.add_argument("--depth", type=int, default=64)
  args = parser.parse_args(argv)
  os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")  # Triton 3.9 warns
  try:
    import triton  # pylint: disable=g-import-not-at-top
  except ImportError:
    raise SystemExit("needs OpenAI Triton: pip install triton") from None

  print(f"machine: {platform.node()}, {platform.machine()}, "
        f"{os.cpu_count()} cores; jax {jax.__version__}, triton "
        f"{triton.__version__}; target sm_{ARCH}a; shapes: batch "
        f"{args.batch} x {args.length}, {args.heads} heads of {args.depth}, "
        "bf16")
  print(f"{'setting':<13} {'kernel':<20} {'shared KiB':>10} "
        f"{'registers':>9} {'spilled B':>9} {'wgmma':>6} {'mma.sync':>8}")
  failed = 0
  for setting in args.settings.split(","):
    options = gpu_attention.kernel_options(setting)
    for name, ir in kernel_ir(options, args.batch, args.length, args.heads,
                              args.depth).items():
      try:
        r = compile_kernel(ir, options["num_warps"], options["num_stages"])
      except Exception as e:  # pylint: disable=broad-except
        failed += 1
        print(f"{setting:<13} {name:<20} FAILED {type(e).__name__}: "
              f"{str(e).strip().splitlines()[-1][:200]}")
        continue
      print(f"{setting:<13} {name:<20} {r['shared'] / 1024:>10.1f} "
            f"{r['registers']:>9} {r['spilled']:>9} {r['wgmma']:>6} "
            f"{r['mma']:>8}")
  return 1 if failed else 0


if __name__ == "__main__":
  sys.exit(main())
