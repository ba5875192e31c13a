"""The paper's figures as PNG: Figure 1 (gain vs unbalance) and Figure 2 (curves)."""

from __future__ import annotations

import json
import math
import os
from typing import Sequence

from kwls_jax.reporting.tables import Cell


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def figure1(cells: Sequence[Cell], path: str) -> None:
  """Improvement in accuracy over the original model vs c and vs m, a line per method."""
  plt = _pyplot()
  panels = (("agc", "c: other classes undersampled 1:100", False),
            ("agm", "m: instances of each other class (c = 3)", True))
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  for ax, (prefix, xlabel, descending) in zip(axes, panels):
    methods = sorted({c.method for c in cells if c.setting.startswith(prefix)
                      and c.method != "none"})
    for method in methods:
      pts = sorted(((int(c.setting.split(":")[1]), c.delta) for c in cells
                    if c.setting.startswith(prefix + ":") and c.method == method
                    and not math.isnan(c.delta)), reverse=descending)
      if pts:
        ax.plot([str(x) for x, _ in pts], [y for _, y in pts], marker="o",
                label=method)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy gain over the original (points)")
    if methods:
      ax.legend(fontsize=8)
  fig.suptitle("Figure 1: effect of the degree of unbalance (AG News)")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def read_curves(run_dir: str) -> tuple[list, list, list, list]:
  """(steps, train loss, eval steps, dev accuracy) from a run's metrics.jsonl."""
  steps, losses, eval_steps, accs = [], [], [], []
  with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
    for line in f:
      row = json.loads(line)
      if "loss" in row and "step" in row and row.get("split", "train") == "train":
        steps.append(row["step"])
        losses.append(row["loss"])
      acc = row.get("dev_accuracy", row.get("accuracy") if row.get(
          "split") == "dev" else None)
      if acc is not None and "step" in row:
        eval_steps.append(row["step"])
        accs.append(acc)
  return steps, losses, eval_steps, accs


def figure2(run_dirs: dict[str, str], path: str, switch_step: int | None) -> None:
  """Loss and dev accuracy against steps, one line per run (label -> run dir)."""
  plt = _pyplot()
  fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
  for label, run_dir in run_dirs.items():
    steps, losses, eval_steps, accs = read_curves(run_dir)
    ax_loss.plot(steps, losses, label=label, linewidth=1)
    ax_acc.plot(eval_steps, accs, marker="o", label=label)
  for ax in (ax_loss, ax_acc):
    if switch_step:
      ax.axvline(switch_step, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("step")
    ax.legend(fontsize=8)
  ax_loss.set_ylabel("training loss (Eq. 9)")
  ax_acc.set_ylabel("dev accuracy")
  fig.suptitle("Figure 2: training with KWLS switched on mid-run (IMDb*)")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
