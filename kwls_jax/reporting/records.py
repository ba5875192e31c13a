"""A run's record: the few small files that stand for a finished run.

    python -m kwls_jax.reporting.records RUN_DIR RECORD_DIR

The workflow records every finished run under results/<experiment>/runs/,
which is committed, so a later checkout reports from it without retraining.
A record holds run.json (with the machine that recorded it), config.json,
metrics.jsonl, for classification reliability.json (the test predictions'
reliability bins, for the calibration diagram), and final.json, written last:
a record with final.json is complete. It holds no checkpoints or probability
arrays.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

from kwls_jax import provenance
from kwls_jax.atomic import atomic_open

COPIED = ("config.json", "metrics.jsonl")
RELIABILITY_FILE = "reliability.json"


def reliability_of_run(run_dir: str) -> dict:
  """The reliability bins of a run's saved test predictions, as JSON lists."""
  from kwls_jax.reporting import calibration  # pylint: disable=g-import-not-at-top
  bins = calibration.reliability(*calibration.run_predictions(run_dir))
  return {"rows": [int(n) for n in bins["rows"]],
          "confidence": [None if c != c else float(c) for c in bins["confidence"]],
          "accuracy": [None if a != a else float(a) for a in bins["accuracy"]]}


def _is_classification(run_dir: str) -> bool:
  with open(os.path.join(run_dir, "config.json"), encoding="utf-8") as f:
    return json.load(f).get("task", "classification") == "classification"


def write_record(run_dir: str, record_dir: str) -> None:
  """Copies a finished run's record files from run_dir to record_dir."""
  if not os.path.exists(os.path.join(run_dir, "final.json")):
    raise ValueError(f"{run_dir}: no final.json (the run has not finished)")
  os.makedirs(record_dir, exist_ok=True)
  final = os.path.join(record_dir, "final.json")
  if os.path.exists(final):
    os.unlink(final)  # incomplete until the new one is written
  for name in COPIED:
    if os.path.exists(os.path.join(run_dir, name)):
      with atomic_open(os.path.join(record_dir, name), "wb") as f, \
          open(os.path.join(run_dir, name), "rb") as src:
        shutil.copyfileobj(src, f)
  with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
    meta = json.load(f)
  meta["machine"] = provenance.machine()
  with atomic_open(os.path.join(record_dir, "run.json")) as f:
    json.dump(meta, f)
  if _is_classification(run_dir):  # retrieval runs rank, with no class probabilities
    with atomic_open(os.path.join(record_dir, RELIABILITY_FILE)) as f:
      json.dump(reliability_of_run(run_dir), f)
  with atomic_open(final, "wb") as f, \
      open(os.path.join(run_dir, "final.json"), "rb") as src:
    shutil.copyfileobj(src, f)


def main(argv=None) -> int:
  args = sys.argv[1:] if argv is None else argv
  if len(args) != 2:
    print("usage: python -m kwls_jax.reporting.records RUN_DIR RECORD_DIR",
          file=sys.stderr)
    return 2
  try:
    write_record(*args)
  except (OSError, ValueError) as e:
    print(f"records: error: {e}", file=sys.stderr)
    return 2
  print(f"recorded {args[0]} in {args[1]}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
