"""`train(config, run_dir)`: the training loop with checkpoints and resume.

A run directory holds config.json, vocab.json (TextCNN/LSTM), metrics.jsonl,
checkpoints/ (orbax, last k), predictions/{train,dev,test}_probs.npy and
{dev,test}_labels.npy, and final.json. Rerunning in a run directory with
checkpoints resumes from the newest one and ends with the same numbers as an
uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import time
from typing import Any, Callable

import jax
import numpy as np

from kwls_jax import provenance
from kwls_jax.atomic import atomic_open, save_npy
from kwls_jax.training import checkpoint
from kwls_jax.training import config as config_lib
from kwls_jax.training import data as data_lib
from kwls_jax.training import soft as soft_lib
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps as steps_lib
from kwls_jax.training import tracking
from kwls_jax.training.config import ConfigError, TrainConfig
from kwls_jax.training.metrics import compute_metrics, softmax

# Test hooks: BATCH_HOOK(step, batch) -> batch edits a training batch before
# it is sent; env KWLS_TRAIN_TEST_KILL_AT_STEP=S makes the process SIGKILL
# itself after update S (after any checkpoint due at S); env
# KWLS_TRAIN_TEST_PAUSE=METHOD:S makes a run of that method, after update S,
# write PAUSED in its run directory and sleep (up to a minute), so that a test
# can interrupt it mid-training at a known point.
BATCH_HOOK: Callable[[int, dict], dict] | None = None
KILL_ENV = "KWLS_TRAIN_TEST_KILL_AT_STEP"
PAUSE_ENV = "KWLS_TRAIN_TEST_PAUSE"
PAUSED_FILE = "PAUSED"


class TrainingDiverged(FloatingPointError):
  """A non-finite loss; the message names the step and the last checkpoint."""


@dataclasses.dataclass
class Run:
  """Everything prepared for training or evaluating one run."""

  config: TrainConfig
  run_dir: str
  splits: dict[str, data_lib.Split]
  label_names: list[str]
  soft_labels: np.ndarray | None
  state: state_lib.TrainState
  mesh: Any
  steps_per_epoch: int
  total_steps: int
  commits: list = dataclasses.field(default_factory=list)  # oldest first


def _check_run_dir_config(config: TrainConfig, run_dir: str) -> None:
  """Refuses to resume a run directory that holds another config."""
  path = os.path.join(run_dir, "config.json")
  if not os.path.exists(path):
    config_lib.save(config, path)
    return
  old = config_lib.from_dict(config_lib.read_file(path))
  if config_lib.config_hash(old) != config_lib.config_hash(config):
    raise ConfigError(f"{run_dir} holds a run of another config "
                      f"({path}); use a new --run-dir")


def prepare(config: TrainConfig, run_dir: str, need_soft: bool = True) -> Run:
  """Loads and encodes the data, soft labels and a fresh state."""
  config = config_lib.resolve(config)
  os.makedirs(os.path.join(run_dir, "predictions"), exist_ok=True)
  corpora = data_lib.load_corpora(config)
  train = corpora["train"]
  encoder, vocab_size = data_lib.make_encoder(config, train.texts, run_dir)
  splits = {k: data_lib.encode(c, encoder) for k, c in corpora.items()}
  p = train.num_labels
  soft = None
  if need_soft:
    soft = soft_lib.training_soft_labels(config, train.texts, train.labels, p)
  mesh = steps_lib.make_mesh()
  n_dev = mesh.devices.size
  for k in ("batch_size", "eval_batch_size"):
    if getattr(config, k) % n_dev:
      raise ConfigError(f"{k}={getattr(config, k)} is not divisible by the "
                        f"{n_dev} devices")
  spe = data_lib.steps_per_epoch(len(train), config.batch_size)
  total = config.max_steps or config.epochs * spe
  folder = data_lib.bert_folder(config) if config.model.name == "bert" else ""
  state = state_lib.create_state(config, p, vocab_size, total, folder)
  state.leaves = jax.device_put(state.leaves, steps_lib.replicated(mesh))
  return Run(config, run_dir, splits, list(train.label_names), soft, state,
             mesh, spe, total)


def restore_latest(run: Run, mngr) -> dict | None:
  """Loads the newest checkpoint into run.state; returns its meta or None."""
  step = checkpoint.latest(mngr)
  if step is None:
    return None
  arrays, meta = checkpoint.restore(mngr, step)
  run.state.leaves = state_lib.from_host(arrays, run.state.leaves,
                                         steps_lib.replicated(run.mesh))
  return meta


def evaluate_split(run: Run, eval_step, split: str) -> tuple[dict, np.ndarray]:
  """(metrics, logits) of a split with the current state."""
  s = run.splits[split]
  logits = steps_lib.predict(eval_step, run.state.leaves,
                             data_lib.eval_batches(s, run.config.eval_batch_size),
                             run.mesh)
  return compute_metrics(logits, s.labels), logits


def _atomic_json(path: str, values: dict) -> None:
  with atomic_open(path) as f:
    json.dump(values, f, indent=2)
    f.write("\n")


class _LossLog:
  """Device losses gathered between flushes; one transfer per flush."""

  def __init__(self):
    self.losses, self.first_step, self.samples = [], 0, 0
    self.t0 = time.perf_counter()

  def add(self, step: int, loss, samples: int) -> None:
    if not self.losses:
      self.first_step = step
    self.losses.append(loss)
    self.samples += samples

  def flush(self) -> tuple[np.ndarray, int, float, int] | None:
    """(losses, first step, seconds, samples) since the last flush, or None."""
    if not self.losses:
      return None
    values = np.asarray(jax.device_get(self.losses), np.float64)
    out = (values, self.first_step, time.perf_counter() - self.t0,
           self.samples)
    self.losses, self.samples = [], 0
    self.t0 = time.perf_counter()
    return out


def train(config: TrainConfig, run_dir: str, progress: bool = True) -> dict:
  """Trains (or resumes) a run; returns the contents of final.json."""
  config = config_lib.resolve(config)
  os.makedirs(run_dir, exist_ok=True)
  _check_run_dir_config(config, run_dir)
  # The code this process runs is the checkout as it is now, not as it will
  # be when the run ends; a resumed run lists the commits of every stretch.
  commit = provenance.git_commit() or None
  run = prepare(config, run_dir)
  c = run.config
  mngr = checkpoint.manager(run_dir, c.keep_checkpoints)
  meta = restore_latest(run, mngr) or {}
  before = meta.get("git_commits", [])
  run.commits = before if before and before[-1] == commit else before + [commit]
  step = int(meta.get("step", 0))
  best = meta.get("best_dev")
  seconds_before = float(meta.get("seconds", 0.0))
  if meta:
    tracking.truncate_metrics(run_dir, step)
  elif os.path.exists(os.path.join(run_dir, tracking.METRICS_FILE)):
    os.remove(os.path.join(run_dir, tracking.METRICS_FILE))
  tracker = tracking.Tracker(c, run_dir)
  tracker_summary = {}
  try:
    summary = _train_loop(run, mngr, tracker, step, best, seconds_before,
                          progress, resumed_from=step if meta else None)
    tracker_summary = {f"final/{k}": v for k, v in summary["test"].items()}
    return summary
  finally:
    tracker.finish(tracker_summary)
    mngr.close()


def _train_loop(run: Run, mngr, tracker, step: int, best: dict | None,
                seconds_before: float, progress: bool,
                resumed_from: int | None) -> dict:
  """The epochs from `step` on, then final evaluation and outputs."""
  from tqdm.auto import tqdm  # pylint: disable=g-import-not-at-top
  c, spe, total = run.config, run.steps_per_epoch, run.total_steps
  st = run.state
  two_head = run.config.two_head
  train_step = steps_lib.make_train_step(st.graphdef, st.treedef, run.mesh,
                                         two_head)
  eval_step = steps_lib.make_eval_step(st.graphdef, st.treedef, run.mesh,
                                       two_head)
  rep, shard = steps_lib.replicated(run.mesh), steps_lib.data_sharded(run.mesh)
  hyper = jax.device_put({"alpha": np.float32(c.alpha),
                          "start_step": np.uint32(c.soft_label_start_step)},
                         rep)
  lr = state_lib.learning_rate(c, total)
  kill_at = int(os.environ.get(KILL_ENV, "0") or 0)
  pause_method, _, pause_at = os.environ.get(PAUSE_ENV, "").partition(":")
  pause_at = int(pause_at) if pause_method == c.method and pause_at else 0
  last_ckpt = checkpoint.latest(mngr)
  losses = _LossLog()
  start_time = time.perf_counter()
  trained_samples = 0
  last_dev = None  # (step, metrics, logits) of the newest dev evaluation
  bar = tqdm(total=total, initial=step, desc=c.name, unit="step",
             disable=None if progress else True, dynamic_ncols=True)

  def flush(epoch):
    nonlocal trained_samples
    got = losses.flush()
    if got is None:
      return
    values, first, secs, samples = got
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
      where = (f"last good checkpoint: step {last_ckpt} in "
               f"{os.path.join(run.run_dir, checkpoint.CHECKPOINT_DIR)}"
               if last_ckpt is not None else "no checkpoint was written")
      raise TrainingDiverged(
          f"non-finite loss {values[bad[0]]} at step {first + bad[0] + 1} "
          f"(epoch {epoch + 1}); {where}")
    trained_samples += samples
    rate = samples / max(secs, 1e-9)
    this_step = first + len(values)
    alpha = c.alpha if this_step - 1 >= c.soft_label_start_step else 0.0
    record = {"kind": "train", "step": this_step, "epoch": epoch + 1,
              "loss": float(values.mean()), "alpha": float(alpha),
              "lr": float(lr(this_step - 1) if callable(lr) else lr),
              "samples_per_s": rate}
    tracker.log(record)
    bar.set_postfix(loss=f"{record['loss']:.4f}", samples_s=f"{rate:.0f}")

  while step < total:
    epoch, pos = divmod(step, spe)
    for batch in data_lib.train_batches(run.splits["train"], run.soft_labels,
                                        c.batch_size, c.seed, epoch, pos):
      if BATCH_HOOK is not None:
        batch = BATCH_HOOK(step, batch)
      real = int(batch["mask"].sum())
      st.leaves, loss = train_step(st.leaves, jax.device_put(batch, shard),
                                   hyper)
      losses.add(step, loss, real)
      step += 1
      bar.update(1)
      end_of_epoch = step % spe == 0 or step == total
      if step % c.log_every == 0 or end_of_epoch:
        flush(epoch)
      if "dev" in run.splits and (
          (c.eval_every and step % c.eval_every == 0) or
          (not c.eval_every and end_of_epoch) or step == total):
        flush(epoch)
        metrics, logits = evaluate_split(run, eval_step, "dev")
        last_dev = (step, metrics, logits)
        tracker.log({"kind": "dev", "step": step, "epoch": epoch + 1,
                     **metrics})
        if best is None or metrics["accuracy"] > best["accuracy"]:
          best = {"step": step, "epoch": epoch + 1, **metrics}
      if ((c.checkpoint_every and step % c.checkpoint_every == 0) or
          (not c.checkpoint_every and end_of_epoch) or step == total):
        flush(epoch)
        seconds = seconds_before + time.perf_counter() - start_time
        checkpoint.save(mngr, step, state_lib.to_host(st.leaves),
                        {"step": step, "epoch": epoch, "position": step % spe,
                         "seed": c.seed, "best_dev": best,
                         "seconds": seconds, "git_commits": run.commits})
        last_ckpt = step
      if kill_at and step == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
      if pause_at and step == pause_at:
        with open(os.path.join(run.run_dir, PAUSED_FILE), "w") as f:
          f.write(str(step))
        time.sleep(60)
      if step >= total:
        break
  flush(max(0, (step - 1) // spe))
  bar.close()
  train_seconds = seconds_before + time.perf_counter() - start_time
  return _finish(run, eval_step, tracker, step, best, train_seconds,
                 resumed_from, last_dev)


def _finish(run: Run, eval_step, tracker, step: int, best: dict | None,
            train_seconds: float, resumed_from: int | None,
            last_dev: tuple | None = None) -> dict:
  """Final metrics, predictions/*.npy and final.json."""
  c = run.config
  pred_dir = os.path.join(run.run_dir, "predictions")
  out = {}
  for split in ("dev", "test"):
    if split == "dev" and last_dev is not None and last_dev[0] == step:
      out[split], logits = last_dev[1], last_dev[2]  # evaluated at this step
    elif split in run.splits:
      out[split], logits = evaluate_split(run, eval_step, split)
    else:
      continue
    save_npy(os.path.join(pred_dir, f"{split}_probs.npy"),
             softmax(logits).astype(np.float32))
    # The labels scored against, for reliability diagrams without the data.
    save_npy(os.path.join(pred_dir, f"{split}_labels.npy"),
             np.asarray(run.splits[split].labels))
  if c.save_train_probs:
    _, logits = evaluate_split(run, eval_step, "train")
    save_npy(os.path.join(pred_dir, "train_probs.npy"),
             softmax(logits).astype(np.float32))
  tracker.log({"kind": "test", "step": step, **out["test"]})
  n_train = len(run.splits["train"])
  samples = (step // run.steps_per_epoch) * n_train + (
      step % run.steps_per_epoch) * c.batch_size
  final = {
      "name": c.name, "test": out["test"], "dev": out.get("dev"),
      "best_dev": best, "steps": step, "epochs": step / run.steps_per_epoch,
      "train_size": n_train, "num_labels": len(run.label_names),
      "train_seconds": train_seconds,
      "samples_per_s": samples / max(train_seconds, 1e-9),
      "resumed_from_step": resumed_from,
      "config_hash": config_lib.config_hash(c), "git_commit": run.commits[-1],
      "git_commits": run.commits,
      "devices": [str(d) for d in run.mesh.devices.flat],
      "backend": jax.default_backend(),
      "compute_dtype": jax.numpy.dtype(
          state_lib.compute_dtype(c.model.dtype) or "float32").name,
  }
  _atomic_json(os.path.join(run.run_dir, "final.json"), final)
  return final


def evaluate(run_dir: str, split: str = "test") -> dict:
  """Metrics of `split` with the run's newest checkpoint."""
  path = os.path.join(run_dir, "config.json")
  if not os.path.exists(path):
    raise ConfigError(f"{run_dir}: no config.json, not a run directory")
  config = config_lib.from_dict(config_lib.read_file(path))
  run = prepare(config, run_dir, need_soft=False)
  if split not in run.splits:
    raise ConfigError(f"{run_dir}: the config has no {split} split")
  mngr = checkpoint.manager(run_dir, run.config.keep_checkpoints)
  try:
    meta = restore_latest(run, mngr)
  finally:
    mngr.close()
  if meta is None:
    raise ConfigError(f"{run_dir}: no checkpoint to evaluate")
  st = run.state
  eval_step = steps_lib.make_eval_step(st.graphdef, st.treedef, run.mesh,
                                       run.config.two_head)
  metrics, _ = evaluate_split(run, eval_step, split)
  return {"split": split, "step": meta["step"], **metrics}
