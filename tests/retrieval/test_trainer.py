"""`kwls train` with task: retrieval on a tiny synthetic ReQA benchmark:
splits, loss, resume, metrics against the whole pool, soft targets."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import types

import numpy as np
import pytest

from kwls_jax.retrieval import batches, reqa, splits, targets, trainer
from kwls_jax.training import config as config_lib
from kwls_jax.training import loop, tracking
from kwls_jax.training.config import ConfigError

RESUME = {"epochs": 3, "checkpoint_every": 5, "eval_every": 6,
          "log_every": 1}
TIMING = ("train_seconds", "samples_per_s", "resumed_from_step")


def _train(values, run_dir, hooks=()):
  return loop.train(config_lib.load(None, [], **values), str(run_dir),
                    progress=False, hooks=hooks)


def _bench(folder):
  candidates = reqa.read_candidates(folder)
  return candidates, reqa.read_queries(folder / reqa.QUERIES, len(candidates))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, reqa_values):
  """(run dir, final) of an uninterrupted run of method none."""
  run_dir = tmp_path_factory.mktemp("reqa_reference")
  return run_dir, _train(reqa_values(**RESUME), run_dir)


def test_splits_hold_out_the_fold_and_dev_articles(tiny_benchmark):
  candidates, queries = _bench(tiny_benchmark)
  folds = reqa.article_folds([c["article"] for c in candidates])
  s = splits.query_splits(candidates, queries, fold=1)
  art = lambda rows: {queries[i]["article"] for i in rows}
  assert art(s.test) == {a for a, f in folds.items() if f == 1}
  assert not art(s.train) & art(s.dev) and not art(s.test) & (
      art(s.train) | art(s.dev))
  assert len(art(s.dev)) == round(0.25 * len(art(s.train) | art(s.dev)))
  assert len(s.train) + len(s.dev) + len(s.test) == len(queries)
  assert {candidates[c]["article"] for c in s.train_pool} == art(s.train)
  assert len(s.train_pool) == sum(c["article"] in art(s.train)
                                  for c in candidates)


def test_training_lowers_the_loss(tmp_path, reqa_values):
  _train(reqa_values(epochs=6, log_every=1, eval_every=1000), tmp_path)
  losses = [r["loss"] for r in tracking.read_metrics(str(tmp_path))
            if r["kind"] == "train"]
  # 4 training articles of 16 questions: 8 batches of 8 an epoch.
  assert len(losses) == 6 * 8
  assert np.mean(losses[-8:]) < 0.8 * np.mean(losses[:8])


class _Stop(Exception):
  pass


def _stop_at(step):
  def stop(p):
    if p.step == step:
      raise _Stop()
  return loop.Action(1, stop)


def _comparable(run_dir):
  final = json.loads((run_dir / "final.json").read_text())
  records = [{k: v for k, v in r.items() if k != "samples_per_s"}
             for r in tracking.read_metrics(str(run_dir))]
  return {k: v for k, v in final.items() if k not in TIMING}, records


def test_resume_ends_as_the_uninterrupted_run(tmp_path, reqa_values,
                                              reference):
  ref_dir, _ = reference
  with pytest.raises(_Stop):  # after the checkpoint of step 10
    _train(reqa_values(**RESUME), tmp_path, hooks=[_stop_at(10)])
  final = _train(reqa_values(**RESUME), tmp_path)
  assert final["resumed_from_step"] == 10
  assert _comparable(tmp_path) == _comparable(ref_dir)
  for name in (targets.QUERY_EMB, targets.CANDIDATE_EMB):
    np.testing.assert_array_equal(np.load(tmp_path / name),
                                  np.load(ref_dir / name))


def _literal_ranks(q, s, gold):
  """Best gold rank of each query among all candidates, ties averaged."""
  out = []
  for qi, g in zip(q, gold):
    scores = [float(np.dot(qi, sj)) for sj in s]
    best = max(scores[j] for j in g)
    above = sum(x > best for x in scores)
    tied = sum(x == best for x in scores)
    out.append(above + (tied + 1) / 2)
  return np.array(out)


def test_dev_and_test_rank_against_the_whole_pool(reference, reqa_values,
                                                  tiny_benchmark):
  run_dir, final = reference
  candidates, queries = _bench(tiny_benchmark)
  s = splits.query_splits(candidates, queries, fold=0)
  q = np.load(run_dir / targets.QUERY_EMB)
  c = np.load(run_dir / targets.CANDIDATE_EMB)
  assert q.shape == (len(queries), 16) and c.shape == (len(candidates), 16)
  for split, rows in (("test", s.test), ("dev", s.dev)):
    ranks = _literal_ranks(q[rows], c, [queries[i]["gold"] for i in rows])
    got = final[split]
    assert got["queries"] == len(rows) and got["candidates"] == len(candidates)
    for k in (1, 10, 50, 100):
      assert got[f"R@{k}"] == pytest.approx(100 * np.mean(ranks <= k))
    assert got["MRR"] == pytest.approx(100 * np.mean(1 / ranks))
    if split == "test":
      np.testing.assert_allclose(np.load(run_dir / trainer.TEST_RANKS), ranks)
  dev = [r for r in tracking.read_metrics(str(run_dir)) if r["kind"] == "dev"]
  assert dev[-1]["step"] == final["steps"] and dev[-1]["MRR"] == final["dev"]["MRR"]
  assert final["best_dev"]["MRR"] == max(r["MRR"] for r in dev)


def test_kwls_evaluate_scores_the_newest_checkpoint(reference):
  run_dir, final = reference
  got = loop.evaluate(str(run_dir), "test")
  assert got["step"] == final["steps"]
  for k in ("R@1", "R@10", "MRR"):
    assert got[k] == pytest.approx(final["test"][k])


def _first_batch(run):
  """batches.train_batch's first batch of epoch 0 and its device batch."""
  gold = [run.queries[i]["gold"] for i in run.sets.train]
  part = batches.train_batch(np.arange(8), gold, run.sets.train_pool, 8, 4,
                             batches.batch_rng(0, 0, 0))
  return part, trainer.device_batch(run, part)


def test_distill_targets_are_the_teachers_softmax(tmp_path, reqa_values,
                                                  reference):
  teacher_dir, _ = reference
  values = reqa_values(method="distill", teacher_run=str(teacher_dir))
  run = trainer.prepare(config_lib.load(None, [], **values), str(tmp_path))
  part, batch = _first_batch(run)
  q = np.load(teacher_dir / targets.QUERY_EMB)
  c = np.load(teacher_dir / targets.CANDIDATE_EMB)
  for i, row in enumerate(part["query_rows"]):
    qi = run.sets.train[row]  # the benchmark's query
    z = np.array([np.dot(q[qi], c[j]) / 0.05 for j in part["candidates"]])
    want = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    np.testing.assert_allclose(batch["soft_labels"][i], want, rtol=1e-4,
                               atol=1e-6)
  other = reqa_values(method="distill", teacher_run=str(teacher_dir),
                      **{"retrieval.fold": 1})
  with pytest.raises(ConfigError, match="another split"):
    trainer.prepare(config_lib.load(None, [], **other), str(tmp_path / "o"))


# A test double of kwls_jax/retrieval/soft.py's CandidateSoftLabels (the
# real one is used where it exists): softmax of the shared words.
class _SharedWords:

  @classmethod
  def build(cls, method, candidates, train_questions, train_gold, **kw):
    del train_gold, kw
    self = cls()
    self.method, self.candidates, self.questions = (method, candidates,
                                                    train_questions)
    return self

  def targets(self, query_rows, cand_ids):
    words = lambda t: set(re.findall(r"\w+", t.lower()))
    z = np.array([[len(words(self.questions[r]) & words(self.candidates[c]))
                   for c in cand_ids] for r in query_rows], np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@pytest.fixture
def soft_labels(monkeypatch):
  """The CandidateSoftLabels class trainer runs use."""
  name = "kwls_jax.retrieval.soft"
  if importlib.util.find_spec(name) is None:
    monkeypatch.setitem(sys.modules, name,
                        types.SimpleNamespace(CandidateSoftLabels=_SharedWords))
  return sys.modules.get(name) or importlib.import_module(name)


@pytest.mark.parametrize("method", ["kwls", "tfidf", "classic"])
def test_soft_targets_are_the_batch_candidates_soft_labels(
    tmp_path, reqa_values, tiny_benchmark, soft_labels, method):
  """Built on the training articles only; a batch's rows are its queries'
  soft labels over its own candidates, in its candidates' order."""
  candidates, queries = _bench(tiny_benchmark)
  values = reqa_values(method=method, max_steps=3)
  run = trainer.prepare(config_lib.load(None, [], **values), str(tmp_path))
  s = run.sets
  pool = [int(c) for c in s.train_pool]
  reference = soft_labels.CandidateSoftLabels.build(
      method, [candidates[c]["text"] for c in pool],
      [queries[i]["question"] for i in s.train],
      [[pool.index(g) for g in queries[i]["gold"]] for i in s.train],
      label_doc="sentence", k1=2.0, b=0.75, k2=2.0, epsilon=0.1,
      tokenizer="word")
  part, batch = _first_batch(run)
  local = [pool.index(int(c)) for c in part["candidates"]]
  want = reference.targets(part["query_rows"], np.array(local))
  np.testing.assert_allclose(batch["soft_labels"], want, rtol=1e-5,
                             atol=1e-7)
  np.testing.assert_allclose(batch["soft_labels"].sum(axis=1), 1.0,
                             rtol=1e-5)
  if method == "kwls":  # it trains, alpha on
    final = _train(values, tmp_path / "run")
    records = tracking.read_metrics(str(tmp_path / "run"))
    assert final["steps"] == 3 and {r["alpha"] for r in records
                                    if r["kind"] == "train"} == {1.0}


def test_retrieval_config_checks(reqa_values):
  load = lambda **over: config_lib.load(None, [], **reqa_values(**over))
  assert load().eval_batch_size == 16
  for over, message in (
      ({"data.train": "x.jsonl"}, "data.train: task retrieval"),
      ({"two_head": True}, "two_head: not for task retrieval"),
      ({"retrieval.fold": 4}, "retrieval.fold must lie in [0, 4)"),
      ({"retrieval.label_doc": "title"}, "retrieval.label_doc"),
      ({"retrieval.benchmark": ""}, "retrieval.benchmark: required"),
      ({"task": "ranking"}, "task must be one of")):
    with pytest.raises(ConfigError, match=re.escape(message)):
      load(**over)


def test_a_classification_config_stores_no_task_fields(tmp_path):
  """config.json and the hash of a classification run are those of a config
  without the retrieval fields (runs made before them resume and compare)."""
  c = config_lib.load(None, [], data={"train": "a.jsonl", "test": "b.jsonl"})
  config_lib.save(c, tmp_path / "config.json")
  stored = json.loads((tmp_path / "config.json").read_text())
  assert "task" not in stored and "retrieval" not in stored
  assert config_lib.from_dict(stored) == c
  r = config_lib.load(None, [], task="retrieval",
                      retrieval={"benchmark": "b"})
  assert config_lib.stored_dict(r)["task"] == "retrieval"
  assert config_lib.config_hash(r) != config_lib.config_hash(
      config_lib.load(None, [], task="retrieval",
                      retrieval={"benchmark": "b", "fold": 1}))
  os.remove(tmp_path / "config.json")
