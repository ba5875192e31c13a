"""The retrieval report (Table 3): cells match their runs, gains and t-tests,
the paper's numbers, baselines, and the data scope line."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from scipy import stats

from kwls_jax.reporting import paper, retrieval_report

METRICS = retrieval_report.METRICS


def _run(root, model, method, fold, values):
  d = root / f"{model}-{method}-{fold}"
  d.mkdir()
  (d / "run.json").write_text(json.dumps(
      {"experiment": "t3", "dataset": "squad", "setting": "reqa", "fold": fold,
       "seed": 0, "model": model, "method": method, "machine": "m1"}))
  (d / "final.json").write_text(json.dumps(
      {"test": dict(zip(METRICS, values)), "config_hash": "h",
       "git_commits": ["c"]}))
  (d / "config.json").write_text(json.dumps({"retrieval": {"folds": 4}}))
  return str(d)


@pytest.fixture
def report(tmp_path):
  rng = np.random.default_rng(0)
  values = {(m, f): rng.uniform(1, 99, len(METRICS))
            for m in ("none", "tfidf", "kwls") for f in range(4)}
  runs = [_run(tmp_path, "textcnn", m, f, values[m, f]) for m, f in values]
  bm25 = []
  for f in range(4):
    path = tmp_path / f"bm25-{f}.json"
    path.write_text(json.dumps({"queries": 5, "candidates": 9,
                                **{k: 10.0 * f + i for i, k in
                                   enumerate(METRICS)}}))
    bm25.append(f"bm25:{f}={path}")
  out = tmp_path / "out"
  retrieval_report.write_report(runs, str(out), "t3", bm25, table="table3",
                                command="snakemake x")
  with open(out / "table.csv", encoding="utf-8") as f:
    rows = {(r["model"], r["method"], r["metric"]): r
            for r in csv.DictReader(f)}
  with open(out / "comparisons.csv", encoding="utf-8") as f:
    rows.update({("kwls vs", r["other"], r["metric"]): r
                 for r in csv.DictReader(f)})
  return values, rows, (out / "table.md").read_text()


def test_cells_are_mean_and_std_over_folds_with_both_tests(report):
  values, rows, _ = report
  for i, metric in enumerate(METRICS):
    kwls = [values["kwls", f][i] for f in range(4)]
    none = [values["none", f][i] for f in range(4)]
    row = rows["textcnn", "kwls", metric]
    assert float(row["mean"]) == pytest.approx(np.mean(kwls))
    assert float(row["std"]) == pytest.approx(np.std(kwls, ddof=1))
    assert float(row["delta"]) == pytest.approx(np.mean(kwls) - np.mean(none))
    assert float(row["p_paired"]) == pytest.approx(
        stats.ttest_rel(kwls, none).pvalue)
    d = np.subtract(kwls, none)  # Nadeau-Bengio: variance times 1/J + 1/3
    t = d.mean() / np.sqrt((1 / 4 + 1 / 3) * d.var(ddof=1))
    assert float(row["p_corrected"]) == pytest.approx(
        2 * stats.t.sf(abs(t), df=3))
    want = paper.paper_recall("textcnn", "kwls", metric)
    assert (row["paper"] == "") if want is None else (
        float(row["paper"]) == want)
  assert paper.paper_recall("textcnn", "kwls", "R@1") == 37.25
  assert paper.paper_recall("lstm", "none", "R@100") == 70.26


def test_kwls_is_tested_against_each_method_with_detectable_effects(report):
  values, rows, md = report
  for other in ("none", "tfidf"):
    for i, metric in enumerate(METRICS):
      d = np.array([values["kwls", f][i] - values[other, f][i]
                    for f in range(4)])
      row = rows["kwls vs", other, metric]
      assert float(row["delta"]) == pytest.approx(d.mean())
      assert float(row["p_paired"]) == pytest.approx(
          stats.ttest_1samp(d, 0).pvalue)
      t = d.mean() / np.sqrt((1 / 4 + 1 / 3) * d.var(ddof=1))
      assert float(row["p_corrected"]) == pytest.approx(
          2 * stats.t.sf(abs(t), df=3))
      q = stats.t.ppf(0.975, 3) + stats.t.ppf(0.8, 3)
      assert float(row["mde_corrected"]) == pytest.approx(
          q * d.std(ddof=1) * np.sqrt(1 / 4 + 1 / 3))
      assert row["verdict"] == ("no difference detected"
                                if float(row["p_corrected"]) >= 0.05 else
                                "KWLS better" if d.mean() > 0 else "KWLS worse")
  assert {k[1] for k in rows if k[0] == "kwls vs"} == {"none", "tfidf"}
  assert "## KWLS against each method" in md
  assert "| textcnn | MRR | tfidf |" in md


def test_baselines_are_rows_of_their_own_without_gains(report):
  _, rows, md = report
  row = rows["zero-shot", "bm25", "R@10"]
  assert float(row["mean"]) == pytest.approx(np.mean([10.0 * f + 1
                                                      for f in range(4)]))
  assert row["delta"] == "nan" and row["paper"] == ""
  assert "| zero-shot | BM25 | 4 |" in md


def test_the_table_says_what_data_it_is(report):
  _, _, md = report
  assert "SQuAD v1.1 dev only" in md and "4 folds by article" in md
  assert "- command: `snakemake x`" in md
  assert "- runs' commits: `c` (12)" in md and "- runs' machines: `m1` (12)" in md
  assert "## Gain over the original model" in md
  assert "| textcnn | kwls | " in md.split("## Gain")[1]


def test_a_bad_baseline_item_is_refused(tmp_path):
  with pytest.raises(ValueError, match="NAME:FOLD=FILE"):
    retrieval_report.read_baseline("bm25=x.json")
