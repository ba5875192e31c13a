"""Training throughput of a `kwls train` run, from its metrics.jsonl.

  python benchmarks/run_throughput.py RUN_DIR

Each "train" record of metrics.jsonl holds the samples/s of the steps since
the previous one (log_every steps). The first window holds compilation, so the
steady rate is the median of the others. Prints those and the run's final.json
(test metrics, compute dtype, devices).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics


def train_rates(run_dir: str) -> list[tuple[int, float]]:
  """(step, samples/s) of each train record of run_dir/metrics.jsonl."""
  rates = []
  with open(os.path.join(run_dir, "metrics.jsonl"), encoding="utf-8") as f:
    for line in f:
      record = json.loads(line)
      if record.get("kind") == "train":
        rates.append((record["step"], record["samples_per_s"]))
  return rates


def steady_rate(rates: list[tuple[int, float]]) -> float | None:
  """The median samples/s after the first window (which compiles)."""
  rest = [r for _, r in rates[1:]]
  return statistics.median(rest) if rest else None


def summary(run_dir: str) -> str:
  rates = train_rates(run_dir)
  lines = ["train windows (step: samples/s): " + ", ".join(
      f"{s}: {r:,.0f}" for s, r in rates)]
  steady = steady_rate(rates)
  if steady is not None:
    lines.append(f"steady training rate (median after the first window): "
                 f"{steady:,.0f} samples/s")
  final_path = os.path.join(run_dir, "final.json")
  if os.path.exists(final_path):
    with open(final_path, encoding="utf-8") as f:
      final = json.load(f)
    keys = ("test", "compute_dtype", "devices", "steps", "train_seconds",
            "samples_per_s")
    lines.append("final.json: " + json.dumps({k: final.get(k) for k in keys}))
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("run_dir")
  print(summary(parser.parse_args().run_dir))


if __name__ == "__main__":
  main()
