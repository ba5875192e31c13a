"""Paper-style tables from run directories: mean +- std, paper numbers, significance.

A run directory holds `config.json` and `final.json` (written by `kwls train`)
plus a `run.json` the workflow writes beside them naming the experiment, corpus,
setting, model, method, fold and seed. `collect` turns those into records; every
table cell then traces back to its runs (runs.csv lists them).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import re
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

from kwls_jax.reporting import paper

METRICS = ("accuracy", "macro_f1", "nll", "ece")


@dataclasses.dataclass(frozen=True)
class Record:
  """One training run's test metrics and where they came from."""

  dataset: str
  setting: str
  model: str
  method: str
  fold: int
  seed: int
  metrics: dict
  run_dir: str
  config_hash: str = ""
  commit: str = ""
  num_labels: int = 0  # 0: not recorded


def read_run(run_dir: str) -> Record:
  """The record of one run directory (run.json + final.json)."""
  with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
    meta = json.load(f)
  with open(os.path.join(run_dir, "final.json"), encoding="utf-8") as f:
    final = json.load(f)
  test = final.get("test", final)
  return Record(
      dataset=meta["dataset"], setting=meta["setting"], model=meta["model"],
      method=meta["method"], fold=int(meta["fold"]), seed=int(meta["seed"]),
      metrics={m: float(test[m]) for m in METRICS if m in test},
      run_dir=run_dir, config_hash=str(final.get("config_hash", "")),
      num_labels=int(final.get("num_labels") or 0),
      commit=" ".join(map(str, final.get("git_commits") or [
          final.get("commit", final.get("git_commit", ""))])))


def collect(run_dirs: Iterable[str]) -> list[Record]:
  return [read_run(d) for d in run_dirs]


@dataclasses.dataclass
class Cell:
  """Aggregate of one (dataset, setting, model, method) over replicates."""

  dataset: str
  setting: str
  model: str
  method: str
  values: list[float]  # one per replicate (fold, seed), in replicate order
  replicates: list[tuple[int, int]]
  runs: list[str]
  mean: float = math.nan
  std: float = math.nan
  delta: float = math.nan  # mean improvement over the original model
  p_value: float = math.nan  # paired t-test against the original model
  paper: float | None = None


def _under_class(setting: str) -> int | None:
  """C of Table 4's per-class setting underC (or under:C), else None."""
  m = re.fullmatch(r"under:?(\d+)", setting)
  return int(m.group(1)) if m else None


def _setting_groups(records: Sequence[Record], average_settings: bool
                    ) -> list[str]:
  """Each record's row setting: Table 4's per-class settings pooled as under:*
  where a replicate has every class's run, else as under:C,D (the classes it
  has), which the paper's mean over all classes does not compare with."""
  if not average_settings:
    return [r.setting for r in records]
  replicate = lambda r: (r.dataset, r.model, r.method, r.fold, r.seed)
  under = [_under_class(r.setting) for r in records]
  present: dict[tuple, set[int]] = {}
  for r, c in zip(records, under):
    if c is not None:
      present.setdefault(replicate(r), set()).add(c)
  groups = []
  for r, c in zip(records, under):
    if c is None:
      groups.append(r.setting)
      continue
    classes = present[replicate(r)]
    whole = not r.num_labels or classes == set(range(r.num_labels))
    groups.append("under:*" if whole else
                  "under:" + ",".join(map(str, sorted(classes))))
  return groups


def paper_table(table: str, setting: str) -> str:
  """The paper's table whose number a row of `setting` sits beside: Table 2
  is the balanced setting, Table 4 the mean over the per-class settings;
  `table` "paper" takes each from its own table, "" none."""
  source = {"balanced": "table2", "under:*": "table4"}.get(setting, "")
  return source if table in (source, "paper") and source else ""


def aggregate(records: Sequence[Record], metric: str = "accuracy",
              average_settings: bool = False, table: str = "",
              baseline: str = "none") -> list[Cell]:
  """Cells with mean +- std over replicates and a paired test vs `baseline`.

  With `average_settings`, Table 4's per-class settings (under:0 .. under:n-1)
  are first averaged within each replicate, as the paper reports their mean;
  a replicate that lacks some class's run is averaged in a row of its own
  (under:0,2), without the paper's number.
  Values are in percent for accuracy and macro-F1.
  """
  scale = 100.0 if metric in ("accuracy", "macro_f1") else 1.0
  groups: dict[tuple, dict[tuple[int, int], list[Record]]] = {}
  records = [r for r in records if metric in r.metrics]
  for r, setting in zip(records, _setting_groups(records, average_settings)):
    key = (r.dataset, setting, r.model, r.method)
    groups.setdefault(key, {}).setdefault((r.fold, r.seed), []).append(r)
  cells = {}
  for key, by_rep in groups.items():
    reps = sorted(by_rep)
    values = [scale * float(np.mean([r.metrics[metric] for r in by_rep[k]]))
              for k in reps]
    cells[key] = Cell(*key, values=values, replicates=reps,
                      runs=[r.run_dir for k in reps for r in by_rep[k]],
                      mean=float(np.mean(values)),
                      std=float(np.std(values, ddof=1)) if len(values) > 1
                      else math.nan)
  for key, cell in cells.items():
    base = cells.get(key[:3] + (baseline,))
    source = paper_table(table, cell.setting)
    if metric == "accuracy" and source:
      cell.paper = paper.paper_accuracy(source, cell.dataset, cell.model,
                                        cell.method)
    if base is None or cell.method == baseline:
      continue
    common = [k for k in cell.replicates if k in base.replicates]
    a = [cell.values[cell.replicates.index(k)] for k in common]
    b = [base.values[base.replicates.index(k)] for k in common]
    if common:
      cell.delta = float(np.mean(a) - np.mean(b))
    if len(common) > 1 and np.any(np.asarray(a) != np.asarray(b)):
      cell.p_value = float(stats.ttest_rel(a, b).pvalue)
  order = {m: i for i, m in enumerate(paper.METHODS)}
  return sorted(cells.values(), key=lambda c: (
      c.dataset, c.setting, c.model, order.get(c.method, 99), c.method))


def _fmt(x: float, digits: int = 2) -> str:
  return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else \
      f"{x:.{digits}f}"


def _mean_std(c: Cell) -> str:
  return _fmt(c.mean) + ("" if math.isnan(c.std) else f" ± {_fmt(c.std)}")


def _sig(c: Cell) -> str:
  return "*" if not math.isnan(c.p_value) and c.p_value < 0.05 else ""


COLUMNS = ("dataset", "setting", "model", "method", "ours (mean ± std)", "n",
           "Δ vs original", "p (paired t)", "paper")


def to_rows(cells: Sequence[Cell]) -> list[list[str]]:
  return [[c.dataset, c.setting, c.model, c.method, _mean_std(c) + _sig(c),
           str(len(c.values)), _fmt(c.delta), _fmt(c.p_value, 3),
           _fmt(c.paper)] for c in cells]


def to_markdown(cells: Sequence[Cell], metric: str = "accuracy") -> str:
  lines = ["| " + " | ".join(COLUMNS) + " |",
           "|" + "|".join(["---"] * 4 + ["---:"] * 5) + "|"]
  lines += ["| " + " | ".join(r) + " |" for r in to_rows(cells)]
  lines.append(f"\n{metric}; mean ± std over replicates (folds x seeds); "
               "* marks p < 0.05 in a paired t-test against the original "
               "model over the same replicates (scipy.stats.ttest_rel).")
  if any(c.setting.startswith("under:") for c in cells):
    lines.append("under:* is the mean, within each replicate, over the runs "
                 "with each class in turn undersampled 1:100 (underC); "
                 "under:C,D averages only the classes named, where some "
                 "class's run is missing, and has no paper number.")
  return "\n".join(lines) + "\n"


def to_latex(cells: Sequence[Cell]) -> str:
  esc = lambda s: s.replace("_", r"\_").replace("±", r"$\pm$").replace(
      "Δ", r"$\Delta$")
  lines = [r"\begin{tabular}{llll" + "r" * 5 + "}", r"\toprule",
           " & ".join(esc(c) for c in COLUMNS) + r" \\", r"\midrule"]
  lines += [" & ".join(esc(x) for x in r) + r" \\" for r in to_rows(cells)]
  lines += [r"\bottomrule", r"\end{tabular}"]
  return "\n".join(lines) + "\n"


def to_csv(cells: Sequence[Cell]) -> str:
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["dataset", "setting", "model", "method", "mean", "std", "n",
              "delta", "p_value", "paper", "values", "runs"])
  for c in cells:
    w.writerow([c.dataset, c.setting, c.model, c.method, c.mean, c.std,
                len(c.values), c.delta, c.p_value, c.paper,
                ";".join(f"{v:.4f}" for v in c.values), ";".join(c.runs)])
  return out.getvalue()


def runs_csv(records: Sequence[Record]) -> str:
  """Every run behind the tables: its cell, replicate, metrics and provenance."""
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["dataset", "setting", "model", "method", "fold", "seed",
              *METRICS, "config_hash", "commit", "run_dir"])
  for r in records:
    w.writerow([r.dataset, r.setting, r.model, r.method, r.fold, r.seed,
                *[r.metrics.get(m, "") for m in METRICS], r.config_hash,
                r.commit, r.run_dir])
  return out.getvalue()
