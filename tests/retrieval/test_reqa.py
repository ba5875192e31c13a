"""ReQA construction: sentences tile paragraphs, gold holds answer starts."""

import collections
import gzip
import json
import re

import pytest

from kwls_jax.corpora.errors import CorpusError
from kwls_jax.retrieval import reqa, sentences


def _check(bench, rows, assert_tiles):
  """Properties every built benchmark has, checked against its rows."""
  by_paragraph = collections.defaultdict(list)
  for i, c in enumerate(bench.candidates):
    assert c["id"] == i
    by_paragraph[c["paragraph"]].append(c)
  contexts = list(dict.fromkeys((r["title"], r["context"]) for r in rows))
  assert sorted(by_paragraph) == list(range(len(contexts)))
  for p, cands in by_paragraph.items():
    title, context = contexts[p]
    assert all(c["article"] == title for c in cands)
    assert all(context[c["start"]:c["end"]] == c["text"] for c in cands)
    assert_tiles(context, [(c["start"], c["end"]) for c in cands])
  assert [q["id"] for q in bench.queries] == [r["id"] for r in rows]
  for q, r in zip(bench.queries, rows):
    gold = [bench.candidates[g] for g in q["gold"]]
    assert all(g["article"] == r["title"] for g in gold)
    assert len({g["paragraph"] for g in gold}) == 1
    starts = {a["answer_start"] for a in r["answers"]}
    # every answer start lies in a gold sentence, and every gold sentence
    # holds one
    assert all(any(g["start"] <= s < g["end"] for g in gold) for s in starts)
    assert all(any(g["start"] <= s < g["end"] for s in starts) for g in gold)


def test_synthetic_paragraphs(synthetic_rows, assert_tiles):
  bench = reqa.build((f"rows:{i}", r) for i, r in enumerate(synthetic_rows, 1))
  _check(bench, synthetic_rows, assert_tiles)
  texts = [c["text"] for c in bench.candidates]
  # abbreviations, initials and a month stay inside their sentences; the
  # subscript newlines join (read as spaces, pysbd takes "2) ... 3)" for a
  # numbered list)
  assert texts[0] == "Dr. Smith went to Paris in Jan. 1990."
  assert texts[3] == "He met J. R. Tolkien there."
  assert texts[4].endswith("Oxygen (O\n2) binds.")
  assert texts[5] == "Ozone (O\n3) was his topic."
  q = {x["id"]: x for x in bench.queries}
  # an answer running past its sentence keeps the sentence of its start
  assert [texts[g] for g in q["q1"]["gold"]] == ["He stayed for two weeks!"]
  assert len(q["q2"]["gold"]) == 2  # two answers in two sentences
  # same article, another context: a paragraph of its own; same context,
  # another article: another paragraph again
  assert [bench.candidates[q[i]["gold"][0]]["paragraph"]
          for i in ("q0", "q3", "q4")] == [0, 1, 2]


def test_answer_on_whitespace_between_sentences_goes_to_the_next():
  context = "One two. Three four."
  row = {"id": "a", "title": "t", "context": context, "question": "?",
         "answers": [{"text": " Three", "answer_start": 8}]}
  bench = reqa.build([("f:1", row)])
  assert [bench.candidates[g]["text"] for g in bench.queries[0]["gold"]] == [
      "Three four."]


def test_regex_split_breaks_after_every_full_stop(synthetic_rows, assert_tiles):
  context = synthetic_rows[0]["context"]
  spans = sentences.regex_spans(context)
  assert_tiles(context, spans)
  assert context[spans[0][0]:spans[0][1]] == "Dr."


@pytest.mark.parametrize("bad,message", [
    ({"id": "x", "title": "t", "question": "?",
      "answers": [{"answer_start": 0}]}, "missing key 'context'"),
    ({"id": "x", "title": "t", "context": "Short.", "question": "?",
      "answers": [{"answer_start": 6}]}, "answer_start 6 outside"),
    ({"id": "x", "title": "t", "context": "Short.", "question": "?",
      "answers": [{"answer_start": -1}]}, "answer_start -1 outside"),
    ({"id": "q0", "title": "t", "context": "Short.", "question": "?",
      "answers": [{"answer_start": 0}]}, "duplicate question id"),
])
def test_bad_input_names_file_and_line(tmp_path, synthetic_rows, write_gz, bad,
                                      message):
  path = write_gz(tmp_path / "squad.jsonl.gz", synthetic_rows[:2] + [bad])
  with pytest.raises(CorpusError, match=f"^{re.escape(path)}:3: .*{message}"):
    reqa.build(reqa.squad_rows(path))


def test_article_folds_are_balanced_and_follow_input_order():
  articles = [f"a{i}" for i in range(48) for _ in range(3)]
  folds = reqa.article_folds(articles)
  assert [folds[f"a{i}"] for i in range(8)] == [0, 1, 2, 3, 0, 1, 2, 3]
  assert collections.Counter(folds.values()) == {f: 12 for f in range(4)}


def test_split_queries_hold_out_whole_articles():
  queries = [{"id": str(i), "article": f"a{i % 10}"} for i in range(100)]
  folds = reqa.article_folds([f"a{i}" for i in range(10)])
  tests = []
  for fold in range(4):
    train, test = reqa.split_queries(queries, folds, fold)
    # the folds of the articles, whichever queries are given
    assert reqa.split_queries(queries[50:], folds, fold)[1] == [
        q for q in test if int(q["id"]) >= 50]
    assert len(train) + len(test) == 100
    assert not {q["article"] for q in train} & {q["article"] for q in test}
    tests += test
  assert sorted(q["id"] for q in tests) == sorted(q["id"] for q in queries)
  with pytest.raises(CorpusError, match="without candidates"):
    reqa.split_queries([{"article": "b"}], folds, 0)


def test_write_and_read_round_trip(tmp_path, synthetic_rows):
  bench = reqa.build(("f:1", r) for r in synthetic_rows)
  reqa.write(tmp_path, bench)
  assert reqa.read_candidates(tmp_path) == bench.candidates
  assert reqa.read_queries(tmp_path / reqa.QUERIES,
                           len(bench.candidates)) == bench.queries
  with gzip.open(tmp_path / reqa.CANDIDATES, "rt") as f:
    assert list(json.loads(f.readline())) == [
        "id", "text", "article", "paragraph", "start", "end"]


def test_queries_with_unknown_candidates_name_their_line(tmp_path, write_gz):
  path = write_gz(tmp_path / "q.jsonl.gz", [
      {"id": "a", "question": "?", "article": "t", "gold": [0]},
      {"id": "b", "question": "?", "article": "t", "gold": [5]}])
  with pytest.raises(CorpusError, match=f"^{re.escape(path)}:2: .gold."):
    reqa.read_queries(path, 5)


def test_squad_dev(shared_datasets, assert_tiles):
  path = shared_datasets / "squad" / "dev.jsonl.gz"
  rows = [r for _, r in reqa.squad_rows(path)]
  bench = reqa.build(reqa.squad_rows(path))
  assert len(bench.queries) == 10570
  assert bench.candidates[-1]["paragraph"] == 2066
  assert len({c["article"] for c in bench.candidates}) == 48
  _check(bench, rows, assert_tiles)
  # ReQA's own splitter gives 10,250 sentences here
  assert abs(len(bench.candidates) - 10250) < 0.01 * 10250
