"""benchmarks/run_throughput.py: the steady training rate of a run."""

from __future__ import annotations

import json

import run_throughput  # benchmarks/ (conftest.py)


def test_steady_rate_leaves_out_the_compiling_window(tmp_path):
  records = [{"kind": "train", "step": 50, "samples_per_s": 10.0},
             {"kind": "dev", "step": 50, "accuracy": 0.5},
             {"kind": "train", "step": 100, "samples_per_s": 300.0},
             {"kind": "train", "step": 150, "samples_per_s": 100.0},
             {"kind": "train", "step": 160, "samples_per_s": 200.0}]
  (tmp_path / "metrics.jsonl").write_text(
      "".join(json.dumps(r) + "\n" for r in records))
  rates = run_throughput.train_rates(str(tmp_path))
  assert [s for s, _ in rates] == [50, 100, 150, 160]
  assert run_throughput.steady_rate(rates) == 200.0
  assert run_throughput.steady_rate(rates[:1]) is None
  (tmp_path / "final.json").write_text(json.dumps(
      {"test": {"accuracy": 0.9}, "devices": ["cuda:0"], "other": 1}))
  text = run_throughput.summary(str(tmp_path))
  assert "steady training rate (median after the first window): 200" in text
  assert '"devices": ["cuda:0"]' in text and '"other"' not in text
