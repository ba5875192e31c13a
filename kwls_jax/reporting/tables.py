"""Paper-style tables from run directories: mean +- std, paper numbers, significance.

A run directory holds `config.json` and `final.json` (written by `kwls train`)
plus a `run.json` the workflow writes beside them naming the experiment, corpus,
setting, model, method, fold and seed. `collect` turns those into records; every
table cell then traces back to its runs (runs.csv lists them).

Folds are the replicates: a cell's value in a fold is the mean over that fold's
seeds, and mean +- std, differences and tests are over folds, paired by fold.
Each comparison gets the paper's paired t-test and Nadeau and Bengio's corrected
resampled t-test (the folds share training data and the test set), and the
smallest difference each could detect.
"""

from __future__ import annotations

import collections
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
  machine: str = ""  # where the run was recorded


def provenance_of_runs(records: Sequence[Record]) -> str:
  """Markdown lines: the commits the runs trained under and the machines
  that recorded them, with how many runs each."""
  count = lambda values: ", ".join(
      f"`{v}` ({n})" for v, n in collections.Counter(values).most_common())
  machines = [r.machine for r in records if r.machine]
  return (f"- runs' commits: {count(r.commit or 'unknown' for r in records)}\n"
          + (f"- runs' machines: {count(machines)}\n" if machines else ""))


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
      machine=str(meta.get("machine", "")),
      commit=" ".join(map(str, final.get("git_commits") or [
          final.get("commit", final.get("git_commit", ""))])))


def collect(run_dirs: Iterable[str]) -> list[Record]:
  return [read_run(d) for d in run_dirs]


FOLDS = 4
"""Folds of the pool: each run trains on 3 of them, the 4th is its dev set."""

RHO = 1 / (FOLDS - 1)
"""Nadeau-Bengio's n_test/n_train: 1 held-out fold to 3 training folds."""

ALPHA = 0.05
"""Two-sided significance level of the tests and of the detectable effect."""

POWER = 0.8
"""Power at which the minimum detectable difference is given."""

LOWER_IS_BETTER = ("nll", "ece")


def paired_ttest(a: Sequence[float], b: Sequence[float]) -> float:
  """The paper's test: p of a paired t-test of a against b (nan: untestable)."""
  d = np.asarray(a, float) - np.asarray(b, float)
  if len(d) < 2 or not np.any(d != 0):
    return math.nan
  return float(stats.ttest_rel(a, b).pvalue)


def corrected_ttest(a: Sequence[float], b: Sequence[float],
                    rho: float = RHO) -> tuple[float, float]:
  """(t, two-sided p) of Nadeau and Bengio's corrected resampled t-test.

  t = mean(d) / sqrt((1/J + rho) * var(d, ddof=1)) over the J paired
  differences d = a - b, with J - 1 degrees of freedom; rho = 0 is the plain
  paired t-test, and rho > 0 widens it for replicates that share data.
  """
  d = np.asarray(a, float) - np.asarray(b, float)
  j = len(d)
  if j < 2:
    return math.nan, math.nan
  with np.errstate(divide="ignore", invalid="ignore"):
    t = float(np.mean(d) / np.sqrt((1 / j + rho) * np.var(d, ddof=1)))
  p = math.nan if math.isnan(t) else float(2 * stats.t.sf(abs(t), j - 1))
  return t, p


def min_detectable(sd: float, n: int, rho: float = 0.0, alpha: float = ALPHA,
                   power: float = POWER) -> float:
  """Smallest true mean difference a (corrected) paired t-test over n pairs
  with difference sd `sd` detects with `power` at two-sided `alpha`:
  (t_{1-alpha/2, n-1} + t_{power, n-1}) * sd * sqrt(1/n + rho)."""
  if n < 2:
    return math.nan
  q = stats.t.ppf(1 - alpha / 2, n - 1) + stats.t.ppf(power, n - 1)
  return float(q * sd * math.sqrt(1 / n + rho))


@dataclasses.dataclass
class Cell:
  """Aggregate of one (dataset, setting, model, method) over folds."""

  dataset: str
  setting: str
  model: str
  method: str
  values: list[float]  # one per fold: the mean over that fold's seeds
  folds: list[int]
  runs: list[str]
  seeds: list[int] = dataclasses.field(default_factory=list)  # per fold
  mean: float = math.nan
  std: float = math.nan
  delta: float = math.nan  # mean over folds of the gain over the original
  p_paired: float = math.nan  # the paper's paired t-test against the original
  p_corrected: float = math.nan  # the corrected resampled t-test, likewise
  paper: float | None = None


@dataclasses.dataclass(frozen=True)
class Comparison:
  """One cell against another of the same (dataset, setting, model), by fold."""

  dataset: str
  setting: str
  model: str
  method: str
  other: str
  folds: list[int]  # the folds both cells have
  diffs: list[float]  # method - other, per fold
  delta: float  # mean of diffs
  sd: float  # sd of diffs (ddof=1)
  p_paired: float
  p_corrected: float
  mde_paired: float
  mde_corrected: float
  verdict: str


def verdict(p: float, delta: float, n: int, higher_is_better: bool = True,
            alpha: float = ALPHA, name: str = "KWLS") -> str:
  """A word for a test's outcome: better, worse, no difference detected.

  p is nan over 2 or more folds only where every fold's difference is 0.
  """
  if n < 2:
    return "not tested (under 2 folds)"
  if math.isnan(p):
    return "equal in every fold"
  if p >= alpha:
    return "no difference detected"
  return f"{name} " + ("better" if (delta > 0) == higher_is_better else "worse")


def interval(sd: float, n: int, rho: float = RHO, alpha: float = ALPHA
             ) -> float:
  """Half-width of the (1 - alpha) interval of a mean difference over n
  paired folds that the corrected test inverts:
  t_{1-alpha/2, n-1} * sd * sqrt(1/n + rho); nan below 2 folds."""
  if n < 2:
    return math.nan
  return float(stats.t.ppf(1 - alpha / 2, n - 1) * sd * math.sqrt(1 / n + rho))


def compare(a: Cell, b: Cell, rho: float = RHO,
            higher_is_better: bool = True) -> Comparison:
  """a against b over the folds both have: Δ, both tests, detectable effects."""
  folds = [f for f in a.folds if f in b.folds]
  x = [a.values[a.folds.index(f)] for f in folds]
  y = [b.values[b.folds.index(f)] for f in folds]
  diffs = [u - v for u, v in zip(x, y)]
  n = len(diffs)
  delta = float(np.mean(diffs)) if n else math.nan
  sd = float(np.std(diffs, ddof=1)) if n > 1 else math.nan
  p_corrected = corrected_ttest(x, y, rho)[1]
  return Comparison(
      a.dataset, a.setting, a.model, a.method, b.method, folds, diffs, delta,
      sd, paired_ttest(x, y), p_corrected, min_detectable(sd, n),
      min_detectable(sd, n, rho),
      verdict(p_corrected, delta, n, higher_is_better,
              name="KWLS" if a.method == "kwls" else a.method))


def _under_class(setting: str) -> int | None:
  """C of Table 4's per-class setting underC (or under:C), else None."""
  m = re.fullmatch(r"under:?(\d+)", setting)
  return int(m.group(1)) if m else None


def _setting_groups(records: Sequence[Record], average_settings: bool
                    ) -> list[str]:
  """Each record's row setting: Table 4's per-class settings pooled as under:*
  where a (fold, seed) has every class's run, else as under:C,D (the classes it
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


def _fold_means(by_seed: dict[tuple[int, int], list[float]]
                ) -> tuple[list[int], list[float], list[int]]:
  """(folds, each fold's mean over its seeds, each fold's seed count) from
  {(fold, seed): values}, a (fold, seed)'s values averaged first."""
  folds = sorted({f for f, _ in by_seed})
  seed_means = {f: [float(np.mean(v)) for (g, _), v in sorted(by_seed.items())
                    if g == f] for f in folds}
  return (folds, [float(np.mean(seed_means[f])) for f in folds],
          [len(seed_means[f]) for f in folds])


def aggregate(records: Sequence[Record], metric: str = "accuracy",
              average_settings: bool = False, table: str = "",
              baseline: str = "none", rho: float = RHO) -> list[Cell]:
  """Cells with mean +- std over folds and both tests against `baseline`.

  A fold's value is the mean over its seeds, so folds are the replicates:
  std, Δ and the tests are over folds, paired by fold.
  With `average_settings`, Table 4's per-class settings (under:0 .. under:n-1)
  are first averaged within each (fold, seed), as the paper reports their
  mean; a (fold, seed) that lacks some class's run is averaged in a row of its
  own (under:0,2), without the paper's number.
  Values are in percent for accuracy and macro-F1.
  """
  scale = 100.0 if metric in ("accuracy", "macro_f1") else 1.0
  groups: dict[tuple, dict[tuple[int, int], list[Record]]] = {}
  records = [r for r in records if metric in r.metrics]
  for r, setting in zip(records, _setting_groups(records, average_settings)):
    key = (r.dataset, setting, r.model, r.method)
    groups.setdefault(key, {}).setdefault((r.fold, r.seed), []).append(r)
  cells = {}
  for key, by_seed in groups.items():
    folds, values, seeds = _fold_means({
        k: [scale * r.metrics[metric] for r in rs]
        for k, rs in by_seed.items()})
    cells[key] = Cell(*key, values=values, folds=folds, seeds=seeds,
                      runs=[r.run_dir for k in sorted(by_seed)
                            for r in by_seed[k]],
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
    c = compare(cell, base, rho)
    cell.delta, cell.p_paired, cell.p_corrected = (c.delta, c.p_paired,
                                                   c.p_corrected)
  order = {m: i for i, m in enumerate(paper.METHODS)}
  return sorted(cells.values(), key=lambda c: (
      c.dataset, c.setting, c.model, order.get(c.method, 99), c.method))


def comparisons(cells: Sequence[Cell], method: str = "kwls",
                rho: float = RHO, metric: str = "accuracy"
                ) -> list[Comparison]:
  """`method` against every other method present in each (dataset, setting,
  model), in the order of `cells`."""
  ours = {(c.dataset, c.setting, c.model): c for c in cells
          if c.method == method}
  return [compare(ours[c.dataset, c.setting, c.model], c, rho,
                  metric not in LOWER_IS_BETTER)
          for c in cells if c.method != method
          and (c.dataset, c.setting, c.model) in ours]


def _fmt(x: float, digits: int = 2) -> str:
  return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else \
      f"{x:.{digits}f}"


def _mean_std(c: Cell) -> str:
  return _fmt(c.mean) + ("" if math.isnan(c.std) else f" ± {_fmt(c.std)}")


def _sig(c: Cell) -> str:
  return "*" if not math.isnan(c.p_corrected) and c.p_corrected < ALPHA else ""


def _n(c: Cell) -> str:
  """Folds × seeds per fold, e.g. 4×3 (4×2-3 where folds differ)."""
  lo, hi = min(c.seeds, default=0), max(c.seeds, default=0)
  return f"{len(c.folds)}×{lo}" if lo == hi else f"{len(c.folds)}×{lo}-{hi}"


COLUMNS = ("dataset", "setting", "model", "method", "ours (mean ± std)",
           "folds×seeds", "Δ vs original", "p (paired t)", "p (corrected t)",
           "paper")

COMPARISON_COLUMNS = ("dataset", "setting", "model", "KWLS vs", "Δ", "folds",
                      "p (paired t)", "p (corrected t)", "MDE (paired)",
                      "MDE (corrected)", "verdict")


def to_rows(cells: Sequence[Cell]) -> list[list[str]]:
  return [[c.dataset, c.setting, c.model, c.method, _mean_std(c) + _sig(c),
           _n(c), _fmt(c.delta), _fmt(c.p_paired, 3), _fmt(c.p_corrected, 3),
           _fmt(c.paper)] for c in cells]


def comparison_rows(comps: Sequence[Comparison]) -> list[list[str]]:
  return [[c.dataset, c.setting, c.model, c.other, _fmt(c.delta),
           str(len(c.folds)), _fmt(c.p_paired, 3), _fmt(c.p_corrected, 3),
           _fmt(c.mde_paired), _fmt(c.mde_corrected), c.verdict]
          for c in comps]


ALIGN = "llll" + "r" * 6
COMPARISON_ALIGN = "llll" + "r" * 6 + "l"


def _markdown(columns: Sequence[str], rows: list[list[str]], align: str
              ) -> str:
  """A markdown table, column i aligned l(eft) or r(ight) as align[i] says."""
  lines = ["| " + " | ".join(columns) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
  return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def tests_note(rho: float = RHO) -> str:
  """What the two tests are and why the corrected one is there."""
  return ("p (paired t) is the paper's test: a paired t-test over the folds "
          "both cells have (scipy.stats.ttest_rel). p (corrected t) is Nadeau "
          "and Bengio's corrected resampled t-test on the same per-fold "
          "differences d: t = mean(d) / sqrt((1/J + ρ) · var(d)), var the "
          "sample variance (ddof 1), J folds, "
          f"J - 1 degrees of freedom, ρ = {rho:.3g} (held-out fold to "
          "training folds). The folds' runs share most of their training data "
          "and are all scored on the same test set, so their differences are "
          "not independent and the plain paired test is anti-conservative "
          "(its p is too small); the corrected p is never smaller.")


def to_markdown(cells: Sequence[Cell], metric: str = "accuracy",
                rho: float = RHO) -> str:
  lines = [_markdown(COLUMNS, to_rows(cells), ALIGN)]
  lines.append(f"{metric}; mean ± std over folds, each fold's value the mean "
               "over its seeds (folds×seeds: how many of each). Δ vs "
               "original: the mean over folds of (method - original model). "
               + tests_note(rho) + " * marks p < 0.05 in the corrected test.")
  if any(c.setting.startswith("under:") for c in cells):
    lines.append("\nunder:* is the mean, within each fold and seed, over the "
                 "runs with each class in turn undersampled 1:100 (underC); "
                 "under:C,D averages only the classes named, where some "
                 "class's run is missing, and has no paper number.")
  return "\n".join(lines) + "\n"


def comparisons_markdown(comps: Sequence[Comparison],
                         rho: float = RHO) -> str:
  """The comparisons of KWLS with every other method, and what they mean."""
  if not comps:
    return "No KWLS cell shares a dataset, setting and model with another.\n"
  return (_markdown(COMPARISON_COLUMNS, comparison_rows(comps),
                    COMPARISON_ALIGN) + "\n" + comparisons_note(rho))


def comparisons_note(rho: float = RHO) -> str:
  """What the columns of a KWLS-against-each-method table mean."""
  return ("Δ: KWLS minus the other method, the mean over the folds both "
          "have of the per-fold difference d. The p columns are the two tests "
          f"described under the table above (ρ = {rho:.3g}). MDE: the "
          "smallest true difference each test would detect with power "
          f"{POWER} at two-sided α = {ALPHA}, given the observed sd of d: "
          f"(t_{{{1 - ALPHA / 2:g}, J-1}} + t_{{{POWER:g}, J-1}}) · sd(d) · "
          "sqrt(1/J) for the paired test, · sqrt(1/J + ρ) for the corrected "
          f"one. Verdict: the corrected test at {ALPHA}; \"no difference "
          "detected\" says the difference was not seen, not that it is zero "
          "(compare Δ with the MDE); \"equal in every fold\": d is 0 in "
          "every fold, so neither test is defined.\n")


def _esc(s: str) -> str:
  return (s.replace("_", r"\_").replace("±", r"$\pm$").replace("Δ", r"$\Delta$")
          .replace("×", r"$\times$"))


def _latex(columns: Sequence[str], rows: list[list[str]], align: str) -> str:
  lines = [r"\begin{tabular}{" + align + "}",
           r"\toprule", " & ".join(_esc(c) for c in columns) + r" \\",
           r"\midrule"]
  lines += [" & ".join(_esc(x) for x in r) + r" \\" for r in rows]
  return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"


def to_latex(cells: Sequence[Cell],
             comps: Sequence[Comparison] = ()) -> str:
  """The table, and the comparisons of KWLS below it when given."""
  out = _latex(COLUMNS, to_rows(cells), ALIGN)
  if comps:
    out += "\n" + _latex(COMPARISON_COLUMNS, comparison_rows(comps),
                         COMPARISON_ALIGN)
  return out


def to_csv(cells: Sequence[Cell]) -> str:
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["dataset", "setting", "model", "method", "mean", "std",
              "n_folds", "seeds_per_fold", "delta", "p_paired", "p_corrected",
              "paper", "folds", "values", "runs"])
  for c in cells:
    w.writerow([c.dataset, c.setting, c.model, c.method, c.mean, c.std,
                len(c.values), ";".join(map(str, c.seeds)), c.delta,
                c.p_paired, c.p_corrected, c.paper,
                ";".join(map(str, c.folds)),
                ";".join(f"{v:.4f}" for v in c.values), ";".join(c.runs)])
  return out.getvalue()


def comparisons_csv(comps: Sequence[Comparison]) -> str:
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["dataset", "setting", "model", "method", "other", "delta",
              "sd_diff", "n_folds", "p_paired", "p_corrected", "mde_paired",
              "mde_corrected", "verdict", "folds", "diffs"])
  for c in comps:
    w.writerow([c.dataset, c.setting, c.model, c.method, c.other, c.delta,
                c.sd, len(c.folds), c.p_paired, c.p_corrected, c.mde_paired,
                c.mde_corrected, c.verdict, ";".join(map(str, c.folds)),
                ";".join(f"{v:.4f}" for v in c.diffs)])
  return out.getvalue()


def runs_csv(records: Sequence[Record]) -> str:
  """Every run behind the tables: its cell, fold, seed, metrics, provenance."""
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["dataset", "setting", "model", "method", "fold", "seed",
              *METRICS, "config_hash", "commit", "run_dir"])
  for r in records:
    w.writerow([r.dataset, r.setting, r.model, r.method, r.fold, r.seed,
                *[r.metrics.get(m, "") for m in METRICS], r.config_hash,
                r.commit, r.run_dir])
  return out.getvalue()
