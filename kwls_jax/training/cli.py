"""`kwls train` and `kwls evaluate`.

    kwls train CONFIG.yaml [--set key.sub=value ...] [--run-dir DIR]
    kwls evaluate RUN_DIR [--split test|dev]

A bad config exits with status 2 and one line naming the field; a diverged
run (NaN/inf loss) exits with status 1 naming the step.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys


def add_parsers(subparsers) -> None:
  """Registers `train` and `evaluate` on the `kwls` subparsers."""
  p = subparsers.add_parser(
      "train", help="train a classifier with the Eq. 9 loss (checkpoints, "
      "resume, metrics.jsonl, final.json)")
  p.add_argument("config", metavar="CONFIG", help=".yaml (or .json) run config")
  p.add_argument("--set", dest="overrides", action="append", default=[],
                 metavar="KEY=VALUE",
                 help="override a field, dotted keys: --set optimizer."
                 "learning_rate=2e-5 (values parse as JSON, else string)")
  p.add_argument("--run-dir", default=None,
                 help="run directory (default runs/<name>-<timestamp>); "
                 "an existing one with checkpoints is resumed")
  p.add_argument("--no-progress", dest="progress", action="store_false")
  p = subparsers.add_parser(
      "evaluate", help="metrics of a run's newest checkpoint on a split")
  p.add_argument("run_dir", metavar="RUN_DIR")
  p.add_argument("--split", choices=["test", "dev"], default="test")


def default_run_dir(name: str) -> str:
  """runs/<name>-<YYYYmmdd-HHMMSS>."""
  stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
  return os.path.join("runs", f"{name}-{stamp}")


def _print_metrics(title: str, metrics: dict) -> None:
  """Classification metrics, or retrieval's Recall@k and MRR (%)."""
  if "accuracy" not in metrics:
    keys = ("R@1", "R@10", "R@50", "R@100", "MRR")
    print(f"{title}: " + "  ".join(f"{k} {metrics[k]:.2f}" for k in keys)
          + f"  (n={metrics['queries']} against {metrics['candidates']})")
    return
  keys = ("accuracy", "macro_f1", "nll", "ece")
  print(f"{title}: " + "  ".join(f"{k} {metrics[k]:.4f}" for k in keys)
        + f"  (n={metrics['count']})")


def _holds_only_config(run_dir: str) -> bool:
  """True when `run_dir` has no file but config.json (folders may be empty)."""
  if not os.path.isdir(run_dir):
    return False
  files = [os.path.relpath(os.path.join(d, f), run_dir)
           for d, _, names in os.walk(run_dir) for f in names]
  return files in ([], ["config.json"])


def run_train(args) -> int:
  """`kwls train`."""
  from kwls_jax.training import config as config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.load(args.config, args.overrides)
  from kwls_jax.training import loop  # pylint: disable=g-import-not-at-top
  run_dir = args.run_dir or default_run_dir(config.name)
  print(f"kwls train: run dir {run_dir}", file=sys.stderr)
  existed = os.path.exists(run_dir)
  try:
    final = loop.train(config, run_dir, progress=args.progress)
  except loop.TrainingDiverged as e:
    print(f"kwls train: error: {e}", file=sys.stderr)
    return 1
  except BaseException:
    # A new run that stopped before it trained (on its data, say) leaves no
    # run directory behind: it held only its config.
    if not existed and _holds_only_config(run_dir):
      shutil.rmtree(run_dir)
    raise
  _print_metrics("test", final["test"])
  if final.get("best_dev"):
    _print_metrics(f"best dev (step {final['best_dev']['step']})",
                   final["best_dev"])
  print(f"{final['steps']} steps in {final['train_seconds']:.1f} s "
        f"({final['samples_per_s']:.0f} samples/s); {run_dir}/final.json")
  return 0


def run_evaluate(args) -> int:
  """`kwls evaluate`."""
  from kwls_jax.training import loop  # pylint: disable=g-import-not-at-top
  metrics = loop.evaluate(args.run_dir, args.split)
  print(json.dumps(metrics))
  return 0
