"""A tiny synthetic corpus and config for CPU-cheap training tests."""

from __future__ import annotations

import json
import pathlib
import types

import numpy as np
import pytest

from kwls_jax.corpora.corpus import Corpus
from kwls_jax.corpora.jsonl import write_jsonl

KEYWORDS = (("good", "great", "fine"), ("bad", "awful", "poor"),
            ("ball", "goal", "match"))
FILLER = ("the", "a", "movie", "it", "was", "and", "of", "to", "film", "plot")


def synthetic(n: int, seed: int, num_labels: int = 3) -> Corpus:
  """Texts of filler words with a few keywords of their label (some noise)."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, num_labels, n)
  texts = []
  for y in labels:
    words = list(rng.choice(FILLER, rng.integers(4, 14)))
    src = y if rng.random() > 0.15 else rng.integers(0, num_labels)
    words += list(rng.choice(KEYWORDS[src], rng.integers(1, 3)))
    rng.shuffle(words)
    texts.append(" ".join(words))
  return Corpus(texts=texts, labels=labels.astype(np.int64),
                label_names=[f"c{i}" for i in range(num_labels)])


def write_corpus(folder: pathlib.Path, n_train=240, n_test=90) -> pathlib.Path:
  folder.mkdir(parents=True, exist_ok=True)
  write_jsonl(folder / "train.jsonl", synthetic(n_train, 0))
  write_jsonl(folder / "test.jsonl", synthetic(n_test, 1))
  return folder


def tiny_config(data: pathlib.Path, **over) -> dict:
  """A TextCNN config that trains in about a second."""
  values = {
      "name": "tiny",
      "model": {"name": "textcnn", "max_length": 16, "embed_dim": 16,
                "options": {"num_filters": 8}},
      "method": "none", "batch_size": 16, "epochs": 2, "seed": 0,
      "log_every": 4,
      "data": {"train": {"path": str(data / "train.jsonl"), "part": "train"},
               "dev": {"path": str(data / "train.jsonl"), "part": "dev"},
               "test": str(data / "test.jsonl")},
  }
  for k, v in over.items():
    node = values
    *parents, leaf = k.split(".")
    for p in parents:
      node = node.setdefault(p, {})
    node[leaf] = v
  return values


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> pathlib.Path:
  return write_corpus(tmp_path_factory.mktemp("tiny_corpus"))


@pytest.fixture(scope="session")
def make_config(corpus_dir):
  """make_config(**dotted overrides) -> a tiny config dict."""
  return lambda **over: tiny_config(corpus_dir, **over)


@pytest.fixture
def write_config(tmp_path, make_config):
  """write_config(**overrides) -> path of a tiny config .json."""
  def write(**over):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(make_config(**over)))
    return path
  return write


@pytest.fixture(scope="session")
def synth():
  """This module's helpers for tests: synthetic, tiny_config, KEYWORDS, FILLER."""
  return types.SimpleNamespace(synthetic=synthetic, tiny_config=tiny_config,
                               KEYWORDS=KEYWORDS, FILLER=FILLER)
