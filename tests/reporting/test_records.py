"""Run records (results/<experiment>/runs/): what they hold, and the
calibration diagram drawn from them without the predictions."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from kwls_jax.reporting import calibration, records
from kwls_jax.training import metrics


def _run(root, probs, labels, name="run"):
  """A finished run directory with saved test predictions."""
  run = root / name
  (run / "predictions").mkdir(parents=True)
  np.save(run / "predictions" / "test_probs.npy", probs)
  np.save(run / "predictions" / "test_labels.npy", labels)
  (run / "run.json").write_text('{"method": "kwls"}')
  (run / "config.json").write_text('{"name": "r"}')
  (run / "metrics.jsonl").write_text('{"kind": "train", "step": 1}\n')
  (run / "final.json").write_text('{"test": {"accuracy": 0.5}}')
  (run / "checkpoints").mkdir()
  return run


def _predictions(seed, n=200, p=4):
  rng = np.random.default_rng(seed)
  probs = rng.dirichlet(np.full(p, 0.5), size=n).astype(np.float32)
  return probs, rng.integers(0, p, size=n)


def test_a_record_holds_the_small_files_only(tmp_path):
  run = _run(tmp_path, *_predictions(0))
  records.write_record(str(run), str(tmp_path / "record"))
  held = sorted(os.listdir(tmp_path / "record"))
  assert held == sorted(["run.json", "config.json", "metrics.jsonl",
                         "final.json", records.RELIABILITY_FILE])
  for name in ("config.json", "metrics.jsonl", "final.json"):
    assert (tmp_path / "record" / name).read_bytes() == (run / name).read_bytes()
  meta = json.loads((tmp_path / "record" / "run.json").read_text())
  assert meta.pop("machine") and meta == json.loads((run / "run.json").read_text())


def test_an_unfinished_run_is_not_recorded(tmp_path):
  run = _run(tmp_path, *_predictions(0))
  os.unlink(run / "final.json")
  assert records.main([str(run), str(tmp_path / "record")]) == 2
  assert not (tmp_path / "record" / "final.json").exists()


def test_pooled_record_bins_equal_the_bins_of_pooled_predictions(tmp_path):
  preds = [_predictions(s, n=100 + 50 * s) for s in range(3)]
  bins = []
  for i, (probs, labels) in enumerate(preds):
    run = _run(tmp_path, probs, labels, f"run{i}")
    records.write_record(str(run), str(tmp_path / f"record{i}"))
    bins.append(calibration.read_reliability(str(tmp_path / f"record{i}")))
  pooled = calibration.pooled_reliability(bins)
  probs = np.concatenate([p for p, _ in preds])
  labels = np.concatenate([l for _, l in preds])
  whole = calibration.reliability(probs, labels)
  np.testing.assert_array_equal(pooled["rows"], whole["rows"])
  np.testing.assert_allclose(pooled["confidence"], whole["confidence"],
                             rtol=1e-9, equal_nan=True)
  np.testing.assert_allclose(pooled["accuracy"], whole["accuracy"],
                             rtol=1e-9, equal_nan=True)
  assert pooled["ece"] == pytest.approx(whole["ece"], rel=1e-9)
  assert whole["ece"] == pytest.approx(metrics.expected_calibration_error(
      probs, metrics.top_correct(probs, labels)))


def test_reliability_json_is_plain_json_with_empty_bins_as_null(tmp_path):
  probs = np.tile(np.array([[0.9, 0.1]], np.float32), (10, 1))
  run = _run(tmp_path, probs, np.zeros(10, int))
  records.write_record(str(run), str(tmp_path / "record"))
  bins = json.loads((tmp_path / "record" / records.RELIABILITY_FILE).read_text())
  assert sum(bins["rows"]) == 10 and bins["confidence"].count(None) == 14
