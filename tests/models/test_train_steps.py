"""A few Eq. 9 training steps lower the loss for every registered model."""

from flax import nnx
import numpy as np
import optax
import pytest

from kwls_jax import models
from kwls_jax.training import loss as loss_lib

VOCAB, LENGTH, LABELS = 24, 10, 3
CONFIGS = {
    "textcnn": dict(vocab_size=VOCAB, embed_dim=16, num_filters=8),
    "lstm": dict(vocab_size=VOCAB, embed_dim=16, hidden_size=16),
    "bert": dict(preset="minilm-l6", vocab_size=VOCAB, hidden_size=32,
                 num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=LENGTH),
}
RATES = {"textcnn": 1e-2, "lstm": 1e-2, "bert": 3e-3}


def _task(seed=0, n=48):
  """Label k is the id 3 + k planted in random text; ragged lengths."""
  rng = np.random.default_rng(seed)
  ids = rng.integers(6, VOCAB, size=(n, LENGTH)).astype(np.int32)
  labels = rng.integers(0, LABELS, size=n)
  lengths = rng.integers(4, LENGTH + 1, size=n)
  ids[np.arange(n), rng.integers(0, 4, size=n)] = 3 + labels
  mask = np.arange(LENGTH)[None] < lengths[:, None]
  ids = np.where(mask, ids, 0)
  soft = 0.1 / LABELS + 0.9 * np.eye(LABELS)[labels]
  return ids, mask.astype(np.int32), labels, soft.astype(np.float32)


@nnx.jit
def _train_step(model, optimizer, ids, mask, labels, soft):
  def loss_fn(model):
    return loss_lib.eq9_loss(model(ids, mask), labels, soft, 0.5)
  loss, grads = nnx.value_and_grad(loss_fn)(model)
  optimizer.update(model, grads)
  return loss


@nnx.jit
def _eval_loss(model, ids, mask, labels, soft):
  return loss_lib.eq9_loss(model(ids, mask, deterministic=True), labels, soft,
                           0.5)


@pytest.mark.parametrize("name", models.MODEL_NAMES)
def test_few_steps_reduce_eq9_loss(name):
  model = models.create_model(name, LABELS, nnx.Rngs(0), **CONFIGS[name])
  optimizer = nnx.Optimizer(model, optax.adamw(RATES[name]), wrt=nnx.Param)
  batch = _task()
  before = float(_eval_loss(model, *batch))
  losses = [float(_train_step(model, optimizer, *batch)) for _ in range(12)]
  after = float(_eval_loss(model, *batch))
  assert np.all(np.isfinite(losses))
  assert after < 0.8 * before, (before, after, losses)


def test_registry_rejects_unknown_names():
  with pytest.raises(ValueError, match="unknown model"):
    models.create_model("gpt", 2, nnx.Rngs(0))
  with pytest.raises(ValueError, match="preset"):
    models.create_model("bert", 2, nnx.Rngs(0), preset="huge")

