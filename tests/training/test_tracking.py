"""Weights & Biases: offline run written, its history equal to metrics.jsonl.

The history is read back from the offline run's .wandb file: a LevelDB-style
log (7-byte ':W&B' header, 32 KiB blocks of CRC'd chunks) of wandb's
`Record` protobufs, the format wandb's own `wandb sync` reads.
"""

from __future__ import annotations

import json
import pathlib
import struct
import time

import numpy as np
import pytest

from kwls_jax.training import config as config_lib
from kwls_jax.training import loop
from kwls_jax.training import tracking

_BLOCK = 32768
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def read_wandb_records(path: pathlib.Path) -> list[bytes]:
  """The raw protobuf records of a .wandb file."""
  data = path.read_bytes()
  ident, magic, version = struct.unpack("<4sHB", data[:7])
  assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), (ident, magic)
  out, pos, parts = [], 7, []
  while pos + 7 <= len(data):
    left = _BLOCK - pos % _BLOCK
    if left < 7:
      pos += left
      continue
    _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
    chunk = data[pos + 7:pos + 7 + length]
    pos += 7 + length
    if kind == 0 and length == 0:  # zero padding at the end of a block
      pos += _BLOCK - pos % _BLOCK if pos % _BLOCK else 0
      continue
    if kind == _FULL:
      out.append(chunk)
    elif kind == _FIRST:
      parts = [chunk]
    elif kind == _MIDDLE:
      parts.append(chunk)
    elif kind == _LAST:
      out.append(b"".join(parts + [chunk]))
  return out


def wait_for_exit_record(path: pathlib.Path, seconds: float = 60) -> None:
  """Waits until wandb's writer process has written the run's exit record:
  it flushes the .wandb file after `finish` returns."""
  from wandb.proto import wandb_internal_pb2  # pylint: disable=g-import-not-at-top
  deadline = time.time() + seconds
  while time.time() < deadline:
    for raw in read_wandb_records(path):
      rec = wandb_internal_pb2.Record()
      rec.ParseFromString(raw)
      if rec.WhichOneof("record_type") == "exit":
        return
    time.sleep(0.5)


def wandb_history(path: pathlib.Path) -> dict[int, dict]:
  """{step: {key: value}} of the history records of a .wandb file."""
  from wandb.proto import wandb_internal_pb2  # pylint: disable=g-import-not-at-top
  history = {}
  for raw in read_wandb_records(path):
    rec = wandb_internal_pb2.Record()
    rec.ParseFromString(raw)
    if rec.WhichOneof("record_type") != "history":
      continue
    row = {(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
           for i in rec.history.item}
    history.setdefault(int(row.get("_step", rec.history.step.num)),
                       {}).update(row)
  return history


def wandb_config(path: pathlib.Path) -> dict:
  """The config a .wandb file records (its config records merged)."""
  from wandb.proto import wandb_internal_pb2  # pylint: disable=g-import-not-at-top
  config = {}
  for raw in read_wandb_records(path):
    rec = wandb_internal_pb2.Record()
    rec.ParseFromString(raw)
    if rec.WhichOneof("record_type") == "run":
      items = rec.run.config.update
    elif rec.WhichOneof("record_type") == "config":
      items = rec.config.update
    else:
      continue
    config.update({(i.key or "/".join(i.nested_key)): json.loads(i.value_json)
                   for i in items})
  return config


def test_offline_wandb_logs_what_metrics_jsonl_holds(tmp_path, make_config,
                                                     monkeypatch):
  monkeypatch.setenv("WANDB_MODE", "offline")
  monkeypatch.setenv("WANDB_SILENT", "true")
  values = make_config(epochs=1, wandb={"project": "kwls-test",
                                        "group": "g", "job_type": "train"})
  run_dir = tmp_path / "run"
  run_dir.mkdir()
  # The workflow's run.json: what a W&B workspace groups and filters by.
  meta = {"experiment": "e", "dataset": "d", "setting": "under1", "fold": 2,
          "seed": 0, "model": "textcnn", "method": "none"}
  (run_dir / "run.json").write_text(json.dumps(meta))
  loop.train(config_lib.load(None, [], **values), str(run_dir),
             progress=False)
  files = list((run_dir / "wandb").glob("offline-run-*/run-*.wandb"))
  assert len(files) == 1, list((run_dir / "wandb").rglob("*"))
  wait_for_exit_record(files[0])
  history = wandb_history(files[0])
  records = tracking.read_metrics(str(run_dir))
  assert records and history
  for r in records:
    for key, value in tracking.scalars(r).items():
      assert np.isclose(history[r["step"]][key], value), (r["step"], key)
  assert "test/accuracy" in history[12] and "dev/nll" in history[12]
  config = wandb_config(files[0])
  assert {k: config[k] for k in meta} == meta
  assert config["alpha"] == config_lib.load(None, [], **values).alpha
  assert config["train"]["method"] == values["method"]


def test_wandb_mode_disabled_and_no_project_write_nothing(tmp_path, make_config,
                                                          monkeypatch):
  monkeypatch.setenv("WANDB_MODE", "disabled")
  values = make_config(epochs=1, max_steps=2, wandb={"project": "kwls-test"})
  loop.train(config_lib.load(None, [], **values), str(tmp_path / "a"),
             progress=False)
  assert not (tmp_path / "a" / "wandb").exists()
  assert (tmp_path / "a" / "metrics.jsonl").exists()


def test_mode_defaults_to_offline_without_a_key(monkeypatch, tmp_path):
  monkeypatch.delenv("WANDB_MODE", raising=False)
  monkeypatch.delenv("WANDB_API_KEY", raising=False)
  monkeypatch.setenv("HOME", str(tmp_path))
  monkeypatch.setenv("NETRC", str(tmp_path / "none"))
  assert tracking.wandb_mode() == "offline"
  monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
  assert tracking.wandb_mode() == "online"
  monkeypatch.setenv("WANDB_MODE", "disabled")
  assert tracking.wandb_mode() == "disabled"


@pytest.mark.parametrize("record, want", [
    ({"kind": "dev", "step": 3, "accuracy": 0.5, "count": 4},
     {"dev/accuracy": 0.5, "dev/count": 4}),
])
def test_scalars_prefix_the_kind(record, want):
  assert tracking.scalars(record) == want


def test_training_and_the_report_share_the_wandb_mode():
  from kwls_jax.reporting import tracking as report_tracking  # pylint: disable=g-import-not-at-top
  assert report_tracking.wandb_mode is tracking.wandb_mode
