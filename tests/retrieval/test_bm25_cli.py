"""BM25 (Lucene's) scores by hand, and `kwls reqa build` / `kwls reqa bm25`."""

import argparse
import gzip
import json
import math

import numpy as np
import pytest

from kwls_jax.corpora.errors import CorpusError
from kwls_jax.retrieval import bm25, cli, reqa


def test_lucene_bm25_by_hand():
  texts = ["The cat sat.", "A dog ran", "the DOG"]
  retriever = bm25.index(texts, k1=0.9, b=0.4)
  avgdl = (3 + 3 + 2) / 3
  idf = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # "dog" is in 2 of 3
  tf_part = lambda dl: 1 / (1 + 0.9 * (1 - 0.4 + 0.4 * dl / avgdl))
  got = bm25.scores(retriever, ["Dog? dog!", "unicorn", ""])
  np.testing.assert_allclose(
      got[0], [0, 2 * idf * tf_part(3), 2 * idf * tf_part(2)], rtol=1e-6)
  np.testing.assert_array_equal(got[1:], 0)


def _kwls(*argv) -> int:
  parser = argparse.ArgumentParser(prog="kwls")
  cli.add_parser(parser.add_subparsers(dest="command", required=True))
  return cli.run(parser.parse_args(argv))


def test_build_then_bm25(tmp_path, synthetic_rows, write_gz, capsys):
  squad = write_gz(tmp_path / "squad.jsonl.gz", synthetic_rows)
  assert _kwls("reqa", "build", squad, "--out", str(tmp_path / "b")) == 0
  assert "5 queries" in capsys.readouterr().err
  candidates = reqa.read_candidates(tmp_path / "b")
  assert _kwls("reqa", "bm25", str(tmp_path / "b")) == 0
  out = json.loads(capsys.readouterr().out)
  assert out["queries"] == 5 and out["candidates"] == len(candidates)
  assert 0 <= out["R@1"] <= out["R@10"] <= out["R@50"] <= out["R@100"] == 100
  # a query whose gold sentence alone shares its words, but for its twin in
  # the other "Rome" paragraph: the two tie for ranks 1 and 2, rank 1.5
  one = write_gz(tmp_path / "one.jsonl.gz", [
      {"id": "z", "question": "How many churches has Rome?", "article": "Rome",
       "gold": [c["id"] for c in candidates
                if c["text"] == "It has many churches."][-1:]}])
  assert _kwls("reqa", "bm25", str(tmp_path / "b"), "--queries", one) == 0
  out = json.loads(capsys.readouterr().out)
  assert out["queries"] == 1 and out["R@1"] == 0 and out["R@10"] == 100
  assert out["MRR"] == pytest.approx(100 / 1.5, abs=0.01)


def test_bm25_of_a_fold(tmp_path, synthetic_rows, write_gz, capsys):
  squad = write_gz(tmp_path / "squad.jsonl.gz", synthetic_rows)
  _kwls("reqa", "build", squad, "--out", str(tmp_path / "b"))
  capsys.readouterr()
  counts = []
  for fold in range(2):  # articles Paris (fold 0: 4 queries), Rome (fold 1)
    assert _kwls("reqa", "bm25", str(tmp_path / "b"), "--fold", str(fold)) == 0
    counts.append(json.loads(capsys.readouterr().out)["queries"])
  assert counts == [4, 1]
  # folds are the candidates' articles', whichever queries are given
  rome = write_gz(tmp_path / "rome.jsonl.gz", [
      q for q in reqa.read_queries(tmp_path / "b" / reqa.QUERIES, 99)
      if q["article"] == "Rome"])
  assert _kwls("reqa", "bm25", str(tmp_path / "b"), "--queries", rome,
               "--fold", "1") == 0
  assert json.loads(capsys.readouterr().out)["queries"] == 1
  with pytest.raises(ValueError, match="no queries to rank in fold 2"):
    _kwls("reqa", "bm25", str(tmp_path / "b"), "--fold", "2")
  with pytest.raises(ValueError, match="--fold 4"):
    _kwls("reqa", "bm25", str(tmp_path / "b"), "--fold", "4")


def test_build_error_names_file_and_line(tmp_path, synthetic_rows, write_gz):
  squad = write_gz(tmp_path / "squad.jsonl.gz",
                   synthetic_rows[:1] + ['{"id": "x", "title": "t"}'])
  with pytest.raises(CorpusError, match=r"squad\.jsonl\.gz:2: missing key"):
    _kwls("reqa", "build", squad, "--out", str(tmp_path / "b"))
  assert not (tmp_path / "b").exists()


def test_built_files_are_reproducible(tmp_path, synthetic_rows, write_gz):
  squad = write_gz(tmp_path / "squad.jsonl.gz", synthetic_rows)
  for out in ("b1", "b2"):
    _kwls("reqa", "build", squad, "--out", str(tmp_path / out))
  for name in (reqa.CANDIDATES, reqa.QUERIES):
    assert (tmp_path / "b1" / name).read_bytes() == (
        tmp_path / "b2" / name).read_bytes()
    with gzip.open(tmp_path / "b1" / name, "rt") as f:
      assert f.read().count("\n") > 0
