"""The training loop: determinism, SIGKILL + resume, NaN stop, distill, evaluate."""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from kwls_jax import cli
from kwls_jax import provenance
from kwls_jax.reporting import calibration
from kwls_jax.training import checkpoint
from kwls_jax.training import config as config_lib
from kwls_jax.training import data as data_lib
from kwls_jax.training import loop
from kwls_jax.training import soft
from kwls_jax.training import state as state_lib
from kwls_jax.training import tracking
from kwls_jax.training.config import ConfigError

# 180 training rows / batch 16 = 12 steps an epoch, 36 in all.
RESUME = {"epochs": 3, "checkpoint_every": 5, "log_every": 3,
          "eval_every": 10}
# On a child's PYTHONPATH: the KWLS_TRAIN_TEST_* hooks (tests/hooks).
HOOKS = pathlib.Path(__file__).resolve().parents[1] / "hooks"


def hooks_env(**variables) -> dict:
  """os.environ with tests/hooks first on PYTHONPATH and `variables` set."""
  path = os.pathsep.join(filter(None, [str(HOOKS),
                                       os.environ.get("PYTHONPATH")]))
  return {**os.environ, "PYTHONPATH": path, **variables}


def _train(values, run_dir):
  return loop.train(config_lib.load(None, [], **values), str(run_dir),
                    progress=False)


def _comparable(run_dir):
  return [{k: v for k, v in r.items() if k != "samples_per_s"}
          for r in tracking.read_metrics(str(run_dir))]


def _probs(run_dir, split="test"):
  return np.load(os.path.join(run_dir, "predictions", f"{split}_probs.npy"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, make_config):
  """(run dir, final) of an uninterrupted run (method none: a distill teacher)."""
  run_dir = tmp_path_factory.mktemp("reference")
  return run_dir, _train(make_config(**RESUME), run_dir)


def test_run_writes_its_outputs(reference):
  run_dir, final = reference
  assert final["steps"] == 36 and final["epochs"] == 3.0
  assert final["test"]["count"] == 90 and final["dev"]["count"] == 60
  assert final["best_dev"]["step"] in (10, 20, 30, 36)
  for split, n in (("train", 180), ("dev", 60), ("test", 90)):
    p = _probs(run_dir, split)
    assert p.shape == (n, 3) and np.allclose(p.sum(1), 1, atol=1e-5)
  records = tracking.read_metrics(str(run_dir))
  # Losses are flushed every log_every steps and before evals, checkpoints
  # and epoch ends; each record averages the steps since the previous one.
  want = [s for s in range(1, 37) if s % 3 == 0 or s % 5 == 0 or s % 12 == 0]
  assert [r["step"] for r in records if r["kind"] == "train"] == want
  assert [r["step"] for r in records if r["kind"] == "dev"] == [10, 20, 30, 36]
  assert records[-1]["kind"] == "test"
  saved = config_lib.load(run_dir / "config.json")
  assert config_lib.config_hash(saved) == final["config_hash"]
  steps = checkpoint.manager(str(run_dir)).all_steps()
  assert sorted(steps) == [35, 36]  # the last two kept


def test_reliability_of_a_run_gives_its_ece(reference, tmp_path, capsys):
  """The run saves the labels its test predictions are scored against; the
  reliability diagram's ECE is final.json's, with those labels or, for a run
  without them, with the labels of the split its config names."""
  run_dir, final = reference
  config = config_lib.load(run_dir / "config.json")
  np.testing.assert_array_equal(
      np.load(run_dir / "predictions" / "test_labels.npy"),
      data_lib.load_split(config.data.test, config.data.data_dir).labels)
  r = calibration.reliability(*calibration.run_predictions(str(run_dir)))
  assert r["rows"].sum() == 90
  assert math.isclose(r["ece"], final["test"]["ece"], abs_tol=1e-5)
  older = tmp_path / "older"
  (older / "predictions").mkdir(parents=True)
  for name in ("config.json", "predictions/test_probs.npy"):
    (older / name).write_bytes((run_dir / name).read_bytes())
  assert math.isclose(calibration.reliability(*calibration.run_predictions(
      str(older)))["ece"], r["ece"])
  out = tmp_path / "calibration.png"
  assert cli.main(["calibration", f"ref={run_dir}", str(older), "--out",
                   str(out)]) == 0
  printed = capsys.readouterr().out
  assert f"ref: ECE {r['ece']:.4f} (n=90)" in printed
  assert f"older: ECE {r['ece']:.4f} (n=90)" in printed
  assert out.stat().st_size > 10_000


def test_same_seed_same_numbers_other_seed_differs(tmp_path, reference,
                                                   make_config):
  run_dir, final = reference
  again = _train(make_config(**RESUME), tmp_path / "again")
  assert again["test"] == final["test"] and again["best_dev"] == final["best_dev"]
  assert np.array_equal(_probs(tmp_path / "again"), _probs(run_dir))
  assert _comparable(tmp_path / "again") == _comparable(run_dir)
  _train(make_config(**{**RESUME, "seed": 1, "epochs": 1}),
         tmp_path / "seed1")
  # One epoch of seed 1 vs three of seed 0 would differ anyway; compare the
  # first logged loss, which depends on the seed's init, dropout and order.
  first = lambda d: tracking.read_metrics(str(d))[0]["loss"]
  assert first(tmp_path / "seed1") != first(run_dir)


def test_sigkill_mid_run_then_resume_matches_uninterrupted(
    tmp_path, reference, make_config):
  ref_dir, ref = reference
  path = tmp_path / "config.json"
  path.write_text(json.dumps(make_config(**RESUME)))
  run_dir = tmp_path / "run"
  cmd = [sys.executable, "-m", "kwls_jax.cli", "train", str(path),
         "--run-dir", str(run_dir), "--no-progress"]
  # The killed stretch runs as another commit would (git_commit faked).
  fake = ("import sys; from kwls_jax import cli, provenance; "
          "provenance.git_commit = lambda *a: 'before0'; "
          "sys.exit(cli.main(sys.argv[1:]))")
  killed = subprocess.run([sys.executable, "-c", fake, *cmd[3:]],
                          env=hooks_env(KWLS_TRAIN_TEST_KILL_AT_STEP="18"),
                          capture_output=True, text=True, timeout=120)
  assert killed.returncode == -9, killed.stderr[-2000:]
  assert checkpoint.manager(str(run_dir)).latest_step() == 15
  assert not (run_dir / "final.json").exists()
  assert max(r["step"] for r in tracking.read_metrics(str(run_dir))) == 18
  resumed = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  final = json.loads((run_dir / "final.json").read_text())
  assert final["resumed_from_step"] == 15
  # Both stretches' code is on record, the one that finished last.
  assert final["git_commits"] == ["before0", ref["git_commit"]]
  assert final["git_commit"] == ref["git_commit"]
  assert ref["git_commits"] == [ref["git_commit"]]
  for k in ("test", "dev", "best_dev", "steps"):
    assert final[k] == ref[k], k
  assert np.array_equal(_probs(run_dir), _probs(ref_dir))
  assert np.array_equal(_probs(run_dir, "train"), _probs(ref_dir, "train"))
  assert _comparable(run_dir) == _comparable(ref_dir)


def test_nan_loss_stops_naming_the_step_and_keeps_good_checkpoint(
    tmp_path, write_config, capsys, monkeypatch):
  batches = data_lib.train_batches

  def poisoned(*args, **kwargs):
    for i, batch in enumerate(batches(*args, **kwargs)):
      if i == 6:  # the 7th update of the run's one epoch
        batch["soft_labels"] = np.full_like(batch["soft_labels"], np.nan)
      yield batch
  monkeypatch.setattr(data_lib, "train_batches", poisoned)
  path = write_config(checkpoint_every=4, log_every=4, epochs=1)
  run_dir = tmp_path / "nan"
  assert cli.main(["train", str(path), "--run-dir", str(run_dir),
                   "--no-progress"]) == 1
  err = capsys.readouterr().err
  assert "non-finite loss nan at step 7 (epoch 1)" in err
  assert "last good checkpoint: step 4" in err
  mngr = checkpoint.manager(str(run_dir))
  assert mngr.all_steps() == [4]
  arrays, meta = checkpoint.restore(mngr, 4)
  assert meta["step"] == 4
  assert all(np.all(np.isfinite(a)) for a in arrays.values()
             if np.issubdtype(a.dtype, np.floating))
  assert not (run_dir / "final.json").exists()


def test_distill_reads_the_teacher_train_predictions(tmp_path, reference,
                                                     make_config):
  ref_dir, _ = reference
  values = make_config(method="distill", teacher_run=str(ref_dir), epochs=1,
                       alpha=0.5)
  config = config_lib.load(None, [], **values)
  from kwls_jax.training import data  # pylint: disable=g-import-not-at-top
  train = data.load_corpora(config)["train"]
  d = soft.training_soft_labels(config, train.texts, train.labels, 3)
  assert np.array_equal(d, _probs(ref_dir, "train"))
  final = _train(values, tmp_path / "student")
  assert final["steps"] == 12 and np.isfinite(final["test"]["nll"])


def test_soft_labels_file_is_checked(tmp_path, make_config):
  np.save(tmp_path / "bad.npy", np.full((10, 3), 1 / 3, np.float32))
  values = make_config(method="kwls", soft_labels=str(tmp_path / "bad.npy"))
  with pytest.raises(ConfigError, match=r"shape \[10, 3\].*needs \[180, 3\]"):
    _train(values, tmp_path / "run")


def test_kwls_soft_labels_are_computed_on_the_train_split(tmp_path,
                                                         make_config):
  """The run's soft labels are KWLS's of the train part of the fold, not of
  the whole file, the dev part or the test split."""
  import kwls_jax  # pylint: disable=g-import-not-at-top
  config = config_lib.load(None, [], **make_config(method="kwls"))
  run = loop.prepare(config, str(tmp_path / "run"))
  train = data_lib.load_split(config.data.train)
  want = kwls_jax.soft_labels(train.texts, train.labels, 3, method="kwls")
  assert run.soft_labels.shape == (180, 3)
  np.testing.assert_array_equal(run.soft_labels, want)


def test_evaluate_recomputes_the_final_metrics(reference, capsys):
  run_dir, final = reference
  assert cli.main(["evaluate", str(run_dir)]) == 0
  got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert got["step"] == 36
  for k in ("accuracy", "macro_f1", "nll", "ece", "count"):
    assert np.isclose(got[k], final["test"][k], rtol=1e-6), k
  assert cli.main(["evaluate", str(run_dir), "--split", "dev"]) == 0
  got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  assert np.isclose(got["accuracy"], final["dev"]["accuracy"])


def test_run_dir_of_another_config_is_refused(reference, make_config):
  run_dir, _ = reference
  with pytest.raises(ConfigError, match="holds a run of another config"):
    _train(make_config(**RESUME, seed=5), run_dir)


@pytest.mark.parametrize("model", [
    {"name": "textcnn", "max_length": 16, "embed_dim": 16,
     "options": {"num_filters": 8}},
    {"name": "lstm", "max_length": 16, "embed_dim": 16,
     "options": {"hidden_size": 16}},
], ids=lambda m: m["name"])
def test_learns_the_synthetic_task(tmp_path, make_config, model):
  final = _train(make_config(epochs=6, model=model,
                             **{"optimizer.learning_rate": 1e-2}),
                 tmp_path / "learn")
  assert final["test"]["accuracy"] > 0.6  # chance is 1/3


def test_decay_mask_spares_biases_and_norms():
  import jax  # pylint: disable=g-import-not-at-top
  from flax import nnx  # pylint: disable=g-import-not-at-top
  params = {"dense": {"kernel": 1, "bias": 2}, "norm": {"scale": 3}}
  mask = state_lib._decay_mask(params)  # pylint: disable=protected-access
  assert jax.tree.leaves(mask) == [False, True, False]
  model = nnx.Sequential(nnx.Linear(2, 3, rngs=nnx.Rngs(0)),
                         nnx.LayerNorm(3, rngs=nnx.Rngs(0)))
  mask = state_lib._decay_mask(nnx.state(model, nnx.Param))  # pylint: disable=protected-access
  decayed = [jax.tree_util.keystr(p)
             for p, v in jax.tree_util.tree_flatten_with_path(mask)[0] if v]
  assert len(decayed) == 1 and decayed[0].startswith("['layers'][0]['kernel']")


def test_bert_minilm_trains_a_few_steps(tmp_path, make_config):
  from kwls_jax.models import pretrained  # pylint: disable=g-import-not-at-top
  try:
    pretrained.minilm_dir()
  except FileNotFoundError:
    pytest.skip(pretrained.MINILM_INSTALL)
  values = make_config(method="classic", batch_size=8, max_steps=3,
                       save_train_probs=False,
                       model={"name": "bert", "pretrained": "minilm",
                              "max_length": 32})
  final = _train(values, tmp_path / "bert")
  assert final["steps"] == 3 and np.isfinite(final["test"]["nll"])
  saved = config_lib.load(tmp_path / "bert" / "config.json")
  assert saved.optimizer.name == "adamw" and saved.optimizer.warmup_ratio == 0.1


def test_bf16_bert_from_scratch_trains_with_float32_parameters(
    tmp_path, make_config, synth):
  """model.dtype bfloat16: bf16 compute (the losses differ from float32's by
  rounding only), float32 parameters and optimizer state, finite metrics."""
  words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *synth.FILLER,
           *(w for group in synth.KEYWORDS for w in group)]
  vocab = tmp_path / "vocab.txt"
  vocab.write_text("\n".join(words) + "\n", encoding="utf-8")
  tiny_bert = {"name": "bert", "vocab": str(vocab), "max_length": 24,
               "options": {"hidden_size": 32, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "intermediate_size": 64,
                           "max_position_embeddings": 32}}
  runs = {}
  for dtype in ("bfloat16", "float32"):
    values = make_config(max_steps=8, log_every=1, save_train_probs=False,
                         model={**tiny_bert, "dtype": dtype},
                         **{"optimizer.learning_rate": 1e-3})
    run_dir = tmp_path / dtype
    final = _train(values, run_dir)
    assert final["steps"] == 8 and np.isfinite(final["test"]["nll"])
    assert final["compute_dtype"] == dtype
    losses = [r["loss"] for r in tracking.read_metrics(str(run_dir))
              if r["kind"] == "train"]
    run = loop.prepare(config_lib.load(run_dir / "config.json"), str(run_dir),
                       need_soft=False)
    meta = loop.restore_latest(
        run, checkpoint.manager(str(run_dir)))
    assert meta is not None
    floats = [x for x in run.state.leaves
              if jnp.issubdtype(x.dtype, jnp.floating)]
    assert floats and all(x.dtype == np.float32 for x in floats)
    runs[dtype] = np.asarray(losses)
  bf16, fp32 = runs["bfloat16"], runs["float32"]
  assert len(bf16) == len(fp32) == 8 and np.all(np.isfinite(bf16))
  assert not np.array_equal(bf16, fp32)  # the dtype took effect ...
  np.testing.assert_allclose(bf16[0], fp32[0], rtol=0.02)  # ... as rounding


def _multi_label_corpus(synth, path, n, seed, empty_row=None):
  """The synthetic task with a second label (keywords of both) on ~1/3 rows."""
  from kwls_jax.corpora.corpus import Corpus  # pylint: disable=g-import-not-at-top
  from kwls_jax.corpora.jsonl import write_jsonl  # pylint: disable=g-import-not-at-top
  base = synth.synthetic(n, seed)
  rng = np.random.default_rng(seed + 10)
  hot = np.eye(3, dtype=bool)[base.labels]
  texts = list(base.texts)
  for i in range(0, n, 3):
    extra = (base.labels[i] + 1 + rng.integers(0, 2)) % 3
    hot[i, extra] = True
    texts[i] += " " + rng.choice(synth.KEYWORDS[extra])
  if empty_row is not None:
    hot[empty_row] = False
  path.parent.mkdir(parents=True, exist_ok=True)
  write_jsonl(path, Corpus(texts, hot, base.label_names))


@pytest.mark.parametrize("method", ["kwls", "classic"])
def test_multi_label_corpus_trains(tmp_path, method, synth, capsys):
  _multi_label_corpus(synth, tmp_path / "data" / "train.jsonl", 240, 0)
  _multi_label_corpus(synth, tmp_path / "data" / "test.jsonl", 90, 1)
  values = synth.tiny_config(tmp_path / "data", method=method, epochs=6,
                       **{"optimizer.learning_rate": 1e-2})
  run = loop.prepare(config_lib.load(None, [], **values),
                     str(tmp_path / "prep"))
  train_split = run.splits["train"]
  assert train_split.labels.shape == (len(train_split), 3)
  assert np.any(train_split.labels.sum(axis=1) == 2)
  # The soft labels are those of the rows' whole label sets.
  two = train_split.labels.sum(axis=1) == 2
  if method == "classic":  # (1 - eps) l_i / |l_i| + eps / P
    want = 0.9 * train_split.labels / train_split.labels.sum(1, keepdims=True)
    np.testing.assert_allclose(run.soft_labels, want + 0.1 / 3, atol=1e-6)
  else:
    from kwls_jax import smoothing  # pylint: disable=g-import-not-at-top
    texts = data_lib.load_corpora(run.config)["train"].texts
    np.testing.assert_allclose(
        run.soft_labels,
        smoothing.soft_labels(texts, train_split.labels > 0, 3), atol=1e-6)
    single = smoothing.soft_labels(texts, train_split.labels.argmax(1), 3)
    assert not np.allclose(run.soft_labels[two], single[two], atol=1e-3)
  final = _train(values, tmp_path / method)
  assert final["test"]["accuracy"] > 0.6  # chance for precision@1 is ~0.44
  assert np.isfinite(final["test"]["nll"])
  assert cli.main(["evaluate", str(tmp_path / method)]) == 0
  got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
  for k in ("accuracy", "macro_f1", "nll", "ece", "count"):
    assert np.isclose(got[k], final["test"][k], rtol=1e-6), k


def test_multi_label_row_without_label_is_refused(tmp_path, make_config,
                                                  synth):
  train = tmp_path / "ml.jsonl"
  _multi_label_corpus(synth, train, 60, 0, empty_row=7)
  values = make_config(**{"data.train": str(train), "data.dev": "",
                          "data.test": str(train)})
  with pytest.raises(ConfigError, match="no label .*row 7"):
    loop.prepare(config_lib.load(None, [], **values), str(tmp_path / "run"))


def test_due_every_n_steps_or_each_epoch_end_and_the_last():
  ends = lambda s: s % 6 == 0
  assert [s for s in range(1, 14) if loop.due(s, 5, ends(s), 13)] == [5, 10, 13]
  assert [s for s in range(1, 14) if loop.due(s, 0, ends(s), 13)] == [6, 12, 13]


def test_hooks_run_after_each_update_and_its_checkpoint(tmp_path,
                                                        make_config):
  seen = []
  hook = loop.Action(1, lambda p: seen.append((p.step, p.last_checkpoint)))
  values = make_config(epochs=1, checkpoint_every=5)
  _ = loop.train(config_lib.load(None, [], **values), str(tmp_path / "run"),
                 progress=False, hooks=[hook])
  saved = (5, 10, 12)  # every 5 steps and the last of 12
  assert seen == [(s, max([k for k in saved if k <= s], default=None))
                  for s in range(1, 13)]


def test_rerun_of_a_finished_run_keeps_the_commit_that_trained(
    tmp_path, make_config, monkeypatch, capsys):
  values = make_config(max_steps=3, save_train_probs=False)
  monkeypatch.setattr(provenance, "git_commit", lambda *a: "old")
  first = _train(values, tmp_path / "run")
  assert first["git_commits"] == ["old"] and first["eval_commit"] == "old"
  assert "warning" not in capsys.readouterr().err
  monkeypatch.setattr(provenance, "git_commit", lambda *a: "new")
  again = _train(values, tmp_path / "run")
  assert again["git_commit"] == "old" and again["git_commits"] == ["old"]
  assert again["eval_commit"] == "new" and again["test"] == first["test"]
  assert ("trained under commit(s) old, evaluated under new"
          in capsys.readouterr().err)
