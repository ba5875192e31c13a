"""Dual encoders of each model family: shapes, unit embeddings, towers, scores."""

from __future__ import annotations

from flax import nnx
import jax
import numpy as np
import pytest

from kwls_jax.retrieval import dual_encoder
from kwls_jax.training import config as config_lib

VOCAB, LENGTH, DIM = 30, 12, 8
MODELS = {
    "textcnn": {"embed_dim": 16, "options": {"num_filters": 4}},
    "lstm": {"embed_dim": 16, "options": {"hidden_size": 8}},
    "bert": {"vocab": "unused", "preset": "minilm-l6",
             "options": {"hidden_size": 16,
                         "num_hidden_layers": 1, "num_attention_heads": 2,
                         "intermediate_size": 32,
                         "max_position_embeddings": LENGTH}},
}


def _config(name: str, shared: bool = True) -> config_lib.TrainConfig:
  return config_lib.load(None, [], task="retrieval",
                         model={"name": name, "max_length": LENGTH,
                                **MODELS[name]},
                         retrieval={"benchmark": "b", "embed_dim": DIM,
                                    "temperature": 0.1,
                                    "shared_tower": shared})


def _ids(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  rng = np.random.default_rng(seed)
  ids = rng.integers(5, VOCAB, size=(n, LENGTH)).astype(np.int32)
  mask = (np.arange(LENGTH)[None] < rng.integers(3, LENGTH + 1, (n, 1)))
  return np.where(mask, ids, 0), mask.astype(np.int32)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_towers_give_unit_embeddings_and_scaled_cosines(name):
  model = dual_encoder.build(_config(name), VOCAB, nnx.Rngs(0))
  q_ids, q_mask = _ids(3)
  s_ids, s_mask = _ids(5, seed=1)
  q = np.asarray(model.embed_queries(q_ids, q_mask, deterministic=True))
  s = np.asarray(model.embed_candidates(s_ids, s_mask, deterministic=True))
  assert q.shape == (3, DIM) and s.shape == (5, DIM)
  np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, rtol=1e-5)
  logits = np.asarray(model(q_ids, q_mask, s_ids, s_mask, deterministic=True))
  assert logits.shape == (3, 5)
  np.testing.assert_allclose(logits, q @ s.T / 0.1, rtol=1e-4, atol=1e-4)
  # A shared tower embeds a text the same way on both sides.
  np.testing.assert_allclose(
      model.embed_candidates(q_ids, q_mask, deterministic=True), q, atol=1e-6)


def test_separate_towers_have_their_own_parameters():
  shared = dual_encoder.build(_config("textcnn"), VOCAB, nnx.Rngs(0))
  two = dual_encoder.build(_config("textcnn", shared=False), VOCAB,
                           nnx.Rngs(0))
  count = lambda m: sum(x.size for x in jax.tree.leaves(
      nnx.state(m, nnx.Param)))
  assert count(two) == 2 * count(shared)
  ids, mask = _ids(4)
  q = two.embed_queries(ids, mask, deterministic=True)
  s = two.embed_candidates(ids, mask, deterministic=True)
  assert not np.allclose(q, s, atol=1e-3)


def test_normalize_leaves_a_zero_row_zero():
  x = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
  np.testing.assert_allclose(dual_encoder.normalize(x),
                             [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
