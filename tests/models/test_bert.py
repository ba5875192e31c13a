"""Tests for the NNX BERT encoder and classifier on a tiny config."""

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import bert

CONFIG = bert.BertConfig(vocab_size=40, hidden_size=16, num_hidden_layers=2,
                         num_attention_heads=4, intermediate_size=32,
                         max_position_embeddings=24)
IDS = np.array([[2, 5, 6, 7, 3, 0], [2, 9, 3, 0, 0, 0]], np.int32)


@nnx.jit(static_argnames="deterministic")
def _forward(model, ids, deterministic=True):
  return model(ids, ids != 0, deterministic=deterministic)


@pytest.fixture(scope="module")
def model():
  return bert.BertModel(CONFIG, rngs=nnx.Rngs(0))


def test_shapes(model):
  out = _forward(model, IDS)
  assert out.last_hidden_state.shape == (2, 6, 16)
  assert out.pooler_output.shape == (2, 16)
  no_pooler = bert.BertModel(CONFIG, rngs=nnx.Rngs(0), add_pooler=False)
  assert _forward(no_pooler, IDS).pooler_output is None


def test_extra_padding_changes_nothing(model):
  padded = np.pad(IDS, ((0, 0), (0, 10)))
  short, long = _forward(model, IDS), _forward(model, padded)
  mask = IDS != 0
  np.testing.assert_allclose(short.last_hidden_state[mask],
                             long.last_hidden_state[:, :6][mask], atol=1e-5)
  np.testing.assert_allclose(short.pooler_output, long.pooler_output,
                             atol=1e-5)


def test_determinism_and_dropout():
  a = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(7))
  b = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(7))
  c = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(8))
  assert _forward(a, IDS).shape == (2, 3)
  np.testing.assert_array_equal(_forward(a, IDS), _forward(b, IDS))
  assert not np.allclose(_forward(a, IDS), _forward(c, IDS))
  assert not np.allclose(_forward(a, IDS, deterministic=False),
                         _forward(a, IDS, deterministic=False))  # Dropout.


def test_fused_attention_matches_einsum(model):
  fused = bert.BertModel(
      bert.BertConfig(**{**CONFIG.__dict__, "attention_impl": "xla"}),
      rngs=nnx.Rngs(0))
  np.testing.assert_allclose(_forward(model, IDS).last_hidden_state,
                             _forward(fused, IDS).last_hidden_state, atol=1e-5)


def _loss_and_grads(model, deterministic):
  labels = jnp.array([0, 2])

  def loss(model):
    logits = model(IDS, IDS != 0, deterministic=deterministic)
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(2), labels])

  return nnx.value_and_grad(loss)(model)


def test_unknown_attention_impl_is_refused():
  with pytest.raises(ValueError, match="attention_impl"):
    bert.BertConfig(attention_impl="flash")


def test_bf16_compute_keeps_float32_params():
  model = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(0), dtype=jnp.bfloat16)
  params = jax.tree.leaves(nnx.state(model, nnx.Param))
  assert all(p.dtype == jnp.float32 for p in params)
  logits = _forward(model, IDS)
  assert logits.dtype == jnp.float32
  assert np.all(np.isfinite(logits))


def test_gelu_is_exact_erf(model):
  x = jnp.linspace(-3, 3, 7)
  np.testing.assert_allclose(
      model.layers[0].activation(x),
      0.5 * x * (1 + jax.scipy.special.erf(x / np.sqrt(2))), atol=1e-6)


def test_gelu_gradient_is_autodiffs_and_keeps_only_its_input():
  x = jnp.linspace(-8, 8, 4001, dtype=jnp.float32)
  exact = lambda x: jax.nn.gelu(x, approximate=False)  # noqa: E731
  np.testing.assert_array_equal(bert.gelu(x), exact(x))
  weights = jnp.cos(x)  # any cotangent, not only ones
  np.testing.assert_allclose(
      jax.grad(lambda x: jnp.sum(bert.gelu(x) * weights))(x),
      jax.grad(lambda x: jnp.sum(exact(x) * weights))(x), atol=1e-6)
  # bf16 in, bf16 gradient out (computed in float32 inside)
  assert jax.grad(lambda x: jnp.sum(bert.gelu(x)).astype(jnp.float32))(
      x.astype(jnp.bfloat16)).dtype == jnp.bfloat16

  def residuals(f):  # the arrays a VJP closure keeps, other than x itself
    _, vjp = jax.vjp(f, x)
    return [r for r in jax.tree.leaves(vjp) if r is not x]

  assert not residuals(bert.gelu)  # keeps x only
  assert len(residuals(exact)) >= 2  # autodiff keeps more


def test_config_from_dict_ignores_unknown_and_rejects_relative_positions():
  config = bert.BertConfig.from_dict({"hidden_size": 8, "model_type": "bert"})
  assert config.hidden_size == 8
  with pytest.raises(ValueError):
    bert.BertConfig.from_dict({"position_embedding_type": "relative_key"})
  assert bert.BertConfig.minilm_l6().hidden_size == 384
  assert bert.BertConfig.bert_base().num_hidden_layers == 12


def test_fused_qkv_equals_the_three_projections(model):
  """One [H, 3H] matmul gives what the query, key and value layers give."""
  attention = model.layers[0].attention
  x = jax.random.normal(jax.random.key(1), (2, 6, 16))
  qkv = bert._fused_dense(x, [attention.query, attention.key, attention.value])  # pylint: disable=protected-access
  want = jnp.concatenate(
      [attention.query(x), attention.key(x), attention.value(x)], axis=-1)
  np.testing.assert_allclose(qkv, want, rtol=1e-6, atol=1e-6)

