"""Retrieval runs of `kwls train` (task: retrieval): the loop's Task for a
dual encoder on a ReQA benchmark.

The run directory is a classification run's (config.json, vocab.json,
metrics.jsonl, checkpoints/, final.json, resume), with these differences:
dev records and final.json hold Recall@1/10/50/100 and MRR in percent (the
best dev step is the best MRR), each computed by exact search of the split's
queries against the whole candidate pool; predictions/ holds the final
unit embeddings of every query and candidate (targets.QUERY_EMB,
targets.CANDIDATE_EMB: LS-Distill's teacher output) and test_ranks.npy.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any, Sequence

from flax import nnx
import jax
import numpy as np

from kwls_jax.atomic import atomic_open, save_npy
from kwls_jax.corpora.errors import CorpusError
from kwls_jax.models import families
from kwls_jax.retrieval import batches, dual_encoder, ranking, reqa, search
from kwls_jax.retrieval import splits as splits_lib
from kwls_jax.retrieval import steps as rsteps
from kwls_jax.retrieval import targets
from kwls_jax.training import config as config_lib
from kwls_jax.training import data as data_lib
from kwls_jax.training import loop
from kwls_jax.training import state as state_lib
from kwls_jax.training import steps as steps_lib
from kwls_jax.training.config import ConfigError, TrainConfig

TEST_RANKS = os.path.join("predictions", "test_ranks.npy")


@dataclasses.dataclass
class Run:
  """Everything prepared for training or evaluating one retrieval run."""

  config: TrainConfig
  run_dir: str
  queries: list[dict]
  candidates: list[dict]
  sets: splits_lib.QuerySplits
  query_tokens: data_lib.Split  # every query of the benchmark
  candidate_tokens: data_lib.Split  # every candidate
  soft: targets.Targets | None
  state: state_lib.TrainState
  mesh: Any
  steps_per_epoch: int
  total_steps: int
  commits: list = dataclasses.field(default_factory=list)
  commit: str | None = None
  resumed_from: int | None = None

  @property
  def splits(self) -> dict[str, np.ndarray]:
    """Query rows of train, dev (when it has queries) and test."""
    out = {"train": self.sets.train, "dev": self.sets.dev,
           "test": self.sets.test}
    return {k: v for k, v in out.items() if len(v)}

  def gold(self, rows: np.ndarray) -> list[list[int]]:
    """Gold candidate ids of query rows."""
    return [self.queries[i]["gold"] for i in rows]


def _tokens(encoder, texts: Sequence[str]) -> data_lib.Split:
  enc = encoder(list(texts))
  return data_lib.Split(enc["input_ids"].astype(np.int32),
                        enc["attention_mask"].astype(np.int32),
                        np.zeros(len(texts), np.int32))


def _read_benchmark(folder: str) -> tuple[list[dict], list[dict]]:
  """(candidates, queries) of a `kwls reqa build` folder."""
  try:
    candidates = reqa.read_candidates(folder)
    queries = reqa.read_queries(os.path.join(folder, reqa.QUERIES),
                                len(candidates))
  except (CorpusError, OSError) as e:
    raise ConfigError(f"retrieval.benchmark: {e}") from None
  return candidates, queries


def _check_sizes(config: TrainConfig, sets: splits_lib.QuerySplits,
                 devices: int) -> None:
  r = config.retrieval
  if not len(sets.train) or not len(sets.test):
    raise ConfigError(f"retrieval.fold {r.fold}: {len(sets.train)} training "
                      f"and {len(sets.test)} test queries; both must be > 0")
  width = config.batch_size + r.negatives
  if len(sets.train_pool) < width:
    raise ConfigError(f"batch_size + retrieval.negatives = {width} exceeds "
                      f"the {len(sets.train_pool)} training candidates")
  for k, v in (("batch_size", config.batch_size),
               ("eval_batch_size", config.eval_batch_size),
               ("batch_size + retrieval.negatives", width)):
    if v % devices:
      raise ConfigError(f"{k}={v} is not divisible by the {devices} devices")


def prepare(config: TrainConfig, run_dir: str, need_soft: bool = True) -> Run:
  """Reads and encodes the benchmark, builds the soft targets and a fresh state."""
  config = config_lib.resolve(config)
  os.makedirs(os.path.join(run_dir, "predictions"), exist_ok=True)
  r, m = config.retrieval, config.model
  candidates, queries = _read_benchmark(r.benchmark)
  sets = splits_lib.query_splits(candidates, queries, r.fold, r.folds,
                                 r.dev_share, r.split_seed)
  mesh = steps_lib.make_mesh()
  _check_sizes(config, sets, mesh.devices.size)
  questions = [q["question"] for q in queries]
  texts = [c["text"] for c in candidates]
  family = families.get(m.name)
  weights = family.weights(m)
  # The word vocabulary (TextCNN/LSTM) is that of the training questions and
  # the whole pool, as an index of the pool would be: a word seen only in
  # test sentences still matches itself across the shared tower.
  encoder, vocab_size = family.encoder(
      m, weights, [questions[i] for i in sets.train] + texts, run_dir)
  soft = None
  if need_soft:
    soft = targets.build(
        config, sets.train, [questions[i] for i in sets.train],
        [queries[i]["gold"] for i in sets.train], sets.train_pool,
        [texts[i] for i in sets.train_pool], len(queries), len(candidates))
  spe = data_lib.steps_per_epoch(len(sets.train), config.batch_size)
  total = config.max_steps or config.epochs * spe
  rngs = nnx.Rngs(params=config.seed, dropout=config.seed + 1)
  model = dual_encoder.build(config, vocab_size, rngs, weights)
  state = state_lib.state_of(model, config, total)
  state.leaves = jax.device_put(state.leaves, steps_lib.replicated(mesh))
  return Run(config, run_dir, queries, candidates, sets,
             _tokens(encoder, questions), _tokens(encoder, texts), soft, state,
             mesh, spe, total)


def train_batches(run: Run, epoch: int, position: int):
  """The batches of one epoch from batch `position` on (for resume)."""
  c = run.config
  b = c.batch_size
  order = data_lib.epoch_order(len(run.sets.train), c.seed, epoch)
  gold = run.gold(run.sets.train)
  for s in range(position, run.steps_per_epoch):
    part = batches.train_batch(order[s * b:(s + 1) * b], gold,
                               run.sets.train_pool, b, c.retrieval.negatives,
                               batches.batch_rng(c.seed, epoch, s))
    yield device_batch(run, part)


def device_batch(run: Run, part: dict) -> dict[str, np.ndarray]:
  """The train step's batch of batches.train_batch's rows and candidates."""
  q = run.sets.train[part["query_rows"]]
  s = part["candidates"]
  return {"query_ids": run.query_tokens.input_ids[q],
          "query_mask": run.query_tokens.attention_mask[q],
          "candidate_ids": run.candidate_tokens.input_ids[s],
          "candidate_mask": run.candidate_tokens.attention_mask[s],
          "labels": part["labels"],
          "soft_labels": run.soft(part["query_rows"], s, part["labels"]),
          "mask": part["mask"]}


def make_train_step(run: Run):
  st = run.state
  return rsteps.make_train_step(st.graphdef, st.treedef, run.mesh)


def make_eval_step(run: Run) -> tuple:
  """(query embedding step, candidate embedding step)."""
  st = run.state
  return tuple(rsteps.make_embed_step(st.graphdef, st.treedef, run.mesh, side)
               for side in ("queries", "candidates"))


def embed(run: Run, step, tokens: data_lib.Split,
          rows: np.ndarray | None = None) -> np.ndarray:
  """Unit embeddings [N, D] of `tokens` (the rows given, else all)."""
  if rows is not None:
    tokens = data_lib.Split(tokens.input_ids[rows],
                            tokens.attention_mask[rows], tokens.labels[rows])
  return steps_lib.predict(step, run.state.leaves,
                           data_lib.eval_batches(tokens,
                                                 run.config.eval_batch_size),
                           run.mesh)


def rank_metrics(queries: np.ndarray, candidates: np.ndarray,
                 gold: Sequence[Sequence[int]]) -> tuple[dict, np.ndarray]:
  """(Recall@1/10/50/100 and MRR in percent with the counts, gold ranks) of
  query embeddings against the whole pool."""
  ranks = search.search(queries, candidates, k=1, gold=gold).ranks
  return ({**ranking.metrics(ranks), "queries": len(gold),
           "candidates": len(candidates)}, ranks)


def evaluate(run: Run, eval_step: tuple, split: str) -> tuple[dict, None]:
  """(metrics, None) of a split's queries against the whole pool."""
  rows = run.splits[split]
  cands = embed(run, eval_step[1], run.candidate_tokens)
  queries = embed(run, eval_step[0], run.query_tokens, rows)
  return rank_metrics(queries, cands, run.gold(rows))[0], None


def _atomic_json(path: str, values: dict) -> None:
  with atomic_open(path) as f:
    json.dump(values, f, indent=2)
    f.write("\n")


def finish(run: Run, eval_step: tuple, tracker, p: loop.Progress) -> dict:
  """Embeddings of every query and candidate, dev/test metrics, final.json."""
  c = run.config
  train_seconds = p.seconds()
  queries = embed(run, eval_step[0], run.query_tokens)
  cands = embed(run, eval_step[1], run.candidate_tokens)
  save_npy(os.path.join(run.run_dir, targets.QUERY_EMB), queries)
  save_npy(os.path.join(run.run_dir, targets.CANDIDATE_EMB), cands)
  test_rows = run.splits["test"]
  test, ranks = rank_metrics(queries[test_rows], cands, run.gold(test_rows))
  save_npy(os.path.join(run.run_dir, TEST_RANKS), ranks)
  dev = None
  if p.last_dev is not None and p.last_dev[0] == p.step:
    dev = p.last_dev[1]  # evaluated now
  elif "dev" in run.splits:
    rows = run.splits["dev"]
    dev = rank_metrics(queries[rows], cands, run.gold(rows))[0]
  tracker.log({"kind": "test", "step": p.step, **test})
  if set(run.commits) != {run.commit}:
    print(f"kwls train: warning: {run.run_dir} was trained under commit(s) "
          f"{', '.join(map(str, run.commits))}, evaluated under {run.commit}",
          file=sys.stderr)
  n_train, spe = len(run.sets.train), run.steps_per_epoch
  samples = (p.step // spe) * n_train + (p.step % spe) * c.batch_size
  final = {
      "name": c.name, "task": "retrieval", "test": test, "dev": dev,
      "best_dev": p.best, "steps": p.step, "epochs": p.step / spe,
      "train_size": n_train, "dev_size": len(run.sets.dev),
      "test_size": len(test_rows), "train_pool": len(run.sets.train_pool),
      "num_candidates": len(run.candidates), "train_seconds": train_seconds,
      "samples_per_s": samples / max(train_seconds, 1e-9),
      "resumed_from_step": run.resumed_from,
      "config_hash": config_lib.config_hash(c), "git_commit": run.commits[-1],
      "git_commits": run.commits, "eval_commit": run.commit,
      "devices": [str(d) for d in run.mesh.devices.flat],
      "backend": jax.default_backend(),
      "compute_dtype": jax.numpy.dtype(
          state_lib.compute_dtype(c.model.dtype) or "float32").name,
  }
  _atomic_json(os.path.join(run.run_dir, "final.json"), final)
  return final


TASK = loop.Task(prepare=prepare, make_eval_step=make_eval_step,
                 evaluate=evaluate, best_metric="MRR",
                 make_train_step=make_train_step, train_batches=train_batches,
                 finish=finish)
