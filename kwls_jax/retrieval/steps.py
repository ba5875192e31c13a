"""The dual encoder's jitted train step (Eq. 9 over a batch's candidates) and
its embedding steps, on the trainer's 'data' mesh (training/steps.py).

A train batch holds queries [B, T] and candidates [C, T] (token ids and
attention masks), labels l [B, C], soft_labels d [B, C] and a row mask [B].
"""

from __future__ import annotations

from flax import nnx
import jax
import jax.numpy as jnp

from kwls_jax.training import loss as loss_lib
from kwls_jax.training import steps as steps_lib


def batch_loss(model, batch, alpha) -> jax.Array:
  """Eq. 9 with o = softmax over the batch's candidates of cos / temperature."""
  logits = model(batch["query_ids"], batch["query_mask"],
                 batch["candidate_ids"], batch["candidate_mask"],
                 deterministic=False)
  return loss_lib.eq9_loss(logits, batch["labels"], batch["soft_labels"],
                           alpha, batch["mask"])


def make_train_step(graphdef, treedef, mesh):
  """jit (leaves, batch, hyper) -> (leaves, loss); hyper = {alpha, start_step}."""
  rep, shard = steps_lib.replicated(mesh), steps_lib.data_sharded(mesh)

  def train_step(leaves, batch, hyper):
    """One optimizer update on the Eq. 9 loss of a batch."""
    model, optimizer = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    alpha = steps_lib.effective_alpha(optimizer.step[...], hyper["alpha"],
                                      hyper["start_step"])
    loss, grads = nnx.value_and_grad(
        lambda m: batch_loss(m, batch, alpha))(model)
    optimizer.update(model, grads)
    return jax.tree.leaves(nnx.state((model, optimizer))), loss

  return jax.jit(train_step, in_shardings=(rep, shard, rep),
                 out_shardings=(rep, rep), donate_argnums=0)


def make_embed_step(graphdef, treedef, mesh, side: str):
  """jit (leaves, {input_ids, attention_mask}) -> unit embeddings [N, D] of
  `side` ("queries" or "candidates"), dropout off."""
  if side not in ("queries", "candidates"):
    raise ValueError(f"side must be queries or candidates, got {side!r}")
  rep, shard = steps_lib.replicated(mesh), steps_lib.data_sharded(mesh)

  def embed_step(leaves, batch):
    model, _ = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    embed = getattr(model, f"embed_{side}")
    return embed(batch["input_ids"], batch["attention_mask"],
                 deterministic=True).astype(jnp.float32)

  return jax.jit(embed_step, in_shardings=(rep, shard), out_shardings=shard)
