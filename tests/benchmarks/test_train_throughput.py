"""benchmarks/train_throughput.py: it times `kwls train`'s config and step."""

from __future__ import annotations

import sys

import numpy as np

import train_throughput  # benchmarks/ (conftest.py)


def test_configs_are_the_trainers_resolved_ones():
  cfg = train_throughput.train_config("bert-base", 8, 32, "auto")
  assert cfg.model.name == "bert" and cfg.model.preset == "bert-base"
  assert not cfg.model.pretrained  # random init, no download
  assert cfg.optimizer.name == "adamw" and cfg.optimizer.grad_clip_norm == 1.0
  assert cfg.method == "kwls" and cfg.alpha > 0
  assert train_throughput.train_config("lstm", 8, 32, "auto").optimizer.name \
      == "adam"


def test_script_writes_a_row_per_model(tmp_path, monkeypatch, capsys):
  table = tmp_path / "t.md"
  monkeypatch.setattr(sys, "argv", [
      "train_throughput.py", "--models", "textcnn", "--batch", "4",
      "--length", "8", "--steps", "2", "--warmup", "1", "--repeats", "2",
      "--no-torch", "--markdown", str(table)])
  train_throughput.main()
  line = capsys.readouterr().out.strip().splitlines()[-1]
  assert line.startswith("textcnn jax fp32 batch4 len8: ")
  rows = [r for r in table.read_text().splitlines() if r.startswith("| textcnn")]
  assert len(rows) == 1 and "`kwls train`'s step" in rows[0]
  assert np.isfinite(float(rows[0].split("|")[4]))
