"""The aggregation's W&B record: offline without a key, and readable back."""

from __future__ import annotations

import glob
import json
import os

from kwls_jax.reporting import tracking


def test_mode_defaults_to_offline_without_a_key(monkeypatch, tmp_path):
  monkeypatch.delenv("WANDB_MODE", raising=False)
  monkeypatch.delenv("WANDB_API_KEY", raising=False)
  monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc
  monkeypatch.setenv("NETRC", str(tmp_path / "none"))
  assert tracking.wandb_mode() == "offline"
  monkeypatch.setenv("WANDB_MODE", "disabled")
  assert tracking.wandb_mode() == "disabled"


def test_offline_table_reads_back(monkeypatch, tmp_path):
  monkeypatch.setenv("WANDB_MODE", "offline")
  monkeypatch.setenv("WANDB_SILENT", "true")
  columns = ["method", "accuracy"]
  rows = [["none", "80.00"], ["kwls", "84.00 ± 0.50*"]]
  run_dir = tracking.log_report("kwls-test", "unit", {"acc_table": (columns, rows)},
                                {}, str(tmp_path / "wb"), {"k": 1})
  assert run_dir and os.path.isdir(run_dir)
  found = glob.glob(os.path.join(run_dir, "files", "media", "table",
                                 "acc_table_*.table.json"))
  assert len(found) == 1
  with open(found[0], encoding="utf-8") as f:
    table = json.load(f)
  assert table["columns"] == columns and table["data"] == rows


def test_disabled_logs_nothing(monkeypatch, tmp_path):
  monkeypatch.setenv("WANDB_MODE", "disabled")
  assert tracking.log_report("p", "e", {"t": (["a"], [["1"]])}, {},
                             str(tmp_path), {}) == ""
  assert not list(tmp_path.iterdir())
