"""The workflow's plan (kwls_jax/workflow.py) without Snakemake: run names,
paths and flags, and the checks made before any job."""

from __future__ import annotations

import json
import os
import pathlib
import shlex

import pytest
import yaml
from snakemake.cli import parse_config
from snakemake.utils import validate

from kwls_jax import workflow as plan
from kwls_jax.corpora import registry, subsets
from kwls_jax.training import config as train_config

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
TRAIN_BASE = str(REPO / "experiments" / "train_base.yaml")
TRAIN_REQA_BASE = str(REPO / "experiments" / "train_reqa_base.yaml")


def _config(**change) -> dict:
  """An experiment config with the schema's defaults filled in."""
  config = {"experiment": "x",
            "datasets": [{"name": "ag_news", "pool": "test[:75%]",
                          "test": "test[75%:]"}],
            "settings": ["balanced"], "folds": [0], "seeds": [0],
            "models": ["textcnn"], "methods": ["none", "kwls", "distill"],
            **change}
  validate(config, SCHEMA)
  return config


def _w(**change) -> dict:
  return {"dataset": "ag_news", "setting": "under0", "fold": "1", "seed": "2",
          "model": "lstm", "method": "kwls", **change}


def _sets(flags: str) -> dict:
  """--set KEY=VALUE words of a shell string, as `kwls train` receives them."""
  words = shlex.split(flags)
  assert words[::2] == ["--set"] * (len(words) // 2)
  return dict(w.split("=", 1) for w in words[1::2])


def test_sweep_tags_are_the_grid_and_read_back():
  config = _config(sweep={"k1": [1.2, 2.0], "alpha": [0.5, 1.0, 2.0]})
  tags = plan.sweep_tags(config)
  assert len(tags) == len(set(tags)) == 6
  read = [plan.split_method(f"kwls@{t}")[1] for t in tags]
  assert {(r["smoothing.k1"], r["alpha"]) for r in read} == {
      (k1, a) for k1 in ("1.2", "2") for a in ("0.5", "1", "2")}
  # Values not swept are the config's own.
  assert {r["smoothing.b"] for r in read} == {f"{config['smoothing']['b']:g}"}
  assert plan.sweep_tags(_config()) == []


def test_method_names_sweep_only_the_soft_label_methods():
  config = _config(sweep={"k1": [1.0, 2.0]})
  names = plan.method_names(config)
  assert [n for n in names if "@" not in n] == ["none", "distill"]
  assert sorted({plan.split_method(n)[0] for n in names if "@" in n}) == ["kwls"]
  assert len(names) == 2 + 2
  assert plan.method_names(_config()) == ["none", "kwls", "distill"]


def test_soft_labels_are_shared_by_runs_that_differ_in_alpha():
  tags = plan.sweep_tags(_config(sweep={"alpha": [0.5, 1.0]}))
  assert len({plan.soft_name(f"tfidf@{t}") for t in tags}) == 1
  assert "a-" not in plan.soft_name(f"tfidf@{tags[0]}")
  assert plan.soft_name("kwls") == "kwls"


def test_run_dir_and_all_runs():
  config = _config(settings=["balanced", "under0"], seeds=[0, 1])
  config["datasets"].append({"name": "imdb", "pool": "train", "test": "test",
                             "settings": ["under1"]})
  runs = plan.all_runs(config)
  assert len(runs) == len(set(runs)) == (2 + 1) * 2 * 3
  assert plan.run_dir(config, _w(), method="none") == (
      "work/x/runs/ag_news/under0/fold1/seed2/lstm/none")
  assert {r.split("/")[4] for r in runs if "/imdb/" in r} == {"under1"}
  assert all(r.startswith("work/x/runs/") and r.endswith("/final.json")
             for r in runs)


def test_run_labels_name_what_sets_runs_apart():
  runs = plan.all_runs(_config(models=["textcnn", "lstm"]))
  labels = plan.run_labels(runs)
  assert len(set(labels)) == len(runs)
  assert all(len(label.split("/")) == 2 for label in labels)  # model/method
  assert plan.run_labels(runs[:1]) == ["none"]


def test_rerun_command_reads_back(tmp_path):
  command = plan.rerun_command(
      str(REPO), [str(REPO / "experiments" / "table2.yaml"),
                  str(tmp_path / "mine.yaml")],
      {"note": "it's", "folds": [0, 1]}, env_data_dir="/data")
  assert shlex.split(command) == [
      "snakemake", "--cores", "all", "--configfile", "experiments/table2.yaml",
      "--configfile", str(tmp_path / "mine.yaml"), "--config", "note=it's",
      "folds=[0, 1]", "data_dir=/data"]
  assert "--configfile experiments/quick.yaml" in plan.rerun_command(
      str(REPO), [], {})


def test_command_line_values_are_typed_as_in_a_config_file():
  given = parse_config([
      "seeds=[0, 1]", "sweep={alpha: [0.5, 3, 1e-1], two_head: [true, False]}",
      "datasets=[{name: imdb, pool: 'test[:75%]', test: test, seeds: [2]}]",
      "note=3 of 1e-3"])
  assert given["seeds"] == ["0", "1"]  # what Snakemake hands over
  typed = plan.typed_config(given)
  assert typed["seeds"] == [0, 1]
  assert typed["sweep"] == {"alpha": [0.5, 3, 0.1], "two_head": [True, False]}
  assert typed["datasets"] == [{"name": "imdb", "pool": "test[:75%]",
                                "test": "test", "seeds": [2]}]
  assert typed["note"] == "3 of 1e-3"
  validate(_config(**typed), SCHEMA)
  with pytest.raises(Exception, match="is not of type"):
    validate(_config(seeds=given["seeds"]), SCHEMA)
  assert "seeds=[0, 1]" in shlex.split(
      plan.rerun_command(str(REPO), [], {"seeds": given["seeds"]}))


def test_report_flags_read_back():
  config = _config(figure2=True, note="it's small", table="table2",
                   wandb_project="", train={"soft_label_start_step": 5})
  runs = plan.all_runs(config)
  words = shlex.split(plan.report_flags(config, runs, "snakemake -n"))
  assert words[words.index("--note") + 1] == "it's small"
  assert words[words.index("--command") + 1] == "snakemake -n"
  assert words[words.index("--switch-step") + 1] == "5"
  assert words[words.index("--table") + 1] == "table2"
  figure2 = words[words.index("--figure2") + 1:words.index("--note")]
  assert [item.split("=", 1)[1] for item in figure2] == [
      os.path.dirname(r) for r in runs]
  assert "--figure1" not in words and "--wandb-project" not in words


@pytest.mark.parametrize("value", [
    "it's", True, None, ["a", "it's"], {"k": 1}, 2e-5, 3])
def test_set_flag_reaches_kwls_train_as_the_yaml_value(value):
  (key, text), = _sets(plan.set_flag("x", value)).items()
  assert key == "x"
  assert train_config.apply_overrides({}, [f"x={text}"])["x"] == value


def test_train_inputs_and_flags():
  config = _config(train={"epochs": 1, "smoothing.k1": 1.0},
                   sweep={"k1": [1.5]}, wandb_project="p")
  w = _w(method=plan.method_names(config)[0])
  inputs = plan.train_inputs(config, w)
  assert inputs["soft"].endswith(f"/{plan.soft_name(w['method'])}.npy")
  assert "teacher" not in inputs
  sets = _sets(plan.train_flags(config, w, inputs))
  assert sets["smoothing.k1"] == "1.5"  # the sweep's value wins over train:
  assert sets["epochs"] == "1" and sets["method"] == "kwls"
  assert sets["soft_labels"] == inputs["soft"]
  assert sets["data.train"] == inputs["train"] and "teacher_run" not in sets
  assert sets["wandb.project"] == "p"
  distill = plan.train_inputs(config, _w(method="distill"))
  assert "soft" not in distill
  assert distill["teacher"] == plan.run_dir(
      config, _w(method="none")) + "/final.json"
  sets = _sets(plan.train_flags(config, _w(method="distill"), distill))
  assert sets["teacher_run"] == plan.run_dir(config, _w(method="none"))
  assert json.loads(plan.run_meta(config, w))["fold"] == 1


def test_soft_label_flags_take_a_sweeps_values():
  config = _config(sweep={"b": [0.5]})
  method = next(m for m in plan.method_names(config) if "@" in m)
  words = shlex.split(plan.soft_label_flags(config, method))
  flags = dict(zip(words[::2], words[1::2]))
  assert flags["--b"] == "0.5"
  assert float(flags["--k1"]) == config["smoothing"]["k1"]
  assert flags["--tokenizer"] == config["smoothing"]["tokenizer"]


@pytest.mark.parametrize("name", sorted(
    p.name for p in (REPO / "experiments").glob("*.yaml")
    if not p.name.startswith("train_")))  # train_*.yaml: `kwls train` configs
def test_every_experiment_passes_the_check(name):
  config = yaml.safe_load((REPO / "experiments" / name).read_text())
  validate(config, SCHEMA)
  if plan.is_retrieval(config):
    plan.check_retrieval_before_any_job(config, TRAIN_REQA_BASE)
  else:
    plan.check_before_any_job(config, "", TRAIN_BASE)


def _folder(tmp_path, names) -> str:
  (tmp_path / "mine").mkdir()
  (tmp_path / "mine" / "labels.json").write_text(json.dumps(names))
  return str(tmp_path)


@pytest.mark.parametrize("dataset, settings, names, message", [
    ("imdb", ["under2"], None, "'imdb': setting 'under2': class 2 does not"),
    ("imdb", ["agc1"], None, "'imdb': setting 'agc1': defined on AG News"),
    ("ag_news", ["balanced", "under4"], None, "'ag_news': setting 'under4'"),
    ("mine", ["agm3"], ["a", "b", "c", "d"], "'mine': setting 'agm3'"),
])
def test_settings_a_dataset_lacks_are_refused(tmp_path, dataset, settings,
                                              names, message):
  data_dir = _folder(tmp_path, names) if names else ""
  config = _config(datasets=[{"name": dataset, "pool": "train",
                              "test": "test", "settings": settings}])
  with pytest.raises(plan.PlanError, match=message):
    plan.check_before_any_job(config, data_dir, TRAIN_BASE)


def test_settings_of_the_dataset_pass(tmp_path):
  config = _config(datasets=[
      {"name": "mine", "pool": "train", "test": "test",
       "settings": ["under0", "agc3", "agm10"]}])
  plan.check_before_any_job(
      config, _folder(tmp_path, list(subsets.AG_NEWS_LABELS)), TRAIN_BASE)


@pytest.mark.parametrize("change, message", [
    ({"train": {"epoch": 3}}, r"train: .*unknown field\(s\) \['epoch'\]"),
    ({"models": ["bert"], "train": {"model.dtype": "fp8"}},
     r"model.dtype .* \(model bert"),
    ({"datasets": [{"name": "imbd", "pool": "train", "test": "test"}]},
     "'imbd' is neither a labelled corpus"),
])
def test_mistakes_are_refused(change, message):
  with pytest.raises(plan.PlanError, match=message):
    plan.check_before_any_job(_config(**change), "", TRAIN_BASE)
  with pytest.raises(plan.PlanError, match="'/no/such' is not a folder"):
    plan.check_before_any_job(_config(), "/no/such", TRAIN_BASE)
  assert "squad" in registry.CORPORA  # a corpus without labels ...
  with pytest.raises(plan.PlanError, match="'squad' is neither"):
    plan.check_before_any_job(_config(datasets=[
        {"name": "squad", "pool": "dev", "test": "dev"}]), "", TRAIN_BASE)


def test_rerun_command_names_the_profiles(tmp_path):
  profiles = plan.profiles_given(
      ["--profile", str(REPO / "profiles" / "slurm"), "--configfile", "x.yaml"])
  assert profiles == [str(REPO / "profiles" / "slurm")]
  assert plan.profiles_given([], "none") == []
  assert plan.profiles_given([], "mine") == ["mine"]
  words = shlex.split(plan.rerun_command(str(REPO), [], {}, profiles=profiles))
  assert words[:3] == ["snakemake", "--profile", "profiles/slurm"]
  assert "--cores" not in words


def test_only_distills_teacher_saves_training_set_predictions():
  config = _config(seeds=[0, 1])
  config["datasets"].append({"name": "ag_news", "pool": "test[:75%]",
                             "test": "test[75%:]", "seeds": [2],
                             "methods": ["none", "kwls"]})
  def saves(method, c=config, seed="0"):
    w = _w(setting="balanced", fold="0", seed=seed, model="textcnn",
           method=method)
    return _sets(plan.train_flags(c, w, plan.train_inputs(c, w))
                 )["save_train_probs"]
  assert saves("none") == saves("none", seed="1") == "true"
  assert {saves(m) for m in ("kwls", "distill")} == {"false"}
  assert saves("none", seed="2") == "false"  # no distill run of seed 2
  without = _config(methods=["none", "kwls"])
  assert saves("none", without) == "false"


def test_a_dataset_entry_crosses_its_own_lists():
  config = _config(settings=["balanced", "under0"], models=["textcnn"],
                   methods=["none", "classic", "kwls"])
  imdb = {"name": "imdb", "pool": "train", "test": "test"}
  config["datasets"] = [
      imdb, {**imdb, "settings": ["balanced"], "seeds": [1],
             "methods": ["none", "kwls"]},
      {**imdb, "settings": ["balanced", "under0"], "models": ["lstm"],
       "methods": ["none", "kwls"]}]
  validate(config, SCHEMA)
  runs = [tuple(w.values()) for w in plan.all_wildcards(config)]
  assert len(runs) == len(set(runs))
  by_model = lambda m: {r for r in runs if r[4] == m}
  assert len(by_model("textcnn")) == 2 * 3 + 2  # seed 0 everywhere, seed 1 on top
  assert {(r[1], r[3], r[5]) for r in by_model("textcnn") if r[3] == "1"} == {
      ("balanced", "1", "none"), ("balanced", "1", "kwls")}
  # The third entry: LSTM's none and kwls runs, seed 0, in both settings.
  assert by_model("lstm") == {("imdb", s, "0", "0", "lstm", m)
                              for s in ("balanced", "under0")
                              for m in ("none", "kwls")}
  # Overlapping entries give each run once.
  config["datasets"].append(imdb)
  assert [tuple(w.values()) for w in plan.all_wildcards(config)] == runs
  # One dataset, two entries with other splits: refused.
  config["datasets"].append({**imdb, "pool": "train[:50%]"})
  with pytest.raises(plan.PlanError, match="'imdb' name different pool/test"):
    plan.check_before_any_job(config, "", TRAIN_BASE)


def test_wandb_is_on_by_default():
  config = _config()
  flags = _sets(plan.train_flags(config, _w(), plan.train_inputs(config, _w())))
  assert flags["wandb.project"] == plan.WANDB_PROJECT == "kwls-jax"
  assert "--wandb-project kwls-jax" in plan.report_flags(config, [], "c")
  off = _config(wandb_project="")
  assert _sets(plan.train_flags(off, _w(), plan.train_inputs(off, _w())))[
      "wandb.project"] == ""
  assert "--wandb-project" not in plan.report_flags(off, [], "c")


def test_signature_follows_what_the_numbers_depend_on():
  base = plan.signature(_config(), _w())
  assert plan.signature(_config(), _w()) == base
  assert plan.signature(_config(wandb_project="other"), _w()) == base
  assert plan.signature(_config(train={"epochs": 5}), _w()) != base
  assert plan.signature(_config(smoothing={"k1": 1.5}), _w()) != base
  assert plan.signature(_config(), _w(fold="0")) != base
  # As the plan lists the runs, and as Snakemake's wildcards give them.
  w = plan.all_wildcards(_config(folds=[1], seeds=[2], models=["lstm"]))[0]
  assert plan.signature(_config(), w) == plan.signature(
      _config(), {k: str(v) for k, v in w.items()})
  assert json.loads(plan.run_meta(_config(), _w()))["signature"] == base


def _record(root, config, w, signature=None, final=True):
  record = root / plan.record_dir(config, w)
  record.mkdir(parents=True)
  meta = json.loads(plan.run_meta(config, w))
  if signature is not None:
    meta["signature"] = signature
  (record / "run.json").write_text(json.dumps(meta))
  if final:
    (record / "final.json").write_text("{}")


def test_committed_records_count_as_done_while_their_settings_hold(tmp_path):
  config = _config(folds=[0, 1, 2, 3], methods=["none"])
  ws = plan.all_wildcards(config)
  assert [plan.run_dir(config, w) + "/final.json" for w in ws] == \
      plan.all_runs(config)
  assert plan.record_dir(config, ws[0]).startswith("results/x/runs/ag_news/")
  _record(tmp_path, config, ws[0])  # complete, same settings
  _record(tmp_path, config, ws[1], final=False)  # interrupted
  _record(tmp_path, config, ws[2], signature="stale")  # other settings
  inputs = plan.report_inputs(config, str(tmp_path))
  assert inputs[0] == plan.record_dir(config, ws[0]) + "/final.json"
  assert inputs[1:] == plan.all_runs(config)[1:]
  assert plan.report_run_dirs(config) == [plan.record_dir(config, w)
                                          for w in ws]


def test_a_sweep_over_training_switches_tags_and_reads_them_back():
  config = _config(sweep={"alpha": [1.0, 3.0], "two_head": [False, True],
                          "soft_label_start_step": [0, 4000]})
  tags = plan.sweep_tags(config)
  assert len(tags) == len(set(tags)) == 8
  read = [plan.split_method(f"kwls@{t}")[1] for t in tags]
  assert {(r["alpha"], r["two_head"], r["soft_label_start_step"])
          for r in read} == {(a, h, s) for a in ("1", "3")
                             for h in ("false", "true") for s in ("0", "4000")}
  # The switches, like alpha, leave the soft labels as they are.
  assert {plan.soft_name(f"kwls@{t}") for t in tags} == {
      plan.soft_name(f"kwls@{tags[0]}")}
  # A sweep without them keeps the tags it had.
  assert "th-" not in plan.sweep_tags(_config(sweep={"alpha": [1.0]}))[0]
  flags = _sets(plan.train_flags(config, _w(method=f"kwls@{tags[-1]}"),
                                 plan.train_inputs(config, _w(
                                     method=f"kwls@{tags[-1]}"))))
  got = train_config.load(TRAIN_BASE, [f"{k}={v}" for k, v in flags.items()
                                       if k in ("two_head", "alpha", "method",
                                                "soft_label_start_step")]
                          + ["data.train=t.jsonl.gz", "data.test=t.jsonl.gz"])
  assert (got.two_head, got.soft_label_start_step, got.alpha) == (
      True, 4000, 3.0)


def _reqa_config(**change) -> dict:
  """A retrieval experiment config with the schema's defaults filled in."""
  config = {"experiment": "r", "task": "retrieval",
            "reqa": {"input": "squad/dev.jsonl.gz"}, "folds": [0, 2],
            "seeds": [0], "models": ["textcnn", "lstm"],
            "methods": ["none", "distill", "kwls"], **change}
  validate(config, SCHEMA)
  return config


def test_retrieval_runs_and_baselines():
  config = _reqa_config()
  runs = plan.all_runs(config)
  assert len(runs) == len(set(runs)) == 2 * 2 * 3
  assert "work/r/runs/squad/reqa/fold2/seed0/lstm/kwls/final.json" in runs
  w = {"fold": "2", "seed": "0", "model": "lstm", "method": "kwls"}
  assert plan.retrieval_record_dir(config, w) == (
      "results/r/runs/squad/reqa/fold2/seed0/lstm/kwls")
  assert plan.baseline_files(config) == [
      f"work/r/baselines/{b}/fold{f}.json" for b in ("bm25", "ilr")
      for f in (0, 2)]
  assert plan.baseline_flags(config, "bm25") == ""
  assert shlex.split(plan.baseline_flags(config, "ilr")) == [
      "--k1", "2.0", "--b", "0.75", "--k2", "2.0", "--tokenizer", "word"]
  assert plan.reqa_input(config, "/data") == "/data/squad/dev.jsonl.gz"
  assert plan.reqa_input(config, "") == "squad/dev.jsonl.gz"


def test_retrieval_records_follow_their_settings(tmp_path):
  config = _reqa_config()
  ws = plan.all_wildcards(config)
  w = ws[0]
  base = plan.signature(config, w)
  assert plan.signature(_reqa_config(train={"epochs": 3}), w) != base
  assert plan.signature(_reqa_config(wandb_project="other"), w) == base
  assert json.loads(plan.retrieval_run_meta(config, w))["signature"] == base
  _record(tmp_path, config, w)
  _record(tmp_path, config, ws[1], signature="stale")
  inputs = plan.report_inputs(config, str(tmp_path))
  assert inputs[0] == plan.record_dir(config, w) + "/final.json"
  assert inputs[1:] == plan.all_runs(config)[1:]


def test_retrieval_train_inputs_and_flags():
  config = _reqa_config(train={"epochs": 7, "retrieval.negatives": 16},
                        wandb_project="p", k=5)
  w = {"fold": "2", "seed": "0", "model": "lstm", "method": "distill"}
  inputs = plan.retrieval_train_inputs(config, w)
  assert inputs["teacher"] == (
      "work/r/runs/squad/reqa/fold2/seed0/lstm/none/final.json")
  assert inputs["candidates"] == "work/r/reqa/candidates.jsonl.gz"
  sets = _sets(plan.retrieval_train_flags(config, w, inputs))
  assert sets["retrieval.benchmark"] == "work/r/reqa"
  assert sets["retrieval.fold"] == "2" and sets["retrieval.folds"] == "5"
  assert sets["teacher_run"] == os.path.dirname(inputs["teacher"])
  assert sets["epochs"] == "7" and sets["retrieval.negatives"] == "16"
  assert sets["method"] == "distill" and sets["model.name"] == "lstm"
  assert sets["wandb.project"] == "p"
  c = train_config.load(TRAIN_REQA_BASE, [f"{k}={v}" for k, v in sets.items()])
  assert c.task == "retrieval" and c.retrieval.fold == 2
  assert "teacher" not in plan.retrieval_train_inputs(
      config, {**w, "method": "kwls"})
  meta = json.loads(plan.retrieval_run_meta(config, w))
  assert (meta["dataset"], meta["setting"], meta["fold"]) == (
      "squad", "reqa", 2)


def test_retrieval_report_flags_read_back():
  config = _reqa_config(table="table3", note="it's SQuAD dev",
                        reqa={"input": "x", "baselines": ["bm25"]})
  words = shlex.split(plan.retrieval_report_flags(config, "snakemake -n"))
  assert [words[i + 1] for i, w in enumerate(words) if w == "--baseline"] == [
      "bm25:0=work/r/baselines/bm25/fold0.json",
      "bm25:2=work/r/baselines/bm25/fold2.json"]
  assert words[words.index("--note") + 1] == "it's SQuAD dev"
  assert words[words.index("--table") + 1] == "table3"
  assert words[words.index("--command") + 1] == "snakemake -n"


@pytest.mark.parametrize("change, message", [
    ({"sweep": {"k1": [1.0]}}, "sweep: not for task retrieval"),
    ({"folds": [0, 4]}, r"folds: \[4\] not below k = 4"),
    ({"train": {"retrieval.label_doc": "title"}},
     r"retrieval.label_doc .* \(model textcnn, method none\)"),
    ({"train": {"two_head": True}}, "two_head: not for task retrieval"),
])
def test_retrieval_mistakes_are_refused(change, message):
  with pytest.raises(plan.PlanError, match=message):
    plan.check_retrieval_before_any_job(_reqa_config(**change),
                                        TRAIN_REQA_BASE)


def test_a_retrieval_config_needs_its_input_and_no_datasets():
  config = _reqa_config()
  del config["reqa"]
  with pytest.raises(Exception, match="'reqa' is a required property"):
    validate(config, SCHEMA)
  plain = _config()
  del plain["datasets"]
  with pytest.raises(Exception, match="'datasets' is a required property"):
    validate(plain, SCHEMA)
