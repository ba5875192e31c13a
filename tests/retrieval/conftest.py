"""Helpers for the retrieval tests: SQuAD-like rows and the tiling check."""

from __future__ import annotations

import gzip
import json

import pytest


def _assert_tiles(context: str, spans) -> None:
  """Spans in order, stripped, and every non-space character in exactly one."""
  owner = [0] * len(context)
  last = 0
  for s, e in spans:
    assert last <= s < e <= len(context)
    assert context[s:e] == context[s:e].strip()
    for i in range(s, e):
      owner[i] += 1
    last = e
  assert all(owner[i] == 1 for i, ch in enumerate(context) if not ch.isspace())


def squad_row(qid, title, context, question, *answers):
  """A row as in squad/dev.jsonl.gz; answers are answer texts in context."""
  answers = [{"text": a, "answer_start": context.index(a)} for a in answers]
  return {"id": qid, "title": title, "context": context, "question": question,
          "answer_text": answers[0]["text"],
          "answer_start": answers[0]["answer_start"], "answers": answers}


PARIS = ("Dr. Smith went to Paris in Jan. 1990. He stayed for two weeks! "
         "Why did he go? He met J. R. Tolkien there.[citation needed] "
         "Oxygen (O\n2) binds. Ozone (O\n3) was his topic.")
ROME = "Rome is old. It has many churches."


@pytest.fixture
def synthetic_rows():
  return [
      squad_row("q0", "Paris", PARIS, "Who went to Paris?", "Dr. Smith"),
      squad_row("q1", "Paris", PARIS, "How long?", "two weeks! Why"),
      squad_row("q2", "Paris", PARIS, "Whom and what?", "J. R. Tolkien",
                "Ozone"),
      squad_row("q3", "Paris", ROME, "What is old?", "Rome"),
      squad_row("q4", "Rome", ROME, "What does it have?", "many churches"),
  ]


@pytest.fixture
def assert_tiles():
  return _assert_tiles


@pytest.fixture
def write_gz():
  return _write_gz


def _write_gz(path, rows) -> str:
  """Rows (dicts, or raw lines) as a gzip JSON-lines file."""
  with gzip.open(path, "wt", encoding="utf-8") as f:
    for r in rows:
      f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
  return str(path)


@pytest.fixture(scope="session")
def tiny_benchmark(tmp_path_factory):
  """A `kwls reqa build` folder of tiny_squad's rows (8 articles, 64
  sentences, 128 questions)."""
  import tiny_squad  # pylint: disable=g-import-not-at-top
  from kwls_jax.retrieval import reqa  # pylint: disable=g-import-not-at-top
  folder = tmp_path_factory.mktemp("tiny_reqa")
  rows = [(f"tiny:{i}", r) for i, r in enumerate(tiny_squad.rows())]
  reqa.write(folder, reqa.build(rows))
  return folder


def retrieval_values(benchmark, **over) -> dict:
  """A tiny TextCNN dual-encoder config (dotted keys in `over`)."""
  values = {
      "name": "tiny-reqa", "task": "retrieval",
      "model": {"name": "textcnn", "max_length": 12, "embed_dim": 16,
                "options": {"num_filters": 8}},
      "retrieval": {"benchmark": str(benchmark), "embed_dim": 16,
                    "negatives": 4},
      "batch_size": 8, "epochs": 2, "log_every": 2, "seed": 0,
      "optimizer": {"learning_rate": 1e-2},
  }
  for k, v in over.items():
    node = values
    *parents, leaf = k.split(".")
    for p in parents:
      node = node.setdefault(p, {})
    node[leaf] = v
  return values


@pytest.fixture(scope="session")
def reqa_values(tiny_benchmark):
  """reqa_values(**dotted overrides) -> retrieval_values of tiny_benchmark."""
  return lambda **over: retrieval_values(tiny_benchmark, **over)
