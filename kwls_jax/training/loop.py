"""`train(config, run_dir)`: the training loop with checkpoints and resume.

A run directory holds config.json, vocab.json (TextCNN/LSTM), metrics.jsonl,
checkpoints/ (orbax, last k), predictions/{train,dev,test}_probs.npy and
{dev,test}_labels.npy, and final.json. Rerunning in a run directory with
checkpoints resumes from the newest one and ends with the same numbers as an
uninterrupted run.

The loop is a step loop plus periodic actions (log, dev evaluation,
checkpoint, and hooks given to `train`), each run after the updates where
`due` holds; they share the loop's state, a `Progress`. What differs between
classification and retrieval (config.task) is a `Task`: this module's
CLASSIFICATION, or kwls_jax.retrieval.trainer.TASK.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from typing import Any, Callable, Sequence

import jax
import numpy as np

from kwls_jax import provenance
from kwls_jax.atomic import atomic_open, save_npy
from kwls_jax.models import families
from kwls_jax.training import checkpoint
from kwls_jax.training import config as config_lib
from kwls_jax.training import data as data_lib
from kwls_jax.training import soft as soft_lib
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps as steps_lib
from kwls_jax.training import tracking
from kwls_jax.training.config import ConfigError, TrainConfig
from kwls_jax.training.metrics import compute_metrics, softmax


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
  # The commits of the stretches that trained, oldest first, and this
  # process's (the checkout as it is now, not as it will be when it ends).
  commits: list = dataclasses.field(default_factory=list)
  commit: str | None = None
  resumed_from: int | None = None  # the checkpoint's step


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


@dataclasses.dataclass
class Progress:
  """The loop's mutable state, read and changed by the periodic actions."""

  step: int  # updates done
  best: dict | None = None  # dev metrics of the best dev accuracy so far
  last_checkpoint: int | None = None
  last_dev: tuple | None = None  # (step, metrics, logits) of the newest
  seconds_before: float = 0.0  # training time of the earlier stretches
  losses: _LossLog = dataclasses.field(default_factory=_LossLog)
  started: float = dataclasses.field(default_factory=time.perf_counter)

  def seconds(self) -> float:
    """Training seconds of the run so far, all stretches."""
    return self.seconds_before + time.perf_counter() - self.started


@dataclasses.dataclass
class Action:
  """`run(progress)` after each update where due(step, every, ...) holds."""

  every: int  # steps; 0 = at each epoch end
  run: Callable[[Progress], None]


@dataclasses.dataclass(frozen=True)
class Task:
  """The parts of the loop that depend on the task."""

  prepare: Callable[..., Any]  # (config, run_dir, need_soft=True) -> a Run
  make_eval_step: Callable[[Any], Any]  # run -> eval_step
  evaluate: Callable[..., tuple]  # (run, eval_step, split) -> (metrics, out)
  best_metric: str  # the dev metric that picks best_dev (higher is better)
  make_train_step: Callable[[Any], Any]  # run -> jit (leaves, batch, hyper)
  train_batches: Callable[..., Any]  # (run, epoch, position) -> batches
  finish: Callable[..., dict]  # (run, eval_step, tracker, progress) -> final


def task_of(config: TrainConfig) -> Task:
  """The Task of config.task."""
  if config.task == "retrieval":
    from kwls_jax.retrieval import trainer  # pylint: disable=g-import-not-at-top
    return trainer.TASK
  return CLASSIFICATION


def due(step: int, every: int, end_of_epoch: bool, total: int) -> bool:
  """Every `every` steps (each epoch end when 0), and after the last."""
  return (step % every == 0 if every else end_of_epoch) or step == total


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
  family = families.get(config.model.name)
  weights = family.weights(config.model)
  encoder, vocab_size = family.encoder(config.model, weights, train.texts,
                                       run_dir)
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
  state = state_lib.create_state(config, p, vocab_size, total, weights)
  state.leaves = jax.device_put(state.leaves, steps_lib.replicated(mesh))
  return Run(config, run_dir, splits, list(train.label_names), soft, state,
             mesh, spe, total)


def restore_latest(run: Run, mngr) -> dict | None:
  """Loads the newest checkpoint into run.state; returns its meta or None."""
  step = checkpoint.latest(mngr)
  if step is None:
    return None
  arrays, meta = checkpoint.restore(mngr, step)
  run.state.leaves = state_lib.from_host(arrays, run.state,
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


def _trained_commits(before: list, commit: str | None, trains: bool) -> list:
  """The commits of the stretches that trained, oldest first."""
  if not trains or (before and before[-1] == commit):
    return list(before)
  return [*before, commit]


def train(config: TrainConfig, run_dir: str, progress: bool = True,
          hooks: Sequence[Action] = ()) -> dict:
  """Trains (or resumes) a run; returns the contents of final.json.

  `hooks` run after the loop's own actions at each update they are due.
  """
  from tqdm.auto import tqdm  # pylint: disable=g-import-not-at-top
  config = config_lib.resolve(config)
  os.makedirs(run_dir, exist_ok=True)
  _check_run_dir_config(config, run_dir)
  commit = provenance.git_commit() or None
  task = task_of(config)
  run = task.prepare(config, run_dir)
  run.commit = commit
  c = run.config
  mngr = checkpoint.manager(run_dir, c.keep_checkpoints)
  meta = restore_latest(run, mngr) or {}
  p = Progress(step=int(meta.get("step", 0)), best=meta.get("best_dev"),
               last_checkpoint=checkpoint.latest(mngr),
               seconds_before=float(meta.get("seconds", 0.0)))
  run.commits = _trained_commits(meta.get("git_commits", []), commit,
                                 p.step < run.total_steps)
  run.resumed_from = p.step if meta else None
  if meta:
    tracking.truncate_metrics(run_dir, p.step)
  elif os.path.exists(os.path.join(run_dir, tracking.METRICS_FILE)):
    os.remove(os.path.join(run_dir, tracking.METRICS_FILE))
  tracker = tracking.Tracker(c, run_dir)
  bar = tqdm(total=run.total_steps, initial=p.step, desc=c.name, unit="step",
             disable=None if progress else True, dynamic_ncols=True)
  tracker_summary = {}
  try:
    eval_step = task.make_eval_step(run)
    actions = [Action(1, lambda _: bar.update(1)),
               *periodic_actions(run, mngr, tracker, eval_step, bar, task),
               *hooks]
    p.started = p.losses.t0 = time.perf_counter()
    _step_loop(run, p, actions, task)
    bar.close()
    final = task.finish(run, eval_step, tracker, p)
    tracker_summary = {f"final/{k}": v for k, v in final["test"].items()}
    return final
  finally:
    tracker.finish(tracker_summary)
    mngr.close()


def periodic_actions(run: Run, mngr, tracker: tracking.Tracker, eval_step,
                     bar, task: Task | None = None) -> list[Action]:
  """log (every log_every steps and at each epoch end), dev evaluation and
  checkpoint (every eval_every / checkpoint_every steps, 0 = each epoch),
  all after the last update too."""
  c, spe = run.config, run.steps_per_epoch
  task = task or CLASSIFICATION
  lr = state_lib.learning_rate(c, run.total_steps)

  def log(p: Progress) -> None:
    """A train record of the losses since the last; stops at a NaN/inf."""
    got = p.losses.flush()
    if got is None:
      return
    values, first, secs, samples = got
    epoch = (p.step - 1) // spe + 1
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
      where = (f"last good checkpoint: step {p.last_checkpoint} in "
               f"{os.path.join(run.run_dir, checkpoint.CHECKPOINT_DIR)}"
               if p.last_checkpoint is not None else "no checkpoint was written")
      raise TrainingDiverged(
          f"non-finite loss {values[bad[0]]} at step {first + bad[0] + 1} "
          f"(epoch {epoch}); {where}")
    rate = samples / max(secs, 1e-9)
    alpha = c.alpha if p.step - 1 >= c.soft_label_start_step else 0.0
    record = {"kind": "train", "step": p.step, "epoch": epoch,
              "loss": float(values.mean()), "alpha": float(alpha),
              "lr": float(lr(p.step - 1) if callable(lr) else lr),
              "samples_per_s": rate}
    tracker.log(record)
    bar.set_postfix(loss=f"{record['loss']:.4f}", samples_s=f"{rate:.0f}")

  def dev_eval(p: Progress) -> None:
    """Dev metrics; the best by the task's best_metric is kept."""
    log(p)
    metrics, logits = task.evaluate(run, eval_step, "dev")
    p.last_dev = (p.step, metrics, logits)
    epoch = (p.step - 1) // spe + 1
    tracker.log({"kind": "dev", "step": p.step, "epoch": epoch, **metrics})
    key = task.best_metric
    if p.best is None or metrics[key] > p.best[key]:
      p.best = {"step": p.step, "epoch": epoch, **metrics}

  def save(p: Progress) -> None:
    """A checkpoint: the state and where the data order stands."""
    log(p)
    checkpoint.save(mngr, p.step, state_lib.to_host(run.state),
                    {"step": p.step, "epoch": (p.step - 1) // spe,
                     "position": p.step % spe, "seed": c.seed,
                     "best_dev": p.best, "seconds": p.seconds(),
                     "git_commits": run.commits})
    p.last_checkpoint = p.step

  actions = [Action(c.log_every, log), Action(0, log)]
  if "dev" in run.splits:
    actions.append(Action(c.eval_every, dev_eval))
  return actions + [Action(c.checkpoint_every, save)]


def _step_loop(run: Run, p: Progress, actions: Sequence[Action],
               task: Task) -> None:
  """Updates from p.step to the last, each followed by the actions due."""
  c, spe, total = run.config, run.steps_per_epoch, run.total_steps
  st = run.state
  train_step = task.make_train_step(run)
  shard = steps_lib.data_sharded(run.mesh)
  hyper = jax.device_put({"alpha": np.float32(c.alpha),
                          "start_step": np.uint32(c.soft_label_start_step)},
                         steps_lib.replicated(run.mesh))
  while p.step < total:
    epoch, pos = divmod(p.step, spe)
    for batch in task.train_batches(run, epoch, pos):
      real = int(batch["mask"].sum())
      st.leaves, loss = train_step(st.leaves, jax.device_put(batch, shard),
                                   hyper)
      p.losses.add(p.step, loss, real)
      p.step += 1
      end_of_epoch = p.step % spe == 0 or p.step == total
      for action in actions:
        if due(p.step, action.every, end_of_epoch, total):
          action.run(p)
      if p.step >= total:
        break


def _finish(run: Run, eval_step, tracker, p: Progress) -> dict:
  """Final metrics, predictions/*.npy and final.json."""
  c = run.config
  train_seconds = p.seconds()
  pred_dir = os.path.join(run.run_dir, "predictions")
  out = {}
  for split in ("dev", "test"):
    if split == "dev" and p.last_dev is not None and p.last_dev[0] == p.step:
      out[split], logits = p.last_dev[1], p.last_dev[2]  # evaluated now
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
  tracker.log({"kind": "test", "step": p.step, **out["test"]})
  if set(run.commits) != {run.commit}:
    print(f"kwls train: warning: {run.run_dir} was trained under commit(s) "
          f"{', '.join(map(str, run.commits))}, evaluated under {run.commit}",
          file=sys.stderr)
  n_train = len(run.splits["train"])
  spe = run.steps_per_epoch
  samples = (p.step // spe) * n_train + (p.step % spe) * c.batch_size
  final = {
      "name": c.name, "test": out["test"], "dev": out.get("dev"),
      "best_dev": p.best, "steps": p.step, "epochs": p.step / spe,
      "train_size": n_train, "num_labels": len(run.label_names),
      "train_seconds": train_seconds,
      "samples_per_s": samples / max(train_seconds, 1e-9),
      "resumed_from_step": run.resumed_from,
      "config_hash": config_lib.config_hash(c), "git_commit": run.commits[-1],
      "git_commits": run.commits, "eval_commit": run.commit,
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
  task = task_of(config)
  run = task.prepare(config, run_dir, need_soft=False)
  if split not in run.splits:
    raise ConfigError(f"{run_dir}: the config has no {split} split")
  mngr = checkpoint.manager(run_dir, run.config.keep_checkpoints)
  try:
    meta = restore_latest(run, mngr)
  finally:
    mngr.close()
  if meta is None:
    raise ConfigError(f"{run_dir}: no checkpoint to evaluate")
  metrics, _ = task.evaluate(run, task.make_eval_step(run), split)
  return {"split": split, "step": meta["step"], **metrics}


def _classification_eval_step(run: Run):
  st = run.state
  return steps_lib.make_eval_step(st.graphdef, st.treedef, run.mesh,
                                  run.config.two_head)


def _classification_train_step(run: Run):
  st = run.state
  return steps_lib.make_train_step(st.graphdef, st.treedef, run.mesh,
                                   run.config.two_head)


def _classification_batches(run: Run, epoch: int, position: int):
  c = run.config
  return data_lib.train_batches(run.splits["train"], run.soft_labels,
                                c.batch_size, c.seed, epoch, position)


CLASSIFICATION = Task(prepare=prepare,
                      make_eval_step=_classification_eval_step,
                      evaluate=evaluate_split, best_metric="accuracy",
                      make_train_step=_classification_train_step,
                      train_batches=_classification_batches, finish=_finish)
