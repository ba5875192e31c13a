"""One BERT attention, forward + backward, per implementation: time and error.

The shapes of one BERT-base layer at batch 64 x 128 (12 heads of 64), bf16,
with attention dropout 0.1 where the implementation has it:

  einsum-nnx   BERT's `einsum` path (bert.einsum_attention): XLA einsums,
               float32 softmax, nnx.Dropout's mask (threefry);
  einsum-hash  attention_kernel.reference_attention: the same in XLA with
               the fused kernel's hashed mask;
  pallas:QxKxWxS  attention_kernel.fused_attention with block_q Q, block_k
               K, W Triton warps and S pipeline stages;
  cudnn        jax.nn.dot_product_attention(implementation="cudnn"), no
               attention dropout (what BERT's recipe may not use).

Each line gives milliseconds per forward + backward (median of --repeats
windows), that times 12 layers (a BERT-base step holds 12), and for the
Pallas kernels the largest difference of output and gradients from
einsum-hash (same mask), relative to the reference's largest value, and
"ok" where all four are below TOLERANCE (else "MISMATCH").

  python benchmarks/gpu_attention.py                 # on a GPU
  python benchmarks/gpu_attention.py --batch 2 --length 32 --heads 2 \\
      --depth 16 --impls einsum-nnx,einsum-hash,pallas:16x16x4x2 --steps 2
                                                     # CPU smoke (interpreted)
"""

from __future__ import annotations

import argparse
import statistics
import time

from flax import nnx
import jax
import jax.numpy as jnp

from kwls_jax.models import attention_kernel as ak
from kwls_jax.models import bert
from kwls_jax.models import hash_dropout

RATE = 0.1
TOLERANCE = 3e-2  # bf16 rounding of probabilities and gradients, relative
# Pallas settings: block_k 128 (= T) holds all keys in one block, so one
# backward kernel gives dq, dk and dv; smaller blocks take two kernels.
# None of these spills registers on an H100 (benchmarks/gpu_compile.py;
# 128x64 and the 128-key backward with 4 warps do, so they are not here).
DEFAULT_IMPLS = ("einsum-nnx,einsum-hash,cudnn,pallas:64x64x4x2,"
                 "pallas:64x64x8x2,pallas:64x64x4x3,pallas:128x64x8x2,"
                 "pallas:32x32x4x2,pallas:32x128x8x2,pallas:128x128x8x2")


def einsum_nnx(q, k, v, mask, key):
  """BERT's einsum attention with nnx.Dropout's mask (jax.random.bernoulli)."""
  dropout = nnx.Dropout(RATE, rngs=nnx.Rngs(dropout=key))
  return bert.einsum_attention(
      q, k, v, mask, lambda probs: dropout(probs, deterministic=False))


def kernel_options(setting: str) -> dict:
  """The kernel's options of a "QxKxWxS" setting: block_q x block_k x Triton
  warps x pipeline stages (attention_kernel.KERNEL_OPTIONS)."""
  try:
    bq, bk, warps, stages = map(int, setting.split("x"))
  except ValueError:
    raise ValueError(f"kernel setting {setting!r} is not block_q x block_k x "
                     "warps x stages, e.g. 64x64x4x2") from None
  return dict(block_q=bq, block_k=bk, num_warps=warps, num_stages=stages)


def make(impl: str):
  """attention(q, k, v, mask, key) of an implementation name."""
  if impl == "einsum-nnx":
    return einsum_nnx
  if impl == "einsum-hash":
    return lambda q, k, v, mask, key: ak.reference_attention(
        q, k, v, mask, hash_dropout.seed_from_key(key), RATE)
  if impl == "cudnn":
    return lambda q, k, v, mask, key: jax.nn.dot_product_attention(
        q, k, v, key_value_seq_lengths=jnp.sum(mask, -1, dtype=jnp.int32),
        implementation="cudnn")
  if impl.startswith("pallas:"):
    options = kernel_options(impl.split(":")[1])
    return lambda q, k, v, mask, key: ak.fused_attention(
        q, k, v, mask, hash_dropout.seed_from_key(key), RATE, **options)
  raise ValueError(f"unknown implementation {impl!r}")


def fwd_bwd(attention):
  """Jitted (q, k, v, mask, key, w) -> (sum(out * w), (dq, dk, dv), out)."""

  def loss(q, k, v, mask, key, w):
    out = attention(q, k, v, mask, key)
    return jnp.sum(out.astype(jnp.float32) * w), out

  grad = jax.value_and_grad(loss, argnums=(0, 1, 2), has_aux=True)

  @jax.jit
  def step(q, k, v, mask, key, w):
    (value, out), grads = grad(q, k, v, mask, key, w)
    return value, grads, out

  return step


def time_it(step, args, steps, repeats, warmup=2):
  """Median milliseconds per call over `repeats` windows of `steps` calls."""
  for _ in range(warmup):
    jax.block_until_ready(step(*args))
  windows = []
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(steps):
      result = step(*args)
    jax.block_until_ready(result)
    windows.append((time.perf_counter() - start) / steps * 1e3)
  return statistics.median(windows)


def relative_error(got, want):
  """max |got - want| over max |want|, for each array of a pytree."""
  return [float(jnp.max(jnp.abs(g.astype(jnp.float32) - w.astype(jnp.float32)))
                / jnp.max(jnp.abs(w.astype(jnp.float32))))
          for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want))]


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=128)
  parser.add_argument("--heads", type=int, default=12)
  parser.add_argument("--depth", type=int, default=64)
  parser.add_argument("--padding", type=float, default=0.0,
                      help="fraction of each sequence's keys masked at the end")
  parser.add_argument("--impls", default=DEFAULT_IMPLS,
                      help="comma list (see the module docstring)")
  parser.add_argument("--steps", type=int, default=50)
  parser.add_argument("--repeats", type=int, default=3)
  args = parser.parse_args()
  device = jax.devices()[0]
  print(f"device: {device.platform} {device.device_kind}, jax "
        f"{jax.__version__}; attention fwd+bwd, bf16, batch {args.batch}, "
        f"length {args.length}, {args.heads} heads of {args.depth}, dropout "
        f"{RATE}", flush=True)
  keys = jax.random.split(jax.random.key(0), 5)
  shape = (args.batch, args.length, args.heads, args.depth)
  q, k, v = (jax.random.normal(key, shape, jnp.bfloat16) for key in keys[:3])
  w = jax.random.normal(keys[3], shape, jnp.float32)
  real = args.length - int(args.padding * args.length)
  mask = jnp.broadcast_to(jnp.arange(args.length) < real,
                          (args.batch, args.length))
  inputs = (q, k, v, mask, keys[4], w)
  reference = None
  for impl in args.impls.split(","):
    try:
      step = fwd_bwd(make(impl))
      ms = time_it(step, inputs, args.steps, args.repeats)
    except Exception as e:  # pylint: disable=broad-except  # one impl failing
      print(f"{impl}: failed: {type(e).__name__}: {str(e)[:300]}", flush=True)
      continue
    line = f"{impl}: {ms:.3f} ms fwd+bwd, x12 layers {12 * ms:.2f} ms"
    if impl.startswith("pallas:"):
      if reference is None:
        reference = fwd_bwd(make("einsum-hash"))(*inputs)
      _, grads, out = step(*inputs)
      errors = relative_error((out, grads), (reference[2], reference[1]))
      line += (", relative error vs einsum-hash: out "
               f"{errors[0]:.1e}, dq/dk/dv "
               f"{'/'.join(f'{e:.1e}' for e in errors[1:])} "
               f"{'ok' if max(errors) < TOLERANCE else 'MISMATCH'}")
    print(line, flush=True)


if __name__ == "__main__":
  main()
