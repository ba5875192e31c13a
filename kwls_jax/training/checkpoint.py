"""Orbax checkpoints of a run: state leaves + JSON position, the last k kept.

A checkpoint holds the model parameters, optimizer state and step, the
dropout RNG (all in the state leaves), and as JSON the data-order position
(epoch, step in epoch), the best dev metrics so far and the seed, so that a
resumed run continues exactly where the saved one stood.
"""

from __future__ import annotations

import os

import orbax.checkpoint as ocp

CHECKPOINT_DIR = "checkpoints"


def manager(run_dir: str, keep: int = 2) -> ocp.CheckpointManager:
  """A synchronous CheckpointManager in run_dir/checkpoints keeping `keep`."""
  options = ocp.CheckpointManagerOptions(
      max_to_keep=keep, create=True, enable_async_checkpointing=False)
  return ocp.CheckpointManager(
      os.path.abspath(os.path.join(run_dir, CHECKPOINT_DIR)), options=options,
      item_names=("state", "meta"))


def save(mngr: ocp.CheckpointManager, step: int, arrays: dict,
         meta: dict) -> None:
  """Writes checkpoint `step` (numpy arrays from state.to_host, JSON meta)."""
  mngr.save(step, args=ocp.args.Composite(
      state=ocp.args.StandardSave(arrays), meta=ocp.args.JsonSave(meta)))
  mngr.wait_until_finished()


def latest(mngr: ocp.CheckpointManager) -> int | None:
  """The step of the newest finished checkpoint, or None."""
  return mngr.latest_step()


def restore(mngr: ocp.CheckpointManager, step: int) -> tuple[dict, dict]:
  """(arrays, meta) of checkpoint `step`."""
  out = mngr.restore(step, args=ocp.args.Composite(
      state=ocp.args.StandardRestore(), meta=ocp.args.JsonRestore()))
  return dict(out["state"]), dict(out["meta"])
