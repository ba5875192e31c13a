"""Shared input reading and tokenizers for the soft-label baselines."""

from __future__ import annotations

import argparse
import gzip
import json
import re

import numpy as np

_WORD = re.compile(r"\w+")


def tokenize_word(text: str) -> list[str]:
  """`word` tokenizer: re.findall(r"\\w+", text.lower())."""
  return _WORD.findall(text.lower())


def tokenize_whitespace(text: str) -> list[str]:
  """`whitespace` tokenizer: str.split() with no argument, no lowercasing."""
  return text.split()


TOKENIZERS = {"word": tokenize_word, "whitespace": tokenize_whitespace}


def read_jsonl(path: str) -> tuple[list[str], list[int]]:
  """Texts and int labels from a .jsonl or .jsonl.gz file, one object a line."""
  opener = gzip.open if path.endswith(".gz") else open
  texts, labels = [], []
  with opener(path, "rt", encoding="utf-8") as fh:
    for line in fh:
      if not line.strip():
        continue
      row = json.loads(line)
      texts.append(row["text"])
      labels.append(int(row["label"]))
  return texts, labels


def parse_args(argv, description: str) -> argparse.Namespace:
  """The CLI every baseline shares: INPUT --out OUT.npy [--tokenizer]."""
  ap = argparse.ArgumentParser(description=description)
  ap.add_argument("input", help="jsonl or jsonl.gz with `text` and `label` (int)")
  ap.add_argument("--out", required=True, help="output .npy, float32 [N, P]")
  ap.add_argument("--tokenizer", choices=sorted(TOKENIZERS), default="word")
  ap.add_argument("--k1", type=float, default=2.0)
  ap.add_argument("--b", type=float, default=0.75)
  ap.add_argument("--k2", type=float, default=2.0)
  return ap.parse_args(argv)


def save(path: str, soft: np.ndarray) -> None:
  """Writes the soft labels as float32 [N, P]."""
  np.save(path, soft.astype(np.float32))
