"""The paper's figures as PNG: Figure 1 (gain vs unbalance) and Figure 2 (curves)."""

from __future__ import annotations

import json
import math
import os
import re
from typing import Sequence

import numpy as np

from kwls_jax.reporting import tables
from kwls_jax.reporting.tables import Cell


def _pyplot():
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  return plt


def gain_bar(cell: Cell, cells: Sequence[Cell]) -> float:
  """Half-width of the 95 % interval of cell's gain over its original model
  (the cell of method none with its dataset, setting and model), as the
  corrected test sees it; 0 where it cannot be had."""
  base = next((c for c in cells if c.method == "none" and (
      c.dataset, c.setting, c.model) == (cell.dataset, cell.setting,
                                         cell.model)), None)
  if base is None:
    return 0.0
  comp = tables.compare(cell, base)
  half = tables.interval(comp.sd, len(comp.diffs))
  return 0.0 if math.isnan(half) else half


def figure1(cells: Sequence[Cell], path: str) -> dict[str, int]:
  """Improvement in accuracy over the original model vs c and vs m, a line per
  method (per model and method where the cells hold several models), with
  the 95 % interval of each gain (corrected resampled t) as error bars.

  Returns the number of lines drawn per panel ("agc", "agm").
  """
  plt = _pyplot()
  panels = (("agc", "c: other classes undersampled 1:100", False),
            ("agm", "m: instances of each other class (c = 3)", True))
  fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
  drawn = {"agc": 0, "agm": 0}
  for ax, (prefix, xlabel, descending) in zip(axes, panels):
    value = lambda c: re.fullmatch(prefix + r":?(\d+)", c.setting)
    lines = sorted({(c.model, c.method) for c in cells
                    if value(c) and c.method != "none"})
    several_models = len({model for model, _ in lines}) > 1
    ax.set_prop_cycle(color=plt.get_cmap("tab10" if len(lines) <= 10 else
                                         "tab20").colors)
    for model, method in lines:
      pts = sorted(((int(value(c).group(1)), c.delta, gain_bar(c, cells))
                    for c in cells
                    if value(c) and (c.model, c.method) == (model, method)
                    and not math.isnan(c.delta)), reverse=descending)
      if pts:
        ax.errorbar([str(x) for x, _, _ in pts], [y for _, y, _ in pts],
                    yerr=[e for _, _, e in pts], marker="o", capsize=3,
                    label=f"{model}/{method}" if several_models else method)
        drawn[prefix] += 1
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy gain over the original (points)")
    if lines:
      ax.legend(fontsize=8)
  fig.suptitle("Figure 1: effect of the degree of unbalance (AG News); "
               "bars: 95 % interval, corrected resampled t")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return drawn


def read_curves(run_dir: str) -> tuple[list, list, list, list]:
  """(steps, train loss, eval steps, dev accuracy) from a run's metrics.jsonl.

  Lines are {"kind": "train", "step", "loss", ...} every log_every steps and
  {"kind": "dev", "step", "accuracy", ...} after each evaluation.
  """
  steps, losses, eval_steps, accs = [], [], [], []
  with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
    for line in f:
      row = json.loads(line)
      if row.get("kind") == "train" and "loss" in row:
        steps.append(row["step"])
        losses.append(row["loss"])
      elif row.get("kind") == "dev" and "accuracy" in row:
        if eval_steps and eval_steps[-1] == row["step"]:
          continue  # the final evaluation repeats the last epoch's
        eval_steps.append(row["step"])
        accs.append(row["accuracy"])
  return steps, losses, eval_steps, accs


def figure2_title(run_dirs: Sequence[str], switch_step: int | None) -> str:
  """The figure's title: the switch step and the runs' datasets and settings
  (from the workflow's run.json; IMDb* in the paper is imdb under1)."""
  data = set()
  for run_dir in run_dirs:
    meta = os.path.join(run_dir, "run.json")
    if os.path.exists(meta):
      with open(meta, encoding="utf-8") as f:
        m = json.load(f)
      data.add(f"{m.get('dataset', '?')} {m.get('setting', '?')}")
  what = (f"soft labels switched on at step {switch_step}" if switch_step
          else "loss and dev accuracy during training")
  return f"Figure 2: {what}" + (f" ({', '.join(sorted(data))})" if data else "")


def figure2(run_dirs: dict[str, str], path: str,
            switch_step: int | None) -> str:
  """Loss and dev accuracy against steps, one line per run (label -> run dir);
  returns the title."""
  plt = _pyplot()
  n = len(run_dirs)
  # Up to 8 runs: a legend in each panel. More: one legend beside both, in
  # columns of 22, and colours from a colour map so that none repeats.
  cols = 0 if n <= 8 else math.ceil(n / 22)
  fig, (ax_loss, ax_acc) = plt.subplots(
      1, 2, layout="constrained",
      figsize=(10 + 2.4 * cols, max(3.8, 0.2 * min(n, 22) + 0.8 if cols
                                    else 0)))
  colours = (plt.get_cmap("tab10")(range(n)) if n <= 10 else
             plt.get_cmap("turbo")(np.linspace(0.05, 0.95, n)))
  for colour, (label, run_dir) in zip(colours, run_dirs.items()):
    steps, losses, eval_steps, accs = read_curves(run_dir)
    ax_loss.plot(steps, losses, label=label, linewidth=1, color=colour)
    ax_acc.plot(eval_steps, accs, marker="o", label=label, color=colour)
  for ax in (ax_loss, ax_acc):
    if switch_step:
      ax.axvline(switch_step, color="grey", linestyle="--", linewidth=0.8)
    ax.set_xlabel("step")
    if not cols:
      ax.legend(fontsize=8)
  if cols:
    ax_acc.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7,
                  ncol=cols)
  ax_loss.set_ylabel("training loss (Eq. 9)")
  ax_acc.set_ylabel("dev accuracy")
  title = figure2_title(list(run_dirs.values()), switch_step)
  fig.suptitle(title)
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return title


def calibration(panels: dict[str, dict[str, dict]], path: str,
                title: str = "Reliability of test predictions") -> int:
  """Reliability diagrams: a panel per title, a line per label.

  `panels` maps a panel title to {label: `calibration.reliability(...)`}:
  accuracy against mean confidence in each confidence bin (empty bins left
  out; a point's area is the bin's share of the rows), the diagonal is
  perfect calibration, the legend gives each ECE.
  Returns the number of lines drawn.
  """
  plt = _pyplot()
  n = len(panels)
  if not n:
    fig, ax = plt.subplots(figsize=(5, 2))
    ax.text(0.5, 0.5, "no run has test predictions with labels",
            ha="center", va="center")
    ax.axis("off")
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return 0
  cols = min(n, 3)
  rows = math.ceil(n / cols)
  fig, axes = plt.subplots(rows, cols, squeeze=False, layout="constrained",
                           figsize=(max(4.2 * cols, 5.5), 4.2 * rows))
  drawn = 0
  for ax, (panel, lines) in zip(axes.flat, panels.items()):
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8)
    for label, r in lines.items():
      full = r["rows"] > 0
      (line,) = ax.plot(r["confidence"][full], r["accuracy"][full],
                        linewidth=1, label=f"{label} (ECE {r['ece']:.3f})")
      # A point's area is its bin's share of the rows.
      ax.scatter(r["confidence"][full], r["accuracy"][full],
                 s=4 + 300 * r["rows"][full] / r["rows"].sum(),
                 color=line.get_color(), alpha=0.8)
      drawn += 1
    # Confidence is at least 1/P: the axes start below the lowest point.
    drawn_lines = [r for r in lines.values() if np.any(r["rows"] > 0)]
    low = lambda key: math.floor(10 * min(
        (float(np.nanmin(r[key])) for r in drawn_lines), default=0.0)) / 10
    ax.set_xlim(low("confidence"), 1.02)
    ax.set_ylim(min(low("confidence"), low("accuracy")), 1.02)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(panel, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
  for ax in list(axes.flat)[n:]:
    ax.axis("off")
  fig.suptitle(title, wrap=True)
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return drawn
