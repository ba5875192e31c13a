"""Dual encoder of a model family: towers map token ids to unit vectors.

A tower is the family's network (TextCNN, BiLSTM or BERT) with its output
layer sized `embed_dim`: the family's pooled representation (max-over-time
filters, mean+max BiLSTM states, BERT's tanh pooler) through a linear
projection. One tower embeds queries and candidates unless the candidates
get their own. Embeddings are L2-normalised and the score of a query q and a
candidate s is cos(q, s) / temperature, the logit of the softmax over
candidates (Eq. 9's o).
"""

from __future__ import annotations

from flax import nnx
import jax
import jax.numpy as jnp

from kwls_jax.models import families
from kwls_jax.training import state as state_lib


def normalize(x: jax.Array) -> jax.Array:
  """Rows of x [N, D] scaled to unit L2 norm (a zero row stays zero)."""
  x = x.astype(jnp.float32)
  norm = jnp.sqrt(jnp.sum(jnp.square(x), axis=-1, keepdims=True))
  return x / jnp.maximum(norm, 1e-12)


class DualEncoder(nnx.Module):
  """Query and candidate towers (shared when `candidate_tower` is None)."""

  def __init__(self, query_tower: nnx.Module,
               candidate_tower: nnx.Module | None = None,
               temperature: float = 0.05):
    self.query_tower = query_tower
    self.candidate_tower = candidate_tower
    self.temperature = float(temperature)

  def embed_queries(self, input_ids, attention_mask=None, *,
                    deterministic: bool | None = None) -> jax.Array:
    """Unit query embeddings [N, D]."""
    return normalize(self.query_tower(input_ids, attention_mask,
                                      deterministic=deterministic))

  def embed_candidates(self, input_ids, attention_mask=None, *,
                       deterministic: bool | None = None) -> jax.Array:
    """Unit candidate embeddings [N, D]."""
    tower = (self.query_tower if self.candidate_tower is None
             else self.candidate_tower)
    return normalize(tower(input_ids, attention_mask,
                           deterministic=deterministic))

  def scores(self, queries: jax.Array, candidates: jax.Array) -> jax.Array:
    """Logits [B, C] = cos(q, s) / temperature of unit embeddings."""
    return queries @ candidates.T / self.temperature

  def __call__(self, query_ids, query_mask, candidate_ids, candidate_mask, *,
               deterministic: bool | None = None) -> jax.Array:
    """Logits [B, C] of each query against each candidate."""
    q = self.embed_queries(query_ids, query_mask, deterministic=deterministic)
    s = self.embed_candidates(candidate_ids, candidate_mask,
                              deterministic=deterministic)
    return self.scores(q, s)


def build(config, vocab_size: int, rngs: nnx.Rngs,
          weights: str = "") -> DualEncoder:
  """The DualEncoder of a retrieval TrainConfig (model family, towers, dim)."""
  m, r = config.model, config.retrieval
  family = families.get(m.name)
  tower = lambda: family.build(m, r.embed_dim, vocab_size, rngs, weights,
                               dtype=state_lib.compute_dtype(m.dtype))
  query = tower()
  return DualEncoder(query, None if r.shared_tower else tower(),
                     r.temperature)
