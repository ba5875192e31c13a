"""Tables from run directories: numbers trace to runs, folds are the
replicates (seeds averaged within a fold), both tests, detectable effects,
KWLS against every method, formats."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from scipy import stats

from kwls_jax.reporting import report
from kwls_jax.reporting import tables


def _run(root, method, fold, acc, setting="balanced", dataset="ag_news",
         num_labels=None, seed=0):
  d = root / f"{dataset}-{setting}-{method}-{fold}-{seed}"
  d.mkdir()
  (d / "run.json").write_text(json.dumps({
      "experiment": "t", "dataset": dataset, "setting": setting, "fold": fold,
      "seed": seed, "model": "textcnn", "method": method}))
  (d / "final.json").write_text(json.dumps({
      "test": {"accuracy": acc, "macro_f1": acc - 0.01, "nll": 1 - acc,
               "ece": 0.05}, "config_hash": "abc", "commit": "123",
      **({"num_labels": num_labels} if num_labels else {})}))
  return str(d)


def test_cells_trace_to_runs_and_test_against_the_original(tmp_path):
  none = [0.80, 0.82, 0.81, 0.79]
  kwls = [0.84, 0.85, 0.83, 0.84]
  dirs = [_run(tmp_path, "none", f, a) for f, a in enumerate(none)]
  dirs += [_run(tmp_path, "kwls", f, a) for f, a in enumerate(kwls)]
  cells = tables.aggregate(tables.collect(dirs), table="table2")
  by = {c.method: c for c in cells}
  assert [c.method for c in cells] == ["none", "kwls"]  # the paper's order
  np.testing.assert_allclose(by["kwls"].values, np.array(kwls) * 100)
  assert math.isclose(by["kwls"].mean, 100 * np.mean(kwls))
  assert math.isclose(by["kwls"].std, 100 * np.std(kwls, ddof=1))
  assert math.isclose(by["kwls"].delta, 100 * (np.mean(kwls) - np.mean(none)))
  want_p = stats.ttest_rel(np.array(kwls) * 100, np.array(none) * 100).pvalue
  assert math.isclose(by["kwls"].p_paired, want_p)
  assert by["kwls"].p_paired < by["kwls"].p_corrected < 0.05
  # The paper's Table 2, TextCNN on AG News.
  assert (by["none"].paper, by["kwls"].paper) == (88.88, 91.07)
  assert sorted(by["kwls"].runs) == sorted(dirs[4:])
  md = tables.to_markdown(cells)
  assert "*" in md.splitlines()[3]  # kwls is significant here (p < 0.05)
  assert "91.07" in md
  assert "\\pm" in tables.to_latex(cells)
  csv_text = tables.to_csv(cells)
  assert dirs[4] in csv_text
  assert len(tables.runs_csv(tables.collect(dirs)).splitlines()) == 9


def test_table4_averages_settings_within_a_replicate(tmp_path):
  dirs = []
  for fold in (0, 1):
    for c, acc in enumerate((0.5, 0.7)):
      dirs.append(_run(tmp_path, "none", fold, acc + fold / 10,
                       setting=f"under{c}", dataset="imdb"))
  cells = tables.aggregate(tables.collect(dirs), average_settings=True,
                           table="table4")
  assert len(cells) == 1 and cells[0].setting == "under:*"
  np.testing.assert_allclose(cells[0].values, [60.0, 70.0])
  assert cells[0].paper == 48.73  # TextCNN on IMDb*, the paper's Table 4


def test_table4_averages_classes_then_seeds_within_a_fold(tmp_path):
  """Per (fold, seed) the classes' mean, then per fold the seeds' mean; a
  (fold, seed) missing a class's run goes to a row of its own."""
  acc = lambda c, fold, seed: (0.5, 0.7)[c] + fold / 10 + (seed ** 2) / 100
  dirs = [_run(tmp_path, "none", fold, acc(c, fold, seed), setting=f"under{c}",
               dataset="imdb", num_labels=2, seed=seed)
          for fold in (0, 1) for seed in (0, 1, 2) for c in (0, 1)
          if (fold, seed, c) != (1, 2, 1)]
  by = {c.setting: c for c in tables.aggregate(
      tables.collect(dirs), average_settings=True, table="table4")}
  assert sorted(by) == ["under:*", "under:0"]
  # Fold 0: seeds 0, 1, 2 (class means 60, 61, 64); fold 1: seeds 0, 1.
  np.testing.assert_allclose(by["under:*"].values, [(60 + 61 + 64) / 3, 70.5])
  assert by["under:*"].folds == [0, 1] and by["under:*"].seeds == [3, 2]
  assert len(by["under:*"].runs) == 10
  assert by["under:0"].values == [pytest.approx(64.0)]  # fold 1, seed 2
  assert by["under:0"].folds == [1] and by["under:0"].seeds == [1]


def test_table4_pools_only_replicates_with_every_class(tmp_path):
  """A replicate missing a class's run is not passed off as the mean over all
  classes: it gets a row of its own, without the paper's number."""
  dirs = [_run(tmp_path, "none", 0, acc, setting=f"under{c}", dataset="imdb",
               num_labels=2) for c, acc in enumerate((0.5, 0.7))]
  dirs.append(_run(tmp_path, "none", 1, 0.9, setting="under1", dataset="imdb",
                   num_labels=2))
  dirs.append(_run(tmp_path, "kwls", 1, 0.8, setting="under1", dataset="imdb",
                   num_labels=2))
  cells = tables.aggregate(tables.collect(dirs), average_settings=True,
                           table="table4")
  by = {(c.setting, c.method): c for c in cells}
  assert sorted(by) == [("under:*", "none"), ("under:1", "kwls"),
                        ("under:1", "none")]
  assert by["under:*", "none"].values == [60.0]
  assert by["under:*", "none"].folds == [0]
  assert by["under:*", "none"].seeds == [1]
  assert by["under:*", "none"].paper == 48.73
  assert by["under:1", "none"].values == [90.0]
  assert by["under:1", "none"].paper is None
  assert math.isclose(by["under:1", "kwls"].delta, -10.0)
  assert "under:C,D averages only the classes named" in tables.to_markdown(
      cells)


def test_paper_numbers_sit_beside_the_rows_of_their_own_setting():
  assert tables.paper_table("table2", "balanced") == "table2"
  assert tables.paper_table("table2", "under:*") == ""
  assert tables.paper_table("table4", "under:*") == "table4"
  assert tables.paper_table("paper", "balanced") == "table2"
  assert tables.paper_table("paper", "under:*") == "table4"
  assert tables.paper_table("paper", "under:0,1") == ""
  assert tables.paper_table("", "balanced") == ""


def test_seeds_are_averaged_within_a_fold_before_testing(tmp_path):
  """2 folds x 3 seeds: two values, each its fold's seed mean; tests over 2."""
  none = {0: (0.80, 0.81, 0.82), 1: (0.70, 0.74, 0.72)}
  kwls = {0: (0.85, 0.83, 0.87), 1: (0.76, 0.75, 0.78)}
  dirs = [_run(tmp_path, m, f, acc, seed=s)
          for m, accs in (("none", none), ("kwls", kwls))
          for f in accs for s, acc in enumerate(accs[f])]
  cells = tables.aggregate(tables.collect(dirs))
  by = {c.method: c for c in cells}
  means = {m: [100 * np.mean(accs[f]) for f in (0, 1)]
           for m, accs in (("none", none), ("kwls", kwls))}
  for method, cell in by.items():
    assert cell.folds == [0, 1] and cell.seeds == [3, 3]
    np.testing.assert_allclose(cell.values, means[method])
    assert math.isclose(cell.std, np.std(means[method], ddof=1))
    assert len(cell.runs) == 6
  assert math.isclose(by["kwls"].p_paired,
                      stats.ttest_rel(means["kwls"], means["none"]).pvalue)
  d = np.subtract(means["kwls"], means["none"])
  assert math.isclose(by["kwls"].delta, d.mean())
  assert math.isclose(by["kwls"].p_corrected,
                      tables.corrected_ttest(means["kwls"], means["none"])[1])
  assert "| 2×3 |" in tables.to_markdown(cells)
  row = tables.to_csv(cells).splitlines()[2].split(",")
  assert row[6:8] == ["2", "3;3"]  # n_folds, seeds_per_fold


def test_uneven_seeds_and_folds_pair_only_the_common_folds(tmp_path):
  dirs = [_run(tmp_path, "none", f, 0.5 + f / 10) for f in (0, 1, 2)]
  dirs += [_run(tmp_path, "kwls", f, 0.6 + f ** 2 / 10, seed=s)
           for f, seeds in ((1, (0, 1)), (2, (0,)), (3, (0,)))
           for s in seeds]
  by = {c.method: c for c in tables.aggregate(tables.collect(dirs))}
  assert by["kwls"].folds == [1, 2, 3] and by["kwls"].seeds == [2, 1, 1]
  assert tables.to_rows([by["kwls"]])[0][5] == "3×1-2"
  c = tables.compare(by["kwls"], by["none"])
  assert c.folds == [1, 2]  # fold 0 has no KWLS run, fold 3 no original's
  np.testing.assert_allclose(c.diffs, [10.0, 30.0])


def test_corrected_ttest_by_hand():
  """d = (2, 3, 2, 3): mean 5/2, var 1/3, J = 4, rho = 1/3:
  t = (5/2) / sqrt((1/4 + 1/3) / 3) = 15 / sqrt(7); with 3 degrees of freedom
  the two-sided p is 1 - (2/pi) (atan(x) + x / (1 + x^2)), x = t / sqrt(3)."""
  a, b = [3.0, 5.0, 4.0, 6.0], [1.0, 2.0, 2.0, 3.0]
  t, p = tables.corrected_ttest(a, b, rho=1 / 3)
  assert math.isclose(t, 15 / math.sqrt(7))
  x = t / math.sqrt(3)
  assert math.isclose(p, 1 - 2 / math.pi * (math.atan(x) + x / (1 + x * x)))
  assert tables.RHO == 1 / 3  # one held-out fold to three training folds
  assert tables.corrected_ttest(a, b) == (t, p)
  # The plain paired t of the same d: (5/2) / sqrt((1/3) / 4) = 5 sqrt(3).
  t0, p0 = tables.corrected_ttest(a, b, rho=0.0)
  assert math.isclose(t0, 5 * math.sqrt(3))
  assert math.isclose(p0, stats.ttest_rel(a, b).pvalue)
  assert math.isclose(p0, tables.paired_ttest(a, b))
  assert p > p0
  assert all(math.isnan(v) for v in tables.corrected_ttest([1.0], [0.0]))


def test_corrected_p_is_never_smaller_than_the_paired_p():
  rng = np.random.default_rng(0)
  for _ in range(200):
    j = int(rng.integers(2, 11))
    a = rng.normal(size=j)
    b = a - rng.normal(rng.normal(), rng.uniform(0.1, 2.0), size=j)
    p0 = tables.paired_ttest(a, b)
    assert math.isclose(p0, tables.corrected_ttest(a, b, rho=0.0)[1])
    ps = [tables.corrected_ttest(a, b, rho)[1] for rho in (0.1, 1 / 3, 1.0)]
    assert p0 <= ps[0] <= ps[1] <= ps[2]


def test_min_detectable_difference():
  """sd 2 over 4 folds; t_{0.975,3} = 3.182 and t_{0.8,3} = 0.978 (t table):
  (3.182 + 0.978) * 2 * sqrt(1/4) = 4.16, and * sqrt(1/4 + 1/3) = 6.355."""
  assert math.isclose(tables.min_detectable(2.0, 4), 4.16, rel_tol=1e-3)
  assert math.isclose(tables.min_detectable(2.0, 4, rho=1 / 3), 6.355,
                      rel_tol=1e-3)
  assert math.isnan(tables.min_detectable(2.0, 1))
  assert tables.min_detectable(0.0, 4) == 0.0
  # A true difference of the MDE is found with about the power asked for:
  # the paired t statistic is then noncentral t with noncentrality
  # MDE / (sd / sqrt(n)).
  for n in (4, 10):
    mde = tables.min_detectable(1.0, n)
    crit = stats.t.ppf(0.975, n - 1)
    nc = mde * math.sqrt(n)
    power = stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc)
    assert abs(power - 0.8) < 0.03


def test_kwls_is_compared_with_every_method_present(tmp_path):
  acc = {"none": 0.80, "classic": 0.83, "distill": 0.81, "tfidf": 0.90,
         "kwls": 0.84}
  noise = [0.0, 0.004, -0.003, 0.002]
  run_acc = lambda m, f: acc[m] + noise[f] * list(acc).index(m) / 4
  dirs = [_run(tmp_path, m, f, run_acc(m, f)) for m in acc for f in range(4)]
  # Another setting without LS-TFIDF and LS-Distill.
  dirs += [_run(tmp_path, m, f, run_acc(m, f), setting="agc1")
           for m in ("none", "classic", "kwls") for f in range(4)]
  cells = tables.aggregate(tables.collect(dirs))
  comps = tables.comparisons(cells)
  assert [(c.setting, c.other) for c in comps] == [
      ("agc1", "none"), ("agc1", "classic"), ("balanced", "none"),
      ("balanced", "classic"), ("balanced", "distill"), ("balanced", "tfidf")]
  by = {(c.setting, c.other): c for c in comps}
  for c in comps:
    assert c.method == "kwls" and c.folds == [0, 1, 2, 3]
    want = [100 * (run_acc("kwls", f) - run_acc(c.other, f)) for f in range(4)]
    np.testing.assert_allclose(c.diffs, want)
    assert math.isclose(c.delta, np.mean(want))
    assert c.p_paired <= c.p_corrected
    assert c.mde_paired < c.mde_corrected
    assert math.isclose(c.mde_corrected / c.mde_paired,
                        math.sqrt((1 / 4 + 1 / 3) / (1 / 4)))
  assert by["balanced", "none"].verdict == "KWLS better"
  assert by["balanced", "tfidf"].verdict == "KWLS worse"
  # Cells that differ by less than their noise: nothing to see.
  near = [_run(tmp_path, m, f, 0.8 + (noise[f] if m == "kwls" else 0.0),
               dataset="imdb") for m in ("none", "kwls") for f in range(4)]
  (c,) = tables.comparisons(tables.aggregate(tables.collect(near)))
  assert c.p_corrected > 0.05
  assert c.verdict == "no difference detected"
  # Every fold the same accuracy (a collapsed model): no test, and it says so.
  (tmp_path / "same").mkdir()
  same = [_run(tmp_path / "same", m, f, 0.5, dataset="imdb")
          for m in ("none", "kwls") for f in range(4)]
  (c,) = tables.comparisons(tables.aggregate(tables.collect(same)))
  assert math.isnan(c.p_paired) and math.isnan(c.p_corrected)
  assert c.verdict == "equal in every fold"
  # Lower NLL is better: the same sign reads the other way.
  assert tables.verdict(0.01, -1.0, 4, higher_is_better=False) == "KWLS better"
  assert tables.verdict(math.nan, 1.0, 1) == "not tested (under 2 folds)"


def test_report_writes_the_comparisons(tmp_path, monkeypatch):
  monkeypatch.setenv("WANDB_MODE", "disabled")
  runs = tmp_path / "runs"
  runs.mkdir()
  dirs = [_run(runs, m, f, a + f / 100 + (f % 2) * i / 1000, seed=s)
          for i, (m, a) in enumerate((("none", 0.8), ("classic", 0.82),
                                      ("kwls", 0.85)))
          for f in range(4) for s in (0, 1)]
  paths = report.write_report(dirs, str(tmp_path / "out"), "t",
                              table="table2")
  with open(paths["comparisons"], encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
  assert [(r["method"], r["other"]) for r in rows] == [
      ("kwls", "none"), ("kwls", "classic")]
  assert all(r["n_folds"] == "4" for r in rows)
  with open(paths["csv"], encoding="utf-8") as f:
    table = list(csv.DictReader(f))
  assert {"p_paired", "p_corrected", "n_folds", "seeds_per_fold"} <= set(
      table[0])
  assert all(r["seeds_per_fold"] == "2;2;2;2" for r in table)
  md = open(paths["md"], encoding="utf-8").read()
  assert "## KWLS against each method" in md
  assert "| 4×2 |" in md and "anti-conservative" in md
  assert md.count("KWLS better") == 2
  with open(paths["runs"], encoding="utf-8") as f:
    assert len(list(csv.DictReader(f))) == 24  # runs.csv: every run
