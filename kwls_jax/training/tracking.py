"""metrics.jsonl, and the same scalars to Weights & Biases when configured.

W&B is on when config.wandb.project is set and WANDB_MODE is not "disabled".
The mode is WANDB_MODE when set, else "online" with an API key configured
(WANDB_API_KEY or a ~/.netrc entry for api.wandb.ai) and "offline" without
one. A failing wandb never stops training: it is reported once and dropped.
A resumed run continues the same W&B run (its id is kept in run_dir).
"""

from __future__ import annotations

import json
import logging
import netrc
import os
import sys
import uuid

from kwls_jax.atomic import atomic_open
from kwls_jax.training.config import TrainConfig, to_dict

METRICS_FILE = "metrics.jsonl"
WANDB_ID_FILE = "wandb_id.txt"

log = logging.getLogger(__name__)


def read_metrics(run_dir: str) -> list[dict]:
  """The records of run_dir/metrics.jsonl."""
  path = os.path.join(run_dir, METRICS_FILE)
  if not os.path.exists(path):
    return []
  with open(path, encoding="utf-8") as f:
    return [json.loads(line) for line in f if line.strip()]


def truncate_metrics(run_dir: str, step: int) -> None:
  """Drops records after `step` (written after the checkpoint being resumed)."""
  kept = [r for r in read_metrics(run_dir) if r["step"] <= step]
  with atomic_open(os.path.join(run_dir, METRICS_FILE)) as f:
    f.writelines(json.dumps(r) + "\n" for r in kept)


def wandb_run_id(run_dir: str) -> str:
  """The W&B run id kept in run_dir (made and written on the first call)."""
  path = os.path.join(run_dir, WANDB_ID_FILE)
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      return f.read().strip()
  run_id = uuid.uuid4().hex[:8]
  with atomic_open(path) as f:
    f.write(run_id + "\n")
  return run_id


def _has_api_key() -> bool:
  if os.environ.get("WANDB_API_KEY"):
    return True
  try:
    return netrc.netrc().authenticators("api.wandb.ai") is not None
  except (OSError, netrc.NetrcParseError):
    return False


def wandb_mode() -> str:
  """WANDB_MODE, else online with an API key, else offline (training and
  the report's W&B runs alike)."""
  return os.environ.get("WANDB_MODE") or (
      "online" if _has_api_key() else "offline")


def scalars(record: dict) -> dict[str, float]:
  """A metrics.jsonl record as W&B keys, e.g. {'dev/accuracy': 0.9}."""
  kind = record["kind"]
  return {f"{kind}/{k}": v for k, v in record.items()
          if k not in ("kind", "step") and isinstance(v, (int, float))}


GROUPED_BY = ("experiment", "dataset", "setting", "fold", "seed", "model",
              "method", "alpha")


def wandb_config(config: TrainConfig, run_dir: str) -> dict:
  """A run's W&B config: the keys a workspace groups and filters by
  (GROUPED_BY) at the top level, from the run.json the workflow writes in
  run_dir or else the config, and the whole training config under `train`."""
  meta = {}
  path = os.path.join(run_dir, "run.json")
  if os.path.exists(path):
    with open(path, encoding="utf-8") as f:
      meta = json.load(f)
  own = {"experiment": config.wandb.group, "dataset": "", "setting": "",
         "fold": None, "seed": config.seed, "model": config.model.name,
         "method": config.method, "alpha": config.alpha}
  top = {k: meta.get(k, own[k]) for k in GROUPED_BY}
  top["alpha"] = config.alpha
  return {**top, "train": to_dict(config)}


class Tracker:
  """Appends records to metrics.jsonl and mirrors them to W&B."""

  def __init__(self, config: TrainConfig, run_dir: str):
    self.path = os.path.join(run_dir, METRICS_FILE)
    self.run = None
    w = config.wandb
    mode = wandb_mode()
    if not w.project or mode == "disabled":
      return
    try:
      import wandb  # pylint: disable=g-import-not-at-top
      run_id = wandb_run_id(run_dir)
      self.run = wandb.init(
          project=w.project, group=w.group or None, job_type=w.job_type or None,
          tags=list(w.tags) or None, name=config.name,
          config=wandb_config(config, run_dir),
          dir=os.path.abspath(run_dir), mode=mode, id=run_id, resume="allow",
          settings=wandb.Settings(init_timeout=60, silent=True,
                                  console="off"))
    except Exception as e:  # pylint: disable=broad-except
      print(f"kwls train: wandb off ({type(e).__name__}: {e})",
            file=sys.stderr)
      self.run = None

  def log(self, record: dict) -> None:
    """One record: a line of metrics.jsonl and a W&B log at record['step']."""
    with open(self.path, "a", encoding="utf-8") as f:
      f.write(json.dumps(record) + "\n")
    if self.run is not None:
      try:
        self.run.log(scalars(record), step=int(record["step"]))
      except Exception as e:  # pylint: disable=broad-except
        print(f"kwls train: wandb log failed, wandb off ({e})", file=sys.stderr)
        self.run = None

  def finish(self, summary: dict) -> None:
    """Final values into the W&B summary; closes the W&B run."""
    if self.run is None:
      return
    try:
      for k, v in summary.items():
        self.run.summary[k] = v
      self.run.finish()
    except Exception as e:  # pylint: disable=broad-except
      print(f"kwls train: wandb finish failed ({e})", file=sys.stderr)
    self.run = None
