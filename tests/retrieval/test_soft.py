"""Candidate soft labels and zero-shot ILR against literal loops of their definitions."""

from __future__ import annotations

import argparse
import collections
import itertools
import json
import math
import re

import numpy as np
import pytest

import kwls_jax
from kwls_jax.retrieval import cli, ranking, reqa, soft
from kwls_jax.smoothing import relevance

CANDIDATES = [
    "The Eiffel tower is in Paris, the capital of France.",   # 0
    "Paris hosted the Olympic games in 1900 and 1924.",       # 1
    "Rome is the capital of Italy; Rome is old, very old.",   # 2
    "The Colosseum in Rome held games.",                      # 3
    "Penguins live in Antarctica.",                           # 4: gold of none
    "...",                                                    # 5: no words
]
QUESTIONS = [
    "Where is the Eiffel tower?",                   # gold 0
    "What is the capital of France?",               # gold 0
    "When did Paris host the Olympic games games?",  # gold 1 (a repeated word)
    "Which city is old?",                           # gold 2
    "What held games in Rome, the old capital?",    # gold 2 and 3
    "",                                             # gold 3, no words
]
GOLD = [[0], [0], [1], [2], [3, 2, 2], [3]]
HYPER = dict(k1=1.6, b=0.6, k2=1.3)


def words(text):
  return re.findall(r"\w+", text.lower())


class Literal:
  """Eqs. 1-8 as loops over words and documents, float64."""

  def __init__(self, method, candidates, questions, gold, label_doc, k1, b,
               k2):
    self.method, self.k1, self.b, self.k2 = method, k1, b, k2
    self.docs = []  # X_m: a list of word lists
    for m, sentence in enumerate(candidates):
      asked = [words(questions[i]) for i in range(len(questions))
               if m in gold[i]]
      if label_doc == "questions" and asked:
        self.docs.append(asked)
      else:
        self.docs.append([words(sentence)])
    self.questions = [words(q) for q in questions]
    self.f = [collections.Counter(w for x in doc for w in x)  # f_{w,X_m}
              for doc in self.docs]
    self.s = [sum(len(x) for x in doc) for doc in self.docs]  # S_m
    self.s_avg = sum(self.s) / len(self.docs)
    self.x_avg = sum(len(x) for x in self.questions) / len(self.questions)
    self.labels_with = {}  # w -> #{m: f_{w,X_m} >= 1}
    self.df = {}  # w -> #{training questions containing w}

  def wlr(self, w, m):  # Eqs. 1-3
    f = self.f[m][w]
    if f == 0:
      return 0.0
    p = len(self.docs)
    if w not in self.labels_with:
      self.labels_with[w] = sum(1 for j in range(p) if self.f[j][w] >= 1)
    if self.method == "tfidf":
      return math.log(p / self.labels_with[w]) * f
    big_k = self.k1 * (1 - self.b + self.b * self.s[m] / self.s_avg)
    wlc = f * self.k1 / (f + big_k)
    return (math.log(p / self.labels_with[w]) + 1) * wlc

  def wir(self, w, x, zero_shot):  # Eqs. 4-6
    n = len(self.questions)
    if w not in self.df:
      self.df[w] = sum(1 for q in self.questions if w in q)
    df = self.df[w]
    if zero_shot:  # Eq. 5 over the training questions plus x
      n, df = n + 1, df + 1
    f = x.count(w)
    if self.method == "tfidf":
      return math.log(n / df) * f
    return (math.log(n / df) + 1) * f * self.k2 / (f + self.k2)

  def ilr(self, x, m, zero_shot=False):  # Eq. 7
    total = 0.0
    for w in set(x):
      total += self.wlr(w, m) * self.wir(w, x, zero_shot)
    return total / self.x_avg

  def targets(self, i, cand_ids):  # Eq. 8 over the given candidates
    e = [math.exp(self.ilr(self.questions[i], m)) for m in cand_ids]
    return [v / sum(e) for v in e]


def literal_classic(gold, cand_ids, epsilon):
  hard = [1.0 if m in gold else 0.0 for m in cand_ids]
  if sum(hard) == 0:
    hard = [1.0] * len(cand_ids)
  return [(1 - epsilon) * h / sum(hard) + epsilon / len(cand_ids)
          for h in hard]


ROWS = np.array([0, 2, 4, 5, 3])
BATCH = np.array([3, 0, 5, 2, 2, 4])  # a repeated and an empty candidate
PER_QUERY = np.array([[0, 1, 4], [1, 1, 3], [2, 3, 0], [5, 4, 3], [2, 0, 1]])


def build(method, label_doc="sentence", **kw):
  return soft.CandidateSoftLabels.build(
      method, CANDIDATES, QUESTIONS, GOLD, label_doc=label_doc,
      **{**HYPER, **kw})


@pytest.mark.parametrize("label_doc", soft.LABEL_DOCS)
@pytest.mark.parametrize("method", ["kwls", "tfidf"])
def test_ilr_and_targets_match_literal_loops(method, label_doc):
  lab = build(method, label_doc)
  ref = Literal(method, CANDIDATES, QUESTIONS, GOLD, label_doc, **HYPER)
  all_rows, all_cands = np.arange(len(QUESTIONS)), np.arange(len(CANDIDATES))
  want = np.array([[ref.ilr(ref.questions[i], m) for m in all_cands]
                   for i in all_rows])
  assert (want > 0).sum() > 10  # the comparison is not all zeros
  got = lab.ilr(all_rows, all_cands)
  assert got.dtype == np.float32 and got.shape == want.shape
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
  np.testing.assert_allclose(lab.ilr(ROWS, BATCH), want[ROWS][:, BATCH],
                             rtol=1e-6, atol=1e-6)
  for cand_ids in (BATCH, PER_QUERY):
    targets = lab.targets(ROWS, cand_ids)
    per_row = cand_ids if cand_ids.ndim == 2 else [cand_ids] * len(ROWS)
    want_t = [ref.targets(i, c) for i, c in zip(ROWS, per_row)]
    assert targets.dtype == np.float32
    np.testing.assert_allclose(targets, want_t, atol=1e-6)
    np.testing.assert_allclose(targets.sum(1), 1, atol=1e-6)


def test_targets_are_the_engines_softmax():
  lab = build("kwls")
  ilr = lab.ilr(ROWS, BATCH)
  np.testing.assert_allclose(lab.targets(ROWS, BATCH),
                             relevance.soft_label(ilr), atol=1e-6)


def test_label_doc_questions_uses_questions_and_falls_back_to_sentences():
  by_sentence = build("kwls").ilr(np.arange(6), np.arange(6))
  by_questions = build("kwls", "questions").ilr(np.arange(6), np.arange(6))
  asked = [0, 1, 2, 3]
  assert np.abs(by_sentence[:, asked] - by_questions[:, asked]).max() > 0.1
  # "penguins" is in candidate 4's sentence only: no training question's gold
  lab = build("kwls", "questions")
  wir = lab.query_wir(["Where do penguins live?"])
  assert soft.ilr_matrix(wir, lab.wlr, lab.x_avg)[0].argmax() == 4


def test_classic_matches_literal():
  lab = build("classic", epsilon=0.2)
  for cand_ids in (BATCH, PER_QUERY):
    per_row = cand_ids if cand_ids.ndim == 2 else [cand_ids] * len(ROWS)
    want = [literal_classic(GOLD[i], c, 0.2) for i, c in zip(ROWS, per_row)]
    got = lab.targets(ROWS, cand_ids)
    np.testing.assert_allclose(got, want, atol=1e-6)
    np.testing.assert_allclose(got.sum(1), 1, atol=1e-6)
  # question 4 has no gold in [0, 1, 4]: uniform
  np.testing.assert_allclose(lab.targets(np.array([4]), np.array([0, 1, 4])),
                             [[1 / 3] * 3], atol=1e-7)
  with pytest.raises(ValueError, match="no ILR"):
    lab.ilr(ROWS, BATCH)


@pytest.mark.parametrize("method", ["kwls", "tfidf"])
def test_questions_label_docs_are_the_classification_engines(method):
  """Every candidate gold for some question: the engine's multi-label KWLS."""
  questions, gold = QUESTIONS[:5] + ["Penguins of Antarctica?", "dots"], (
      GOLD[:5] + [[4], [5]])
  multi_hot = np.zeros((len(gold), len(CANDIDATES)), bool)
  for i, g in enumerate(gold):
    multi_hot[i, g] = True
  engine = kwls_jax.smoothing.compute_soft_labels(
      questions, multi_hot, len(CANDIDATES), method=method, **HYPER)
  lab = soft.CandidateSoftLabels.build(method, CANDIDATES, questions, gold,
                                       label_doc="questions", **HYPER)
  rows, cands = np.arange(len(questions)), np.arange(len(CANDIDATES))
  np.testing.assert_allclose(lab.ilr(rows, cands), engine.ilr, rtol=1e-5,
                             atol=1e-5)
  np.testing.assert_allclose(lab.targets(rows, cands), engine.soft_labels,
                             atol=1e-5)


@pytest.mark.parametrize("label_doc", soft.LABEL_DOCS)
@pytest.mark.parametrize("method", ["kwls", "tfidf"])
def test_gold_gets_the_largest_target(method, label_doc):
  lab = build(method, label_doc)
  batch = np.array([3, 1, 4, 0, 2])
  targets = lab.targets(np.array([0, 2]), batch)  # gold 0 and gold 1
  assert batch[targets.argmax(1)].tolist() == [0, 1]
  top2 = np.sort(targets, axis=1)[:, -2:]
  assert (top2[:, 1] > top2[:, 0] + 0.05).all()  # no near tie


@pytest.mark.parametrize("method", ["kwls", "tfidf"])
def test_zero_shot_ilr_matches_literal(method):
  lab = build(method, "questions")
  ref = Literal(method, CANDIDATES, QUESTIONS, GOLD, "questions", **HYPER)
  queries = ["Olympic games in Paris or Rome?",
             "Where do penguins live, unicorn?",  # unicorn: no WLR anywhere
             "the Capital CAPITAL capital", ""]
  want = [[ref.ilr(words(q), m, zero_shot=True)
           for m in range(len(CANDIDATES))] for q in queries]
  got = soft.zero_shot_ilr(lab, queries)
  assert got.shape == (4, len(CANDIDATES)) and got.dtype == np.float32
  np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_zero_shot_ranks_the_obvious_sentence_first():
  candidates = ["Cats chase mice in the barn.",
                "The river floods every spring.",
                "Volcanoes erupt molten lava.",
                "The barn stores hay for winter."]
  questions = ["What do cats chase?", "When does the river flood?",
               "What does the barn store?"]
  lab = soft.CandidateSoftLabels.build("kwls", candidates, questions,
                                       [[0], [1], [3]])
  queries = ["Which animals do cats chase?", "What do volcanoes erupt?",
             "What is stored in the barn for winter?"]
  ranks = soft.zero_shot_ranks(lab, queries, [[0], [2], [3]], chunk=2)
  np.testing.assert_array_equal(ranks, [1, 1, 1])
  scores = soft.zero_shot_ilr(lab, queries)
  np.testing.assert_array_equal(ranking.gold_ranks(scores, [[0], [2], [3]]),
                                ranks)


def test_build_rejects_bad_input():
  with pytest.raises(ValueError, match="method"):
    build("distill")
  with pytest.raises(ValueError, match="label_doc"):
    build("kwls", "paragraph")
  with pytest.raises(ValueError, match="outside"):
    soft.CandidateSoftLabels.build("kwls", CANDIDATES, QUESTIONS[:1], [[6]])
  with pytest.raises(ValueError, match="gold lists"):
    soft.CandidateSoftLabels.build("kwls", CANDIDATES, QUESTIONS, GOLD[:2])
  with pytest.raises(ValueError, match="k1"):
    build("kwls", k1=0.0)
  lab = build("kwls")
  with pytest.raises(ValueError, match="cand_ids"):
    lab.targets(ROWS, np.array([0, 6]))
  with pytest.raises(ValueError, match=r"\[B, C\]"):
    lab.targets(ROWS, PER_QUERY[:2])


def _kwls(*argv) -> int:
  parser = argparse.ArgumentParser(prog="kwls")
  cli.add_parser(parser.add_subparsers(dest="command", required=True))
  return cli.run(parser.parse_args(argv))


def test_reqa_ilr_cli(tmp_path, synthetic_rows, write_gz, capsys):
  squad = write_gz(tmp_path / "squad.jsonl.gz", synthetic_rows)
  bench = str(tmp_path / "b")
  _kwls("reqa", "build", squad, "--out", bench)
  candidates = reqa.read_candidates(bench)
  queries = reqa.read_queries(tmp_path / "b" / reqa.QUERIES, len(candidates))
  folds = reqa.article_folds([c["article"] for c in candidates])
  capsys.readouterr()
  _kwls("reqa", "bm25", bench)
  bm25_keys = json.loads(capsys.readouterr().out).keys()
  for fold, label_doc in itertools.product([None, 0, 1], soft.LABEL_DOCS):
    argv = [] if fold is None else ["--fold", str(fold)]
    assert _kwls("reqa", "ilr", bench, "--label-doc", label_doc, *argv) == 0
    out = json.loads(capsys.readouterr().out)
    train, test = ((queries, queries) if fold is None else
                   reqa.split_queries(queries, folds, fold))
    lab = soft.CandidateSoftLabels.build(
        "kwls", [c["text"] for c in candidates],
        [q["question"] for q in train], [q["gold"] for q in train],
        label_doc=label_doc)
    ranks = soft.zero_shot_ranks(lab, [q["question"] for q in test],
                                 [q["gold"] for q in test])
    want = {k: round(v, 2) for k, v in ranking.metrics(ranks).items()}
    assert out == {"queries": len(test), "candidates": len(candidates), **want}
    assert out.keys() == bm25_keys
  assert [len(reqa.split_queries(queries, folds, f)[1]) for f in (0, 1)] == [
      4, 1]
  with pytest.raises(ValueError, match="no queries to rank in fold 3"):
    _kwls("reqa", "ilr", bench, "--fold", "3")


def test_real_squad_matches_literal(shared_datasets):
  rows = itertools.islice(
      reqa.squad_rows(shared_datasets / "squad" / "dev.jsonl.gz"), 300)
  bench = reqa.build(rows)
  texts = [c["text"] for c in bench.candidates]
  questions = [q["question"] for q in bench.queries]
  gold = [q["gold"] for q in bench.queries]
  rng = np.random.default_rng(0)
  rows_, cands = rng.choice(len(questions), 6), rng.choice(len(texts), 40)
  cands[:6] = [gold[i][0] for i in rows_]
  for label_doc in soft.LABEL_DOCS:
    lab = soft.CandidateSoftLabels.build("kwls", texts, questions, gold,
                                         label_doc=label_doc)
    ref = Literal("kwls", texts, questions, gold, label_doc, 2.0, 0.75, 2.0)
    want = [[ref.ilr(ref.questions[i], m) for m in cands] for i in rows_]
    np.testing.assert_allclose(lab.ilr(rows_, cands), want, rtol=1e-6,
                               atol=1e-6)
