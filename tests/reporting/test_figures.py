"""Figures 1 and 2 from cells and run directories."""

import json
import math
import warnings

import numpy as np
import pytest

from kwls_jax.reporting import calibration
from kwls_jax.reporting import figures
from kwls_jax.reporting.tables import Cell


def _cell(setting, method, delta, model="bert"):
  return Cell("ag_news", setting, model, method, [0.0], [(0, 0)], ["r"],
              delta=delta)


def test_figure1_draws_both_panels(tmp_path):
  cells = [_cell(f"agc{c}", m, c * d) for c in range(4)
           for m, d in (("kwls", 1.0), ("classic", 0.5))]
  cells += [_cell(f"agm{m}", "kwls", 1.0 / m) for m in (300, 10, 1)]
  cells += [_cell("agc0", "none", math.nan)]
  path = tmp_path / "figure1.png"
  assert figures.figure1(cells, str(path)) == {"agc": 2, "agm": 1}
  assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
  assert path.stat().st_size > 10_000
  # Another model's cells get lines of their own, not joined to BERT's.
  cells += [_cell(f"agc{c}", "kwls", -c, model="textcnn") for c in range(4)]
  assert figures.figure1(cells, str(path)) == {"agc": 3, "agm": 1}


def test_figure1_error_bars_are_the_corrected_95_percent_interval():
  base = Cell("ag_news", "agc1", "textcnn", "none", [80.0, 81.0, 79.0, 80.0],
              [0, 1, 2, 3], ["r"] * 4)
  kwls = Cell("ag_news", "agc1", "textcnn", "kwls", [81.0, 83.0, 82.0, 84.0],
              [0, 1, 2, 3], ["r"] * 4)
  d = np.array([1.0, 2.0, 3.0, 4.0])  # kwls - none, fold by fold
  t = 3.182446305284263  # t_{0.975, 3}
  want = t * d.std(ddof=1) * math.sqrt(1 / 4 + 1 / 3)
  assert figures.gain_bar(kwls, [base, kwls]) == pytest.approx(want)
  assert figures.gain_bar(kwls, [kwls]) == 0.0  # no original to compare


def test_curves_and_figure2(tmp_path):
  run = tmp_path / "kwls"
  run.mkdir()
  lines = [{"kind": "train", "step": s, "epoch": 1, "loss": 1.0 / s}
           for s in (50, 100, 150)]
  lines += [{"kind": "dev", "step": 150, "accuracy": 0.7},
            {"kind": "dev", "step": 150, "accuracy": 0.7},  # final repeat
            {"kind": "test", "step": 150, "accuracy": 0.69}]
  (run / "metrics.jsonl").write_text(
      "\n".join(json.dumps(x) for x in lines) + "\n")
  steps, losses, eval_steps, accs = figures.read_curves(str(run))
  assert steps == [50, 100, 150] and losses[0] == 0.02
  assert eval_steps == [150] and accs == [0.7]
  path = tmp_path / "figure2.png"
  title = figures.figure2({"kwls": str(run)}, str(path), switch_step=100)
  assert path.stat().st_size > 10_000
  assert title == "Figure 2: soft labels switched on at step 100"
  # The workflow's runs name their dataset and setting, and so does the title.
  (run / "run.json").write_text('{"dataset": "imdb", "setting": "under1"}')
  assert figures.figure2({"kwls": str(run)}, str(path), None) == (
      "Figure 2: loss and dev accuracy during training (imdb under1)")


def test_calibration_draws_a_line_per_method_and_panel(tmp_path):
  rng = np.random.default_rng(0)
  probs = rng.dirichlet([1.0, 1.0, 1.0], size=200)
  labels = rng.integers(0, 3, size=200)
  r = calibration.reliability(probs, labels)
  assert r["rows"].sum() == 200 and 0 <= r["ece"] <= 1
  path = tmp_path / "calibration.png"
  panels = {"ag_news balanced textcnn": {"none": r, "kwls": r},
            "ag_news balanced lstm": {"none": r}}
  assert figures.calibration(panels, str(path)) == 3
  assert path.stat().st_size > 10_000
  assert figures.calibration({}, str(path)) == 0  # says there is nothing


def test_figure2_with_many_runs_lays_out_without_warnings(tmp_path):
  """Sixty runs (tools/workflow_smoke.yaml): one legend beside the panels,
  laid out without matplotlib's tight-layout warning."""
  runs = {}
  for i in range(60):
    run = tmp_path / f"r{i}"
    run.mkdir()
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(x) for x in [
        {"kind": "train", "step": 1, "loss": 1.0 + i},
        {"kind": "dev", "step": 1, "accuracy": i / 60}]) + "\n")
    runs[f"balanced{i % 4}/textcnn{i % 3}/classic{i}"] = str(run)
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    figures.figure2(runs, str(tmp_path / "figure2.png"), switch_step=1)
  assert (tmp_path / "figure2.png").stat().st_size > 10_000
