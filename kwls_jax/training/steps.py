"""The jitted train and eval steps, data parallel over a 1-D 'data' mesh.

The model and optimizer state travel as a flat list of arrays: jit's C++ fast
path then dispatches a step in well under a millisecond. The batch is sharded
over the mesh, the state is replicated; with one device it is the plain
single-device step.
"""

from __future__ import annotations

from flax import nnx
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from kwls_jax.training import loss as loss_lib


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh named 'data' over all local devices."""
  return Mesh(np.asarray(devices or jax.local_devices()), ("data",))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def data_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P("data"))


def split_heads(logits, two_head: bool):
  """(cross-entropy head, soft-label head) of the model's outputs [B, P or 2P]."""
  if not two_head:
    return logits, logits
  p = logits.shape[-1] // 2
  return logits[..., :p], logits[..., p:]


def effective_alpha(step, alpha, start_step):
  """alpha from `start_step` on, 0 before it (the paper's Figure 2 switch)."""
  return jnp.where(step >= start_step, alpha, 0.0).astype(jnp.float32)


def make_train_step(graphdef, treedef, mesh: Mesh, two_head: bool = False):
  """jit (leaves, batch, hyper) -> (leaves, loss); hyper = {alpha, start_step}.

  alpha and start_step are traced scalars and the step counter is the
  optimizer's, so switching KWLS on mid-run recompiles nothing.
  """
  rep, shard = replicated(mesh), data_sharded(mesh)

  def train_step(leaves, batch, hyper):
    """One optimizer update on the Eq. 9 loss of a batch."""
    model, optimizer = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    alpha = effective_alpha(optimizer.step[...], hyper["alpha"],
                            hyper["start_step"])

    def loss_fn(model):
      outputs = model(batch["input_ids"], batch["attention_mask"],
                      deterministic=False)
      logits, soft_logits = split_heads(outputs, two_head)
      if two_head:
        return loss_lib.eq9_two_head_loss(
            logits, soft_logits, batch["labels"], batch["soft_labels"], alpha,
            batch["mask"])
      return loss_lib.eq9_loss(logits, batch["labels"], batch["soft_labels"],
                               alpha, batch["mask"])

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return jax.tree.leaves(nnx.state((model, optimizer))), loss

  return jax.jit(train_step, in_shardings=(rep, shard, rep),
                 out_shardings=(rep, rep), donate_argnums=0)


def make_eval_step(graphdef, treedef, mesh: Mesh, two_head: bool = False):
  """jit (leaves, batch) -> logits [B, P] float32 (the first head), dropout off."""
  rep, shard = replicated(mesh), data_sharded(mesh)

  def eval_step(leaves, batch):
    """Logits of a batch."""
    model, _ = nnx.merge(graphdef, jax.tree.unflatten(treedef, leaves))
    logits = model(batch["input_ids"], batch["attention_mask"],
                   deterministic=True)
    return split_heads(logits, two_head)[0].astype(jnp.float32)

  return jax.jit(eval_step, in_shardings=(rep, shard), out_shardings=shard)


def predict(eval_step, leaves, batches, mesh: Mesh) -> np.ndarray:
  """Logits [N, P] over eval batches; padding rows dropped on the host."""
  shard = data_sharded(mesh)
  out = []
  pending = None
  for batch in batches:
    mask = batch.pop("mask")
    batch.pop("labels", None)
    logits = eval_step(leaves, jax.device_put(batch, shard))
    if pending is not None:  # fetch the previous batch while this one runs
      out.append(np.asarray(pending[0])[pending[1] > 0])
    pending = (logits, mask)
  if pending is not None:
    out.append(np.asarray(pending[0])[pending[1] > 0])
  return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
