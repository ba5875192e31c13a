"""Tables from run directories: numbers trace to runs, paired tests, formats."""

from __future__ import annotations

import json
import math

import numpy as np
from scipy import stats

from kwls_jax.reporting import tables


def _run(root, method, fold, acc, setting="balanced", dataset="ag_news",
         num_labels=None):
  d = root / f"{dataset}-{setting}-{method}-{fold}"
  d.mkdir()
  (d / "run.json").write_text(json.dumps({
      "experiment": "t", "dataset": dataset, "setting": setting, "fold": fold,
      "seed": 0, "model": "textcnn", "method": method}))
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
  assert math.isclose(by["kwls"].p_value, want_p)
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
  assert by["under:*", "none"].replicates == [(0, 0)]
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
