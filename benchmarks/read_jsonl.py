"""Benchmark: `read_jsonl` against gzip + json.loads line by line, same file.

Best of --repeat wall seconds for each; the baseline runs in the same process
and on the same file, so the ratio holds across machines.

  python benchmarks/read_jsonl.py [PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pathlib
import time

from kwls_jax.corpora import read_jsonl

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHARED = pathlib.Path(os.environ.get("KWLS_SHARED_DATASETS",
                                     ROOT.parent / "shared" / "datasets"))


def baseline(path: str) -> list[str]:
  """The plain way: the standard library's gzip and json, a line at a time."""
  with gzip.open(path, "rt", encoding="utf-8") as f:
    return [json.loads(line)["text"] for line in f]


def best_of(fn, path: str, repeat: int) -> float:
  best = float("inf")
  for _ in range(repeat):
    start = time.perf_counter()
    fn(path)
    best = min(best, time.perf_counter() - start)
  return best


def main(argv=None) -> None:
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("path", nargs="?",
                  default=str(SHARED / "imdb" / "train.jsonl.gz"))
  ap.add_argument("--repeat", type=int, default=3)
  args = ap.parse_args(argv)
  ours = best_of(read_jsonl, args.path, args.repeat)
  plain = best_of(baseline, args.path, args.repeat)
  print(f"{args.path}: read_jsonl {ours:.3f} s, gzip+json {plain:.3f} s, "
        f"{plain / ours:.1f}x (best of {args.repeat})")


if __name__ == "__main__":
  main()
