"""Weights & Biases for the aggregation: tables and figures, offline without a key."""

from __future__ import annotations

import os

from kwls_jax.training.tracking import wandb_mode


def log_report(project: str, experiment: str, tables: dict[str, tuple],
               images: dict[str, str], directory: str, config: dict) -> str:
  """Logs `tables` ({key: (columns, rows)}) and `images` ({key: png}); returns the run dir.

  Never fails the workflow: a W&B error is reported and skipped. With no API
  key the run is written offline (`wandb sync <dir>` uploads it later);
  WANDB_MODE=disabled turns logging off.
  """
  mode = wandb_mode()
  if mode == "disabled" or not project:
    return ""
  try:
    import wandb  # pylint: disable=g-import-not-at-top
    os.makedirs(directory, exist_ok=True)
    run = wandb.init(project=project, group=experiment, job_type="aggregate",
                     name=f"{experiment}-report", config=config, mode=mode,
                     dir=directory, reinit="finish_previous",
                     settings=wandb.Settings(init_timeout=60, silent=True))
    for key, (columns, rows) in tables.items():
      run.log({key: wandb.Table(columns=list(columns), data=rows)})
    for key, png in images.items():
      run.log({key: wandb.Image(png)})
    run_dir = run.dir
    run.finish()
    return os.path.dirname(run_dir)
  except Exception as e:  # pylint: disable=broad-except
    print(f"wandb: logging skipped: {e}")
    return ""
