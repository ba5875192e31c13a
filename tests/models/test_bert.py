"""Tests for the NNX BERT encoder and classifier on a tiny config."""

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax.models import bert
from kwls_jax.models import dropout
from kwls_jax.models import hash_dropout

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


def test_pallas_attention_matches_einsum_without_dropout():
  pallas = bert.BertConfig(**{**CONFIG.__dict__, "attention_impl": "pallas"})
  l1, g1 = _loss_and_grads(bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(0)),
                           True)
  l2, g2 = _loss_and_grads(bert.BertClassifier(pallas, 3, rngs=nnx.Rngs(0)),
                           True)
  np.testing.assert_allclose(l1, l2, rtol=1e-6)
  for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("fused_qkv", [True, False])  # packed q/k/v or not
def test_pallas_attention_draws_the_masks_of_hashed_dropout(fused_qkv):
  """In training, the kernel's attention dropout is the einsum path's with
  hashed masks (dropout_draws: hash): the two models take the same steps."""
  def model(attention):
    config = bert.BertConfig(**{**CONFIG.__dict__, "attention_impl": attention,
                                "dropout_draws": "hash", "fused_qkv": fused_qkv,
                                "attention_probs_dropout_prob": 0.3})
    return bert.BertClassifier(config, 3, rngs=nnx.Rngs(0))

  kernel, einsum = model("pallas"), model("einsum")
  got = [_loss_and_grads(kernel, False) for _ in range(2)]
  assert float(got[0][0]) != float(got[1][0])  # a new mask each step
  clean, _ = _loss_and_grads(kernel, True)
  assert float(clean) not in (float(got[0][0]), float(got[1][0]))
  for (l1, g1), (l2, g2) in zip(
      got, [_loss_and_grads(einsum, False) for _ in range(2)]):
    np.testing.assert_allclose(l1, l2, rtol=1e-6)
    for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-7)


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


def test_fused_qkv_matches_separate_projections():
  """One [H, 3H] matmul gives the three projections' outputs and gradients."""
  separate = bert.BertClassifier(
      bert.BertConfig(**{**CONFIG.__dict__, "fused_qkv": False}), 3,
      rngs=nnx.Rngs(0))
  fused = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(0))
  assert CONFIG.fused_qkv
  labels = jnp.array([0, 2])

  def loss(model):
    logits = model(IDS, IDS != 0, deterministic=True)
    return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(2), labels])

  l1, g1 = nnx.value_and_grad(loss)(separate)
  l2, g2 = nnx.value_and_grad(loss)(fused)
  np.testing.assert_allclose(l1, l2, rtol=1e-6)
  for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_dropout_draws_option():
  nnx_draws = bert.BertClassifier(
      bert.BertConfig(**{**CONFIG.__dict__, "dropout_draws": "nnx"}), 3,
      rngs=nnx.Rngs(0))
  assert type(nnx_draws.dropout) is nnx.Dropout  # pylint: disable=unidiomatic-typecheck
  bits = bert.BertClassifier(
      bert.BertConfig(**{**CONFIG.__dict__, "dropout_draws": "bits16"}), 3,
      rngs=nnx.Rngs(0))
  assert isinstance(bits.dropout, dropout.Dropout)
  hashed = bert.BertClassifier(
      bert.BertConfig(**{**CONFIG.__dict__, "dropout_draws": "hash"}), 3,
      rngs=nnx.Rngs(0))
  assert isinstance(hashed.dropout, hash_dropout.Dropout)
  assert (jax.tree.structure(nnx.state(hashed))
          == jax.tree.structure(nnx.state(bits)))
  # Same parameters and RNG state either way: checkpoints are interchangeable.
  assert (jax.tree.structure(nnx.state(nnx_draws))
          == jax.tree.structure(nnx.state(bits)))
  with pytest.raises(ValueError, match="dropout_draws"):
    bert.BertConfig(dropout_draws="philox")


def test_dropout_draws_auto_is_hash_on_cpu_and_nnx_on_accelerators():
  assert CONFIG.dropout_draws == "auto"
  assert bert.dropout_draws(CONFIG, "cpu") == "hash"
  assert bert.dropout_draws(CONFIG, "gpu") == "nnx"
  assert bert.dropout_draws(CONFIG, "tpu") == "nnx"
  explicit = bert.BertConfig(**{**CONFIG.__dict__, "dropout_draws": "nnx"})
  assert bert.dropout_draws(explicit, "cpu") == "nnx"
  # Built where JAX runs: these tests run on the CPU.
  model = bert.BertClassifier(CONFIG, 3, rngs=nnx.Rngs(0))
  expected = (hash_dropout.Dropout if jax.default_backend() == "cpu"
              else nnx.Dropout)
  assert type(model.dropout) is expected  # pylint: disable=unidiomatic-typecheck


@pytest.mark.parametrize("draws,attention", [
    ("nnx", "einsum"), ("bits16", "einsum"), ("hash", "einsum"),
    ("auto", "pallas")])
def test_remat_policies_recompute_the_same_dropout_and_gradients(draws,
                                                                  attention):
  def run(remat):
    config = bert.BertConfig(**{**CONFIG.__dict__, "remat": remat,
                                "dropout_draws": draws,
                                "attention_impl": attention})
    model = bert.BertClassifier(config, 3, rngs=nnx.Rngs(0))
    labels = jnp.array([0, 2])

    def loss(model):
      logits = model(IDS, IDS != 0, deterministic=False)
      return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(2), labels])

    steps = [nnx.value_and_grad(loss)(model) for _ in range(2)]
    return steps, nnx.state(model, nnx.RngState)

  (want, want_rng) = run("none")
  assert float(want[0][0]) != float(want[1][0])  # dropout moved on a step
  for remat in ("dots", "dots_no_batch", "nothing"):
    got, got_rng = run(remat)
    for (l1, g1), (l2, g2) in zip(want, got):
      assert float(l1) == float(l2)  # the forward pass is the same program
      for a, b in zip(jax.tree.leaves(g1), jax.tree.leaves(g2)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-8)
    assert (jax.tree.map(jnp.shape, got_rng)
            == jax.tree.map(jnp.shape, want_rng))
    for a, b in zip(jax.tree.leaves(want_rng), jax.tree.leaves(got_rng)):
      if jnp.issubdtype(a.dtype, jax.dtypes.prng_key):
        a, b = jax.random.key_data(a), jax.random.key_data(b)
      np.testing.assert_array_equal(a, b)


def test_remat_keeps_fewer_residuals():
  ids = np.tile(np.array([[2, 5, 6, 7, 8, 9, 10, 11, 3, 0]], np.int32), (16, 2))

  def residual_bytes(remat):
    config = bert.BertConfig(**{**CONFIG.__dict__, "remat": remat})
    graphdef, state = nnx.split(bert.BertModel(config, rngs=nnx.Rngs(0)))

    def f(state):
      model = nnx.merge(graphdef, state)
      return jnp.sum(model(ids, ids != 0, deterministic=False)
                     .last_hidden_state)

    # The leaves of a VJP closure are the residuals; inputs kept as they are
    # (the parameters) do not count.
    _, vjp = jax.vjp(f, state)
    inputs = {id(x) for x in jax.tree.leaves(state)}
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(vjp)
               if id(x) not in inputs)

  none, dots, nothing = map(residual_bytes, ("none", "dots", "nothing"))
  assert nothing < dots < none / 2, (none, dots, nothing)


def test_unknown_remat_is_refused():
  with pytest.raises(ValueError, match="remat"):
    bert.BertConfig(remat="everything")
