"""The tiny experiments of the workflow tests: a 3-class corpus, its config,
and the table a run writes; a SQuAD-like file and a retrieval config."""

from __future__ import annotations

import csv
import gzip
import json
import os
import pathlib
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "retrieval"))  # tiny_squad
import tiny_squad  # pylint: disable=g-import-not-at-top,wrong-import-position
WORDS = [["apple", "pear", "plum", "fig"], ["goal", "match", "team", "coach"],
         ["stock", "market", "bank", "shares"]]


def corpus(root: pathlib.Path) -> pathlib.Path:
  """A 3-class corpus, `tiny`, with class-specific words plus shared noise."""
  rng = np.random.default_rng(0)
  folder = root / "data" / "tiny"
  folder.mkdir(parents=True)
  noise = sum(WORDS, [])
  for split, n in (("train", 96), ("test", 48)):
    with gzip.open(folder / f"{split}.jsonl.gz", "wt", encoding="utf-8") as f:
      for i in range(n):
        c = i % 3
        words = [rng.choice(WORDS[c]) if rng.random() < 0.6 else
                 rng.choice(noise) for _ in range(8)]
        f.write(json.dumps({"text": " ".join(words), "label": c}) + "\n")
  (folder / "labels.json").write_text('["fruit", "sport", "finance"]')
  return root / "data"


def config(root: pathlib.Path, folds, methods, **train) -> pathlib.Path:
  """root/tiny.yaml: TextCNN on `tiny`, 2 epochs; `train` adds overrides."""
  cfg = {
      "experiment": "tiny", "table": "", "data_dir": str(corpus(root)),
      "datasets": [{"name": "tiny", "pool": "train", "test": "test"}],
      "settings": ["balanced"], "folds": folds, "seeds": [0],
      "models": ["textcnn"], "methods": methods,
      "train": {"epochs": 2, "batch_size": 16, "model.max_length": 16,
                "model.embed_dim": 16, "log_every": 1, **train},
  }
  path = root / "tiny.yaml"
  path.write_text(json.dumps(cfg))  # JSON is YAML
  return path


XLA_CACHE: dict[str, str] = {}  # set for the session by conftest.py


def env(**extra) -> dict[str, str]:
  """The environment of a snakemake run: this Python's scripts on PATH, no W&B,
  the session's XLA compilation cache."""
  return dict(os.environ, **XLA_CACHE, **extra, WANDB_MODE="disabled",
              PATH=os.path.dirname(sys.executable) + os.pathsep +
              os.environ.get("PATH", ""))


def table(root: pathlib.Path) -> list[dict[str, str]]:
  with open(root / "results" / "tiny" / "table.csv", encoding="utf-8") as f:
    return list(csv.DictReader(f))


def reqa_config(root: pathlib.Path, methods, baselines, **train) -> pathlib.Path:
  """root/tinyreqa.yaml: a TextCNN dual encoder on tiny_squad's rows, fold 0,
  a few steps; `train` adds overrides."""
  (root / "data" / "squad").mkdir(parents=True)
  tiny_squad.write(root / "data" / "squad" / "dev.jsonl.gz")
  cfg = {
      "experiment": "tinyreqa", "task": "retrieval", "table": "table3",
      "data_dir": str(root / "data"),
      "reqa": {"input": "squad/dev.jsonl.gz", "baselines": baselines},
      "folds": [0], "seeds": [0], "models": ["textcnn"], "methods": methods,
      "train": {"max_steps": 6, "batch_size": 8, "model.max_length": 12,
                "model.embed_dim": 16, "model.options": {"num_filters": 8},
                "retrieval.embed_dim": 16, "retrieval.negatives": 4,
                "log_every": 1, **train},
  }
  path = root / "tinyreqa.yaml"
  path.write_text(json.dumps(cfg))
  return path
