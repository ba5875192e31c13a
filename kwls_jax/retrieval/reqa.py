"""The ReQA benchmark (Ahmad et al., 2019) built from SQuAD v1.1 rows.

Candidates are the sentences of every paragraph; a question's gold
candidates are the sentences of its own paragraph that hold the start of one
of its answers (an answer running past its sentence keeps the sentence of
its start; one starting on the whitespace between two sentences belongs to
the next). A paragraph is a run of consecutive rows with the same title and
context, numbered in input order.
"""

from __future__ import annotations

import bisect
import dataclasses
import gzip
import json
import os
from typing import Callable, Iterable, Sequence

from kwls_jax.atomic import atomic_open
from kwls_jax.corpora.errors import CorpusError
from kwls_jax.corpora.jsonl import iter_jsonl_rows
from kwls_jax.retrieval.sentences import sentence_spans

CANDIDATES = "candidates.jsonl.gz"
QUERIES = "queries.jsonl.gz"
Splitter = Callable[[str], list[tuple[int, int]]]


@dataclasses.dataclass
class Benchmark:
  candidates: list[dict]  # {"id", "text", "article", "paragraph", "start", "end"}
  queries: list[dict]  # {"id", "question", "article", "gold"}


def _field(where: str, row: dict, key: str, kind: type):
  if key not in row:
    raise CorpusError(f"{where}: missing key '{key}'")
  if type(row[key]) is not kind:  # pylint: disable=unidiomatic-typecheck
    raise CorpusError(f"{where}: '{key}' must be {kind.__name__}, got "
                      f"{type(row[key]).__name__}")
  return row[key]


def _answer_starts(where: str, row: dict, context: str) -> list[int]:
  """answer_start of all `answers` (else the row's own), each in context."""
  answers = row.get("answers")
  if answers is None:
    answers = [{"answer_start": _field(where, row, "answer_start", int)}]
  if type(answers) is not list or not answers:  # pylint: disable=unidiomatic-typecheck
    raise CorpusError(f"{where}: 'answers' must be a non-empty list")
  starts = []
  for a in answers:
    s = a.get("answer_start") if type(a) is dict else None  # pylint: disable=unidiomatic-typecheck
    if type(s) is not int:  # pylint: disable=unidiomatic-typecheck
      raise CorpusError(f"{where}: answer without an int 'answer_start': {a!r}")
    if not 0 <= s < len(context):
      raise CorpusError(f"{where}: answer_start {s} outside its context "
                        f"({len(context)} characters)")
    starts.append(s)
  return starts


def build(rows: Iterable[tuple[str, dict]],
          split: Splitter = sentence_spans) -> Benchmark:
  """The benchmark of SQuAD rows given as (where, row), `where` = "file:line"."""
  candidates, queries, ids = [], [], set()
  key, ends, first, paragraph = None, [], 0, -1
  for where, row in rows:
    context = _field(where, row, "context", str)
    article = _field(where, row, "title", str)
    qid = _field(where, row, "id", str)
    question = _field(where, row, "question", str)
    if (article, context) != key:
      key, paragraph = (article, context), paragraph + 1
      spans = split(context)
      if not spans:
        raise CorpusError(f"{where}: context holds no sentence")
      first, ends = len(candidates), [e for _, e in spans]
      candidates += [{"id": first + i, "text": context[s:e], "article": article,
                      "paragraph": paragraph, "start": s, "end": e}
                     for i, (s, e) in enumerate(spans)]
    if qid in ids:
      raise CorpusError(f"{where}: duplicate question id {qid!r}")
    ids.add(qid)
    gold = {first + min(bisect.bisect_right(ends, s), len(ends) - 1)
            for s in _answer_starts(where, row, context)}
    queries.append({"id": qid, "question": question, "article": article,
                    "gold": sorted(gold)})
  return Benchmark(candidates, queries)


def squad_rows(path: str | os.PathLike) -> Iterable[tuple[str, dict]]:
  """(file:line, row) of a SQuAD JSON-lines file."""
  path = os.fspath(path)
  for line_no, row in iter_jsonl_rows(path):
    yield f"{path}:{line_no}", row


def article_folds(articles: Sequence[str], k: int = 4) -> dict[str, int]:
  """Fold of each article: the i-th distinct article (input order) is in i % k."""
  return {a: i % k for i, a in enumerate(dict.fromkeys(articles))}


def split_queries(queries: Sequence[dict], folds: dict[str, int],
                  fold: int) -> tuple[list[dict], list[dict]]:
  """(train, test) queries: test are those of the articles in `fold`.

  `folds` is `article_folds` of the candidates' articles, so a fold is the
  same whichever queries are given.
  """
  missing = {q["article"] for q in queries} - folds.keys()
  if missing:
    raise CorpusError(f"queries of articles without candidates: "
                      f"{sorted(missing)[:3]}")
  test = [q for q in queries if folds[q["article"]] == fold]
  return [q for q in queries if folds[q["article"]] != fold], test


def write_jsonl_gz(path: str | os.PathLike, rows: Iterable[dict]) -> None:
  """Rows as gzip JSON lines (mtime 0), atomically."""
  data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
  with atomic_open(path, "wb") as f:
    f.write(gzip.compress(data.encode("utf-8"), mtime=0))


def write(out_dir: str | os.PathLike, bench: Benchmark) -> None:
  write_jsonl_gz(os.path.join(out_dir, CANDIDATES), bench.candidates)
  write_jsonl_gz(os.path.join(out_dir, QUERIES), bench.queries)


def read_candidates(out_dir: str | os.PathLike) -> list[dict]:
  """The candidates of a built benchmark; ids must run 0, 1, 2, ..."""
  path = os.path.join(out_dir, CANDIDATES)
  rows = []
  for line_no, row in iter_jsonl_rows(path):
    if row.get("id") != len(rows) or type(row.get("text")) is not str:  # pylint: disable=unidiomatic-typecheck
      raise CorpusError(f"{path}:{line_no}: expected id {len(rows)} and a "
                        "'text' string")
    rows.append(row)
  return rows


def read_queries(path: str | os.PathLike, num_candidates: int) -> list[dict]:
  """Queries with a question and gold candidate ids in [0, num_candidates)."""
  path, rows = os.fspath(path), []
  for line_no, row in iter_jsonl_rows(path):
    where = f"{path}:{line_no}"
    _field(where, row, "question", str)
    gold = _field(where, row, "gold", list)
    if not gold or not all(type(g) is int and 0 <= g < num_candidates  # pylint: disable=unidiomatic-typecheck
                           for g in gold):
      raise CorpusError(f"{where}: 'gold' must be candidate ids in "
                        f"[0, {num_candidates}), got {gold[:5]}")
    rows.append(row)
  return rows
