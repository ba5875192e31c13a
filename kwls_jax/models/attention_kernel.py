"""Fused attention with attention dropout: a Pallas kernel (Triton on GPUs).

XLA's attention materialises the [B, N, T, T] scores, probabilities and
dropout mask in memory, forward and backward; cuDNN's fused attention avoids
that but JAX gives it no dropout. This kernel keeps BERT's recipe (softmax,
then dropout on the probabilities) in one pass over key blocks with an
online softmax (FlashAttention, Dao et al. 2022), forward and backward.

The dropout mask is hash_dropout's: a counter-based hash of the seed and
the element's position in the [B, N, T, T] probabilities, so the backward
pass recomputes it instead of storing it, and it does not depend on block
sizes or padding. hash_dropout.keep_mask gives the same mask as an array,
BERT's einsum attention with `dropout_draws: hash` applies it the XLA way,
and `reference_attention` is the einsum computation with it (the tests
compare them).

fused_attention_qkv takes q, k and v as one [B, T, 3, N, D] array, as BERT's
fused [H, 3H] projection makes them: the kernels read them in place, where
slicing them out for fused_attention would copy each.

On a CPU the kernel runs in Pallas' interpreter (correct, slow: for tests).
XLA cannot partition the kernel's custom call: under a device mesh set for
tracing (jax.sharding.use_abstract_mesh, as the trainer's steps do) it runs
per device on that device's batch rows (shard_map), with the rows numbered
across the batch so that the mask is the same as on one device; without
one, a multi-device jit would gather its inputs onto every device.
"""

from __future__ import annotations

import functools
import math

import jax
from jax import lax
from jax.experimental import pallas as pl
from jax.experimental.pallas import triton as pl_triton
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P
import numpy as np

from kwls_jax.models import hash_dropout

# Block lengths and Triton launch settings of fused_attention's arguments
# left as None (a benchmark may change them; see benchmarks/gpu_attention.py).
KERNEL_OPTIONS = dict(block_q=64, block_k=64, num_warps=4, num_stages=2)

_MASKED = -0.7 * float(np.finfo(np.float32).max)  # score of a masked key


def keep_mask(seed: jax.Array, batch: int, heads: int, length: int,
              rate: float) -> jax.Array:
  """The kernel's dropout keep mask as a [batch, heads, length, length]."""
  return hash_dropout.keep_mask(seed, (batch, heads, length, length), rate)


def _full_seed(seed, batch_offset=0):
  """The kernel's uint32[4] seed: the two key words, the batch offset, 0."""
  seed = jnp.asarray(seed, jnp.uint32)
  return jnp.stack([seed[0], seed[1], jnp.asarray(batch_offset, jnp.uint32),
                    jnp.uint32(0)])


def _row_keys(seed_ref, b, n, first, count, heads: int, length: int):
  """hash_dropout's row keys of query rows first..first+count of (b, n).

  Rows are numbered across the whole [B, N, T] (seed_ref[2] is the shard's
  first batch row), as in hash_dropout.keep_mask.
  """
  head = (b.astype(jnp.uint32) + seed_ref[2]) * np.uint32(heads) + n.astype(
      jnp.uint32)
  rows = head * np.uint32(length) + (first + jnp.arange(count)).astype(
      jnp.uint32)
  return hash_dropout.row_keys(seed_ref, rows)[:, None]


def _keep(keys, first_col, count, threshold: int):
  """Keep mask of rows keyed `keys` [R, 1] at key positions first_col.."""
  cols = (first_col + jnp.arange(count)).astype(jnp.uint32)[None, :]
  return hash_dropout.bits(keys, cols) >= np.uint32(threshold)


def reference_attention(q, k, v, key_mask, seed, rate: float):
  """softmax(q k^T / sqrt(d) over unmasked keys), keep_mask dropout, times v.

  q, k, v: [B, T, N, D]; key_mask: bool [B, T]. The same computation as
  fused_attention, with XLA's einsums, in float32 softmax.
  """
  b, t, n, d = q.shape
  scores = jnp.einsum("bqnd,bknd->bnqk", q, k,
                      preferred_element_type=jnp.float32) / math.sqrt(d)
  scores = jnp.where(key_mask[:, None, None, :], scores, _MASKED)
  probs = jax.nn.softmax(scores, axis=-1)
  if rate > 0:
    keep = keep_mask(seed, b, n, t, rate)
    probs = jnp.where(keep, probs / hash_dropout.keep_probability(rate), 0.0)
  return jnp.einsum("bnqk,bknd->bqnd", probs.astype(v.dtype), v,
                    preferred_element_type=jnp.float32).astype(q.dtype)


# ---------------------------------------------------------------- kernels


def _dot(a, b, contract_a: int, contract_b: int):
  """a . b over one axis each, accumulated in float32 (tensor cores)."""
  return lax.dot_general(a, b, (((contract_a,), (contract_b,)), ((), ())),
                         preferred_element_type=jnp.float32)


def _scores(q, k, bias, scale):
  """Scaled scores of a q block against a k block, plus the key bias."""
  return _dot(q, k, 1, 1) * scale + bias[None, :]


def _forward_kernel(seed_ref, bias_ref, q_ref, k_ref, v_ref, o_ref, lse_ref,
                    *, scale, threshold, inv_keep, block_k, heads, length):
  b, n, qb = pl.program_id(0), pl.program_id(1), pl.program_id(2)
  block_q, depth = q_ref.shape
  q = q_ref[...]
  keys = _row_keys(seed_ref, b, n, qb * block_q, block_q, heads, length)

  def body(j, carry):
    m, l, acc = carry
    start = pl.multiple_of(j * block_k, block_k)
    k = k_ref[pl.ds(start, block_k), :]
    v = v_ref[pl.ds(start, block_k), :]
    s = _scores(q, k, bias_ref[pl.ds(start, block_k)], scale)
    m_new = jnp.maximum(m, jnp.max(s, axis=1))
    p = jnp.exp(s - m_new[:, None])
    alpha = jnp.exp(m - m_new)
    l = l * alpha + jnp.sum(p, axis=1)
    if threshold:
      p = jnp.where(_keep(keys, start, block_k, threshold), p * inv_keep, 0.)
    acc = acc * alpha[:, None] + _dot(p.astype(v.dtype), v, 1, 0)
    return m_new, l, acc

  m = jnp.full((block_q,), -jnp.inf, jnp.float32)
  l = jnp.zeros((block_q,), jnp.float32)
  acc = jnp.zeros((block_q, depth), jnp.float32)
  m, l, acc = lax.fori_loop(0, k_ref.shape[0] // block_k, body, (m, l, acc))
  o_ref[...] = (acc / l[:, None]).astype(o_ref.dtype)
  lse_ref[...] = m + jnp.log(l)


def _dkdv_kernel(seed_ref, bias_ref, q_ref, k_ref, v_ref, do_ref, lse_ref,
                 delta_ref, dk_ref, dv_ref, dq_ref=None, *, scale, threshold,
                 inv_keep, block_q, heads, length):
  """dk, dv of one key block; with dq_ref (one key block holds all keys),
  dq too, from the same recomputed probabilities."""
  b, n, kb = pl.program_id(0), pl.program_id(1), pl.program_id(2)
  block_k, depth = k_ref.shape
  k, v, bias = k_ref[...], v_ref[...], bias_ref[...]

  def body(i, carry):
    dk, dv = carry
    start = pl.multiple_of(i * block_q, block_q)
    q = q_ref[pl.ds(start, block_q), :]
    do = do_ref[pl.ds(start, block_q), :]
    lse = lse_ref[pl.ds(start, block_q)]
    p = jnp.exp(_scores(q, k, bias, scale) - lse[:, None])
    dp = _dot(do, v, 1, 1)
    if threshold:
      keys = _row_keys(seed_ref, b, n, start, block_q, heads, length)
      keep = _keep(keys, kb * block_k, block_k, threshold)
      pd = jnp.where(keep, p * inv_keep, 0.)
      dp = jnp.where(keep, dp * inv_keep, 0.)
    else:
      pd = p
    dv = dv + _dot(pd.astype(do.dtype), do, 0, 0)
    ds = p * (dp - delta_ref[pl.ds(start, block_q)][:, None])
    dk = dk + _dot(ds.astype(q.dtype), q, 0, 0)
    if dq_ref is not None:
      dq = _dot(ds.astype(k.dtype), k, 1, 0) * scale
      dq_ref[pl.ds(start, block_q), :] = dq.astype(dq_ref.dtype)
    return dk, dv

  zeros = jnp.zeros((block_k, depth), jnp.float32)
  dk, dv = lax.fori_loop(0, q_ref.shape[0] // block_q, body, (zeros, zeros))
  dk_ref[...] = (dk * scale).astype(dk_ref.dtype)
  dv_ref[...] = dv.astype(dv_ref.dtype)


def _dq_kernel(seed_ref, bias_ref, q_ref, k_ref, v_ref, do_ref, lse_ref,
               delta_ref, dq_ref, *, scale, threshold, inv_keep, block_k,
               heads, length):
  b, n, qb = pl.program_id(0), pl.program_id(1), pl.program_id(2)
  block_q, depth = q_ref.shape
  q, do, lse, delta = q_ref[...], do_ref[...], lse_ref[...], delta_ref[...]
  keys = _row_keys(seed_ref, b, n, qb * block_q, block_q, heads, length)

  def body(j, dq):
    start = pl.multiple_of(j * block_k, block_k)
    k = k_ref[pl.ds(start, block_k), :]
    v = v_ref[pl.ds(start, block_k), :]
    p = jnp.exp(_scores(q, k, bias_ref[pl.ds(start, block_k)], scale)
                - lse[:, None])
    dp = _dot(do, v, 1, 1)
    if threshold:
      keep = _keep(keys, start, block_k, threshold)
      dp = jnp.where(keep, dp * inv_keep, 0.)
    ds = p * (dp - delta[:, None])
    return dq + _dot(ds.astype(k.dtype), k, 1, 0)

  dq = lax.fori_loop(0, k_ref.shape[0] // block_k, body,
                     jnp.zeros((block_q, depth), jnp.float32))
  dq_ref[...] = (dq * scale).astype(dq_ref.dtype)


# ---------------------------------------------------------------- wrappers


def _compiler_params(num_warps: int, num_stages: int):
  return pl_triton.CompilerParams(num_warps=num_warps, num_stages=num_stages)


class _Plan:
  """Static settings of one call: blocks, grids and the pallas_call options."""

  def __init__(self, shape, mask_length, rate, block_q, block_k, num_warps,
               num_stages, interpret, packed=False):
    self.batch, self.length, self.heads, self.depth = shape
    # q, k, v as one [B, T, 3, N, D] array (a fused projection's output),
    # read in place by the kernels instead of as three [B, T, N, D] copies.
    self.packed = packed
    self.block_q, self.block_k = block_q, block_k
    self.scale = 1.0 / math.sqrt(self.depth)
    self.mask_length = mask_length  # T before padding: numbers mask rows
    self.threshold = hash_dropout.drop_threshold(rate) if rate > 0 else 0
    self.inv_keep = 1.0 / hash_dropout.keep_probability(rate) if rate else 1.0
    self.options = dict(interpret=True) if interpret else dict(
        compiler_params=_compiler_params(num_warps, num_stages))

  def common(self):
    return dict(scale=self.scale, threshold=self.threshold,
                inv_keep=self.inv_keep, heads=self.heads,
                length=self.mask_length)

  def seq(self, block):  # [B, T, N, D] arrays, one (b, n) and a T block
    return pl.BlockSpec((None, block, None, self.depth),
                        lambda b, n, i: (b, i, n, 0))

  def full(self):  # [B, T, N, D] arrays, one (b, n), all of T
    return pl.BlockSpec((None, self.length, None, self.depth),
                        lambda b, n, i: (b, 0, n, 0))

  def qkv_seq(self, block, slot):  # q (slot 0), k (1) or v (2): a T block
    if not self.packed:
      return self.seq(block)
    return pl.BlockSpec((None, block, None, None, self.depth),
                        lambda b, n, i: (b, i, slot, n, 0))

  def qkv_full(self, slot):  # q, k or v of one (b, n), all of T
    if not self.packed:
      return self.full()
    return pl.BlockSpec((None, self.length, None, None, self.depth),
                        lambda b, n, i: (b, 0, slot, n, 0))

  def out_shape(self, dtype):  # one [B, T, N, D] result
    return jax.ShapeDtypeStruct(
        (self.batch, self.length, self.heads, self.depth), dtype)

  def rows(self, block):  # [B, N, T] float32 statistics
    return pl.BlockSpec((None, None, block), lambda b, n, i: (b, n, i))

  def all_rows(self):
    return pl.BlockSpec((None, None, self.length), lambda b, n, i: (b, n, 0))

  def bias(self, block):  # [B, T] key bias
    return pl.BlockSpec((None, block), lambda b, n, i: (b, i))

  def all_bias(self):
    return pl.BlockSpec((None, self.length), lambda b, n, i: (b, 0))

  def seed(self):
    return pl.BlockSpec((4,), lambda b, n, i: (0,))

  def grid(self, block):
    return (self.batch, self.heads, self.length // block)


def _forward(plan: _Plan, seed, bias, q, k, v):
  """(out, lse); with plan.packed, q, k and v are one [B, T, 3, N, D]."""
  kernel = functools.partial(_forward_kernel, block_k=plan.block_k,
                             **plan.common())
  return pl.pallas_call(
      kernel, grid=plan.grid(plan.block_q),
      in_specs=[plan.seed(), plan.all_bias(), plan.qkv_seq(plan.block_q, 0),
                plan.qkv_full(1), plan.qkv_full(2)],
      out_specs=[plan.seq(plan.block_q), plan.rows(plan.block_q)],
      out_shape=[plan.out_shape(q.dtype), jax.ShapeDtypeStruct(
          (plan.batch, plan.heads, plan.length), jnp.float32)],
      name="kwls_attention_fwd", **plan.options)(seed, bias, q, k, v)


def _backward(plan: _Plan, seed, bias, q, k, v, out, lse, do):
  """(dq, dk, dv), each [B, T, N, D]; q, k, v as in _forward."""
  delta = jnp.einsum("btnd,btnd->bnt", out.astype(jnp.float32),
                     do.astype(jnp.float32))
  args = (seed, bias, q, k, v, do, lse, delta)
  # One key block holding every key: dq comes from the same kernel.
  with_dq = plan.block_k >= plan.length
  out_specs = [plan.seq(plan.block_k), plan.seq(plan.block_k)]
  out_shape = [plan.out_shape(q.dtype)] * 2
  if with_dq:
    out_specs.append(plan.full())
    out_shape.append(plan.out_shape(q.dtype))
  grads = pl.pallas_call(
      functools.partial(_dkdv_kernel, block_q=plan.block_q, **plan.common()),
      grid=plan.grid(plan.block_k),
      in_specs=[plan.seed(), plan.bias(plan.block_k), plan.qkv_full(0),
                plan.qkv_seq(plan.block_k, 1), plan.qkv_seq(plan.block_k, 2),
                plan.full(), plan.all_rows(), plan.all_rows()],
      out_specs=out_specs, out_shape=out_shape,
      name="kwls_attention_bwd" if with_dq else "kwls_attention_dkdv",
      **plan.options)(*args)
  if with_dq:
    dk, dv, dq = grads
    return dq, dk, dv
  dk, dv = grads
  dq = pl.pallas_call(
      functools.partial(_dq_kernel, block_k=plan.block_k, **plan.common()),
      grid=plan.grid(plan.block_q),
      in_specs=[plan.seed(), plan.all_bias(), plan.qkv_seq(plan.block_q, 0),
                plan.qkv_full(1), plan.qkv_full(2), plan.seq(plan.block_q),
                plan.rows(plan.block_q), plan.rows(plan.block_q)],
      out_specs=plan.seq(plan.block_q),
      out_shape=plan.out_shape(q.dtype),
      name="kwls_attention_dq", **plan.options)(*args)
  return dq, dk, dv


def _qkv(plan: _Plan, arrays):
  """_forward's q, k, v: the arrays, or the one packed array three times."""
  return arrays * 3 if plan.packed else arrays


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _attention(plan, seed, bias, *arrays):
  """Attention of (q, k, v), or of (qkv,) when plan.packed."""
  return _forward(plan, seed, bias, *_qkv(plan, arrays))[0]


def _attention_fwd(plan, seed, bias, *arrays):
  out, lse = _forward(plan, seed, bias, *_qkv(plan, arrays))
  return out, (seed, bias, arrays, out, lse)


def _attention_bwd(plan, residuals, do):
  seed, bias, arrays, out, lse = residuals
  grads = _backward(plan, seed, bias, *_qkv(plan, arrays), out, lse, do)
  if plan.packed:  # one gradient, [B, T, 3, N, D]
    grads = (jnp.stack(grads, axis=2),)
  return (np.zeros(seed.shape, jax.dtypes.float0), jnp.zeros_like(bias),
          *grads)


_attention.defvjp(_attention_fwd, _attention_bwd)


def _padded_length(length: int, block: int) -> int:
  return -(-length // block) * block


def fused_attention(q, k, v, key_mask, seed=None, rate: float = 0.0, *,
                    block_q: int | None = None, block_k: int | None = None,
                    num_warps: int | None = None,
                    num_stages: int | None = None,
                    interpret: bool | None = None) -> jax.Array:
  """reference_attention's result in one fused kernel, differentiable.

  Args:
    q, k, v: [B, T, N, D] queries, keys and values (bfloat16 or float32).
    key_mask: [B, T] bool, False for padding keys.
    seed: uint32[2] dropout seed (hash_dropout.seed_from_key(key)); None
      when rate is 0.
    rate: attention dropout rate, static; 0 for none (evaluation).
    block_q, block_k: query and key block lengths (powers of two, >= 16 on
      a GPU); T is padded up to a multiple of both.
    num_warps, num_stages: Triton's warps per program and pipeline stages.
    (Arguments left None come from KERNEL_OPTIONS.)
    interpret: run in Pallas' interpreter; default: on a CPU.

  Returns:
    [B, T, N, D] in q's dtype.
  """
  if q.ndim != 4 or k.shape != q.shape or v.shape != q.shape:
    raise ValueError(f"q, k, v must share one [B, T, N, D] shape; got "
                     f"{q.shape}, {k.shape}, {v.shape}")
  return _run((q, k, v), False, key_mask, seed, rate, block_q, block_k,
              num_warps, num_stages, interpret)


def fused_attention_qkv(qkv, key_mask, seed=None, rate: float = 0.0, *,
                        block_q: int | None = None, block_k: int | None = None,
                        num_warps: int | None = None,
                        num_stages: int | None = None,
                        interpret: bool | None = None) -> jax.Array:
  """fused_attention(qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], ...).

  qkv: [B, T, 3, N, D], queries, keys and values side by side, as a fused
  [H, 3H] projection gives them (its [B, T, 3H] output reshaped). The
  kernels read the three in place, and the gradient comes back as one
  [B, T, 3, N, D]: XLA copies nothing out of the projection's output
  (fused_attention's q, k, v slices of it would each be a copy). Other
  arguments and the result are fused_attention's.
  """
  if qkv.ndim != 5 or qkv.shape[2] != 3:
    raise ValueError(f"qkv must be [B, T, 3, N, D]; got {qkv.shape}")
  return _run((qkv,), True, key_mask, seed, rate, block_q, block_k,
              num_warps, num_stages, interpret)


def _run(arrays, packed, key_mask, seed, rate, block_q, block_k, num_warps,
         num_stages, interpret):
  """fused_attention of (q, k, v), or of (qkv,) when packed."""
  b, t = arrays[0].shape[:2]
  n, d = arrays[0].shape[-2:]
  if key_mask.shape != (b, t):
    raise ValueError(f"key_mask must be [B, T] = {(b, t)}, got "
                     f"{key_mask.shape}")
  if not 0.0 <= rate < 1.0:
    raise ValueError(f"dropout rate must be in [0, 1), got {rate}")
  if rate > 0 and seed is None:
    raise ValueError("a dropout rate > 0 needs a seed "
                     "(hash_dropout.seed_from_key(key))")
  backend = jax.default_backend()
  if interpret is None:
    interpret = backend == "cpu"
  if not interpret and backend == "tpu":
    raise ValueError("the Pallas attention kernel is written for GPUs "
                     "(Triton); on a TPU use attention_impl 'einsum'")
  block_q = block_q or KERNEL_OPTIONS["block_q"]
  block_k = block_k or KERNEL_OPTIONS["block_k"]
  num_warps = num_warps or KERNEL_OPTIONS["num_warps"]
  num_stages = num_stages or KERNEL_OPTIONS["num_stages"]
  for name, size in (("block_q", block_q), ("block_k", block_k)):
    if size < 1 or size & (size - 1):
      raise ValueError(f"{name} must be a power of two, got {size}")
  if not interpret and (d < 16 or d & (d - 1) or min(block_q, block_k) < 16):
    raise ValueError(f"the GPU kernel needs a head size and blocks that are "
                     f"powers of two >= 16; got head size {d}, blocks "
                     f"{block_q}, {block_k}")
  length = _padded_length(t, max(block_q, block_k))
  if length != t:
    arrays = tuple(
        jnp.pad(x, [(0, 0), (0, length - t)] + [(0, 0)] * (x.ndim - 2))
        for x in arrays)
    key_mask = jnp.pad(key_mask, [(0, 0), (0, length - t)])
  bias = jnp.where(key_mask, 0.0, _MASKED).astype(jnp.float32)
  seed = jnp.zeros((2,), jnp.uint32) if seed is None else seed
  options = (rate, block_q, block_k, num_warps, num_stages, interpret, packed)
  mesh = jax.sharding.get_abstract_mesh()
  if mesh.empty or mesh.size == 1 or b % mesh.size:
    plan = _Plan((b, length, n, d), t, *options)
    return _attention(plan, _full_seed(seed), bias, *arrays)[:, :t]
  # Under a device mesh (the trainer's data parallelism) each device runs
  # the kernel on its rows of the batch; XLA cannot split the custom call.
  plan = _Plan((b // mesh.size, length, n, d), t, *options)
  rows = P(mesh.axis_names)

  def shard(seed, bias, *arrays):
    offset = lax.axis_index(mesh.axis_names) * arrays[0].shape[0]
    return _attention(plan, _full_seed(seed, offset), bias, *arrays)

  out = jax.shard_map(shard, mesh=mesh,
                      in_specs=(P(), rows) + (rows,) * len(arrays),
                      out_specs=rows, check_vma=False)(seed, bias, *arrays)
  return out[:, :t]
