"""Tests for the fused attention kernel (Pallas' interpreter on the CPU)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import attention_kernel as ak
from kwls_jax.models import hash_dropout

B, T, N, D = 2, 37, 3, 8  # T: no multiple of any block


def _inputs(dtype=jnp.float32, length=T):
  keys = jax.random.split(jax.random.key(0), 4)
  q, k, v = (jax.random.normal(key, (B, length, N, D), dtype)
             for key in keys[:3])
  mask = jnp.arange(length)[None, :] < jnp.array([[length], [20]])
  return q, k, v, mask, hash_dropout.seed_from_key(keys[3])


@pytest.mark.parametrize("rate", [0.0, 0.1])
@pytest.mark.parametrize("blocks", [(16, 16), (16, 32), (64, 16),
                                    (16, 64)])  # one key block: fused dq
def test_forward_and_gradients_match_the_einsum_reference(rate, blocks):
  q, k, v, mask, seed = _inputs()
  fused = lambda q, k, v: ak.fused_attention(
      q, k, v, mask, seed, rate, block_q=blocks[0], block_k=blocks[1])
  reference = lambda q, k, v: ak.reference_attention(q, k, v, mask, seed, rate)
  np.testing.assert_allclose(fused(q, k, v), reference(q, k, v), atol=2e-6)
  weights = jax.random.normal(jax.random.key(5), q.shape)
  grads = [jax.grad(lambda *x: jnp.sum(f(*x) * weights), argnums=(0, 1, 2))(
      q, k, v) for f in (fused, reference)]
  for got, want in zip(*grads):
    assert np.abs(want).max() > 0.5
    np.testing.assert_allclose(got, want, atol=5e-6)


@pytest.mark.parametrize("blocks", [(16, 16), (16, 64)])  # dq: own kernel, not
def test_packed_qkv_is_fused_attention_of_its_slices(blocks):
  q, k, v, mask, seed = _inputs()
  qkv = jnp.stack([q, k, v], axis=2)  # [B, T, 3, N, D]
  options = dict(block_q=blocks[0], block_k=blocks[1])
  packed = lambda qkv: ak.fused_attention_qkv(  # noqa: E731
      qkv, mask, seed, 0.1, **options)
  sliced = lambda qkv: ak.fused_attention(  # noqa: E731
      qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2], mask, seed, 0.1, **options)
  np.testing.assert_array_equal(packed(qkv), sliced(qkv))
  weights = jax.random.normal(jax.random.key(5), q.shape)
  got, want = (jax.grad(lambda x: jnp.sum(f(x) * weights))(qkv)
               for f in (packed, sliced))
  assert got.shape == qkv.shape and np.abs(want[:, :, 2]).max() > 0.5
  np.testing.assert_allclose(got, want, atol=1e-6)
  with pytest.raises(ValueError, match=r"\[B, T, 3, N, D\]"):
    ak.fused_attention_qkv(q, mask, seed, 0.1)


def test_padding_keys_and_rows_have_no_influence():
  q, k, v, mask, seed = _inputs()
  out = ak.fused_attention(q, k, v, mask, seed, 0.1, block_q=16, block_k=16)
  noise = jax.random.normal(jax.random.key(9), k.shape)
  changed = ak.fused_attention(q, jnp.where(mask[..., None, None], k, noise),
                               jnp.where(mask[..., None, None], v, noise),
                               mask, seed, 0.1, block_q=16, block_k=16)
  np.testing.assert_array_equal(out, changed)


def test_bfloat16_is_close_to_the_float32_reference():
  q, k, v, mask, seed = _inputs(jnp.bfloat16)
  out = ak.fused_attention(q, k, v, mask, seed, 0.1, block_q=16, block_k=16)
  assert out.dtype == jnp.bfloat16
  want = ak.reference_attention(*(x.astype(jnp.float32) for x in (q, k, v)),
                                mask, seed, 0.1)
  np.testing.assert_allclose(out.astype(jnp.float32), want, atol=0.05)


def test_rate_zero_is_plain_attention_and_needs_no_seed():
  q, k, v, mask, _ = _inputs()
  out = ak.fused_attention(q, k, v, mask, block_q=16, block_k=16)
  scores = jnp.einsum("bqnd,bknd->bnqk", q, k) / np.sqrt(D)
  scores = jnp.where(mask[:, None, None, :], scores, -jnp.inf)
  want = jnp.einsum("bnqk,bknd->bqnd", jax.nn.softmax(scores), v)
  np.testing.assert_allclose(out, want, atol=2e-6)


def test_dropout_scales_kept_probabilities_and_drops_the_rest():
  q, k, _, mask, seed = _inputs()
  pad = [(0, 0)] * 3 + [(0, T - D)]  # zero features change no score
  q, k = jnp.pad(q, pad), jnp.pad(k, pad)
  v = jnp.broadcast_to(jnp.eye(T)[None, :, None, :], (B, T, N, T))
  probs = lambda rate: jnp.einsum("bqnt->bnqt", ak.fused_attention(
      q, k, v, mask, seed, rate, block_q=16, block_k=16))
  keep = ak.keep_mask(seed, B, N, T, 0.25)
  dropped = probs(0.25)
  assert np.all(np.asarray(dropped)[~np.asarray(keep)] == 0)
  np.testing.assert_allclose(dropped, jnp.where(keep, probs(0.0) / 0.75, 0),
                             atol=1e-6)


def test_a_tpu_is_told_to_use_einsum(monkeypatch):
  q, k, v, mask, seed = _inputs()
  monkeypatch.setattr(jax, "default_backend", lambda: "tpu")
  with pytest.raises(ValueError, match="TPU use attention_impl 'einsum'"):
    ak.fused_attention(q, k, v, mask, seed, 0.1)


def test_bad_arguments_are_refused():
  q, k, v, mask, seed = _inputs()
  with pytest.raises(ValueError, match="seed"):
    ak.fused_attention(q, k, v, mask, None, 0.1)
  with pytest.raises(ValueError, match="rate"):
    ak.fused_attention(q, k, v, mask, seed, 1.0)
  with pytest.raises(ValueError, match="key_mask"):
    ak.fused_attention(q, k, v, mask[:, :5], seed, 0.1)
  with pytest.raises(ValueError, match="shape"):
    ak.fused_attention(q, k[:, :5], v, mask, seed, 0.1)
  with pytest.raises(ValueError, match="power of two"):
    ak.fused_attention(q, k, v, mask, seed, 0.1, block_q=24)
  with pytest.raises(ValueError, match="head size 8"):  # Triton's dot: >= 16
    ak.fused_attention(q, k, v, mask, seed, 0.1, interpret=False)


def test_lowers_to_triton_kernels_for_a_gpu():
  """The GPU lowering (Pallas -> Triton IR) is checked here, without a GPU."""
  q = jax.ShapeDtypeStruct((4, 160, 12, 64), jnp.bfloat16)
  mask = jax.ShapeDtypeStruct((4, 160), jnp.bool_)
  seed = jax.ShapeDtypeStruct((2,), jnp.uint32)

  def loss(q, k, v, mask, seed, block_k=64):
    out = ak.fused_attention(q, k, v, mask, seed, 0.1, block_k=block_k,
                             interpret=False)
    return jnp.sum(out.astype(jnp.float32))

  grad = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))
  text = grad.trace(q, q, q, mask, seed).lower(
      lowering_platforms=("cuda",)).as_text()
  for name in ("kwls_attention_fwd", "kwls_attention_dkdv",
               "kwls_attention_dq"):
    assert name in text
  # One key block of all 256 keys (160 padded): dq, dk, dv from one kernel.
  fused = jax.jit(jax.grad(lambda *x: loss(*x, block_k=256), argnums=(0, 1, 2)))
  text = fused.trace(q, q, q, mask, seed).lower(
      lowering_platforms=("cuda",)).as_text()
  assert "kwls_attention_bwd" in text and "kwls_attention_dq" not in text
  # q, k, v read in place from one [B, T, 3, N, D] array.
  qkv = jax.ShapeDtypeStruct((4, 160, 3, 12, 64), jnp.bfloat16)
  packed = jax.jit(jax.grad(lambda qkv, mask, seed: jnp.sum(
      ak.fused_attention_qkv(qkv, mask, seed, 0.1, interpret=False)
      .astype(jnp.float32))))
  text = packed.trace(qkv, mask, seed).lower(
      lowering_platforms=("cuda",)).as_text()
  for name in ("kwls_attention_fwd", "kwls_attention_dkdv",
               "kwls_attention_dq"):
    assert name in text
