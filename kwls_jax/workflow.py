"""The plan of the Snakemake workflow (Snakefile, workflow/rules/): run names,
paths, shell flags and the checks made before any job, as pure functions of
the experiment's config dict.

Wildcards (`w`) are mappings of the rule's wildcard names (dataset, setting,
fold, seed, model, method) to their values; a rule passes `dict(w.items())`.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import shlex
from typing import Mapping, Sequence

# The sweep: soft-label methods run once per combination of the listed values,
# named in the method wildcard (kwls@k1-1.2_b-0.75_k2-2_a-1); none and distill
# do not depend on them and run once.
SWEPT = ("kwls", "tfidf", "classic")
HP_KEYS = (("k1", "smoothing.k1"), ("b", "smoothing.b"), ("k2", "smoothing.k2"),
           ("a", "alpha"))
# Training switches a sweep may also vary; tagged only where it does.
SWITCH_KEYS = (("th", "two_head"), ("st", "soft_label_start_step"))
KEEP_SOFT = ("a-", "th-", "st-")  # tag parts that leave soft labels unchanged
RUN_KEYS = ("dataset", "setting", "fold", "seed", "model", "method")
WANDB_PROJECT = "kwls-jax"  # where an experiment logs unless it names another


class PlanError(ValueError):
  """A config the workflow refuses before any job; the message names the key."""


_INT = re.compile(r"[-+]?\d+")
_FLOAT = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?")


def typed_config(value):
  """value with the strings that spell a number or true/false read as one.

  Snakemake reads a nested `--config` value (`seeds=[1]`, `sweep={alpha:
  [3]}`) with YAML's BaseLoader, which leaves every scalar a string; this
  gives the schema the numbers and booleans it checks for (1e-3 included,
  which PyYAML would leave a string).
  """
  if isinstance(value, Mapping):
    return {k: typed_config(v) for k, v in value.items()}
  if isinstance(value, list):
    return [typed_config(v) for v in value]
  if not isinstance(value, str):
    return value
  if _INT.fullmatch(value):
    return int(value)
  if _FLOAT.fullmatch(value):
    return float(value)
  if value.lower() in ("true", "false"):
    return value.lower() == "true"
  return value


def work_dir(config: Mapping) -> str:
  """work/<experiment>: the intermediate files of an experiment."""
  return f"work/{config['experiment']}"


def runs_dir(config: Mapping) -> str:
  return f"{work_dir(config)}/runs"


def records_dir(config: Mapping) -> str:
  """results/<experiment>/runs: the committed records of finished runs."""
  return f"results/{config['experiment']}/runs"


def sweep_tags(config: Mapping) -> list[str]:
  """One tag per combination of the sweep's values; [] without a sweep."""
  grid = config.get("sweep") or {}
  smoothing = config["smoothing"]
  base = {"k1": smoothing["k1"], "b": smoothing["b"], "k2": smoothing["k2"],
          "a": config.get("train", {}).get("alpha", 1.0)}
  keys = HP_KEYS + tuple(kv for kv in SWITCH_KEYS if kv[1] in grid)
  values = [grid.get(name.split(".")[-1], [base.get(k)]) for k, name in keys]
  word = lambda v: json.dumps(v) if isinstance(v, bool) else f"{v:g}"
  return ["_".join(f"{k}-{word(v)}" for (k, _), v in zip(keys, combo))
          for combo in itertools.product(*values)] if grid else []


def method_names(config: Mapping) -> list[str]:
  """The method wildcard's values: swept methods once per sweep tag."""
  tags = sweep_tags(config)
  if not tags:
    return list(config["methods"])
  return [f"{m}@{t}" for m in config["methods"] if m in SWEPT for t in tags] + [
      m for m in config["methods"] if m not in SWEPT]


def soft_name(method: str) -> str:
  """The soft-label file of a method: alpha (Eq. 9) does not change soft labels."""
  base, _, tag = method.partition("@")
  kept = [kv for kv in tag.split("_") if kv and not kv.startswith(KEEP_SOFT)]
  return base + ("@" + "_".join(kept) if kept else "")


def split_method(method: str) -> tuple[str, dict[str, str]]:
  """'kwls@k1-1.2_b-0.75_k2-2_a-1_th-true' -> ('kwls', {'smoothing.k1':
  '1.2', ..., 'two_head': 'true'})."""
  base, _, tag = method.partition("@")
  keys = dict(HP_KEYS + SWITCH_KEYS)
  return base, {keys[k]: v for k, v in (kv.split("-", 1) for kv in tag.split("_"))
                } if tag else {}


def run_dir(config: Mapping, w: Mapping, **change) -> str:
  """The run directory of wildcards `w`, some of them changed."""
  v = {k: w[k] for k in RUN_KEYS}
  v.update(change)
  return (f"{runs_dir(config)}/{v['dataset']}/{v['setting']}/fold{v['fold']}/"
          f"seed{v['seed']}/{v['model']}/{v['method']}")


def record_dir(config: Mapping, w: Mapping) -> str:
  """Where the record of run `w` is committed: run_dir's path under
  results/<experiment>/runs."""
  return records_dir(config) + run_dir(config, w)[len(runs_dir(config)):]


def all_wildcards(config: Mapping) -> list[dict]:
  """The wildcards of every run of the experiment, dataset by dataset, as
  strings (as Snakemake gives them)."""
  if is_retrieval(config):
    return [_reqa_w(dict(zip(RUN_KEYS[2:], map(str, combo))))
            for combo in itertools.product(config["folds"], config["seeds"],
                                           config["models"], config["methods"])]
  runs = [
      dict(zip(RUN_KEYS, map(str, (d["name"], *combo))))
      for d in config["datasets"]
      for combo in itertools.product(*grid(config, d).values())]
  return list({tuple(w.values()): w for w in runs}.values())  # once each


def grid(config: Mapping, d: Mapping) -> dict[str, list]:
  """The lists a datasets: entry crosses (settings, folds, seeds, models,
  methods): its own where it names them, else the top-level ones."""
  own = lambda key: d.get(key, config[key])
  return {"settings": own("settings"), "folds": config["folds"],
          "seeds": own("seeds"), "models": own("models"),
          "methods": method_names({**config, "methods": own("methods")})}


def all_runs(config: Mapping) -> list[str]:
  """final.json of every run of the experiment, dataset by dataset."""
  return [run_dir(config, w) + "/final.json" for w in all_wildcards(config)]


def signature(config: Mapping, w: Mapping) -> str:
  """What a run's numbers depend on: a hash of its `kwls train` settings
  (W&B fields and name aside), kept in its run.json."""
  if is_retrieval(config):
    made = retrieval_train_settings(config, w, retrieval_train_inputs(config, w))
  else:
    made = train_settings(config, w, train_inputs(config, w))
  settings = {k: v for k, v in made.items()
              if k != "name" and not k.startswith("wandb.")}
  return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str)
                        .encode()).hexdigest()[:16]


def is_recorded(config: Mapping, w: Mapping, root: str = ".") -> bool:
  """Whether run `w` has a complete record (final.json) made with the
  settings the config gives it now (run.json's signature)."""
  record = os.path.join(root, record_dir(config, w))
  try:
    with open(os.path.join(record, "run.json"), encoding="utf-8") as f:
      made_with = json.load(f).get("signature")
  except (OSError, ValueError):
    return False
  return (os.path.exists(os.path.join(record, "final.json"))
          and made_with == signature(config, w))


def report_inputs(config: Mapping, root: str = ".") -> list[str]:
  """final.json of every run the report waits for: its committed record
  when that counts as done (`is_recorded`), else the run in work/, which
  the train rule makes and records."""
  return [(record_dir(config, w) if is_recorded(config, w, root)
           else run_dir(config, w)) + "/final.json"
          for w in all_wildcards(config)]


def report_run_dirs(config: Mapping) -> list[str]:
  """The record of every run, which the report reads."""
  return [record_dir(config, w) for w in all_wildcards(config)]


def run_labels(paths: Sequence[str]) -> list[str]:
  """A legend label per run: the parts of its path (dataset, setting, fold,
  seed, model, method) in which the runs differ; the method alone if none."""
  parts = [p.split("/")[-7:-1] for p in paths]
  varying = [i for i in range(6) if len({q[i] for q in parts}) > 1] or [5]
  return ["/".join(q[i] for i in varying) for q in parts]


def profiles_given(argv: Sequence[str], env_profile: str = "") -> list[str]:
  """The --profile values of a snakemake command line (else `env_profile`,
  $SNAKEMAKE_PROFILE); 'none' is no profile."""
  parser = argparse.ArgumentParser(add_help=False)
  parser.add_argument("--profile", action="append")
  given = parser.parse_known_args(list(argv))[0].profile or [env_profile]
  return [p for p in given if p and p != "none"]


def rerun_command(repo: str, configfiles: Sequence[str], values: Mapping,
                  env_data_dir: str = "", profiles: Sequence[str] = ()) -> str:
  """The command line that reruns an experiment, for the report: the profiles
  given (else --cores all), the config files given (repository paths relative
  to it; default quick.yaml), every --config value, and `env_data_dir`
  ($KWLS_DATA_DIR where no config sets data_dir) as data_dir."""
  inside = os.path.join(os.path.abspath(repo), "")
  in_repo = lambda f: (os.path.relpath(f, repo)
                       if os.path.abspath(f).startswith(inside) else str(f))
  files = [in_repo(f) for f in configfiles]
  values = typed_config(values)
  if env_data_dir:
    values["data_dir"] = env_data_dir
  words = ["snakemake"]
  for p in profiles:
    words += ["--profile", in_repo(p) if os.path.exists(p) else p]
  if not profiles:
    words += ["--cores", "all"]
  for f in files or ["experiments/quick.yaml"]:
    words += ["--configfile", f]
  if values:
    words += ["--config"] + [
        f"{k}={v if isinstance(v, str) else json.dumps(v)}"
        for k, v in values.items()]
  return shlex.join(words)


def figures(config: Mapping) -> list[str]:
  """The figures the report draws besides the reliability diagram."""
  return [f for f in ("figure1", "figure2") if config[f]]


def report_flags(config: Mapping, runs: Sequence[str], command: str) -> str:
  """The flags of `kwls_jax.reporting.report` for this experiment."""
  project = config.get("wandb_project", WANDB_PROJECT)
  train = config.get("train", {})
  return " ".join(
      ([f"--table {config['table']}"] if config["table"] else [])
      + (["--average-settings"] if config["average_settings"] else [])
      + (["--figure1"] if config["figure1"] else [])
      + ([f"--wandb-project {project} --wandb-dir {work_dir(config)}/wandb"]
         if project else [])
      + ([f"--switch-step {train['soft_label_start_step']}"]
         if "soft_label_start_step" in train else [])
      + (["--figure2"] + [f"{label}={os.path.dirname(p)}"
                          for label, p in zip(run_labels(runs), runs)]
         if config["figure2"] else [])
      + ([f"--note {shlex.quote(config['note'])}"] if config["note"] else [])
      + ["--command " + shlex.quote(command)])


def soft_label_flags(config: Mapping, method: str) -> str:
  """`kwls soft-labels` hyperparameters: the config's, a sweep's values winning."""
  swept = {key.split(".")[1]: v for key, v in split_method(method)[1].items()
           if key.startswith("smoothing.")}
  return " ".join(f"--{k} {v}" for k, v in {**config["smoothing"], **swept}.items())


def train_inputs(config: Mapping, w: Mapping) -> dict[str, str]:
  """A run's data files, soft labels and, for LS-Distill, its teacher's
  final.json (the same setting's run of method none)."""
  work = work_dir(config)
  data = f"{work}/data/{w['dataset']}/{w['setting']}/fold{w['fold']}"
  inputs = {"train": f"{data}/train.jsonl.gz", "dev": f"{data}/dev.jsonl.gz",
            "test": f"{work}/corpora/{w['dataset']}/test.jsonl.gz"}
  method = split_method(w["method"])[0]
  if method in SWEPT:
    inputs["soft"] = (f"{work}/soft/{w['dataset']}/{w['setting']}/"
                      f"fold{w['fold']}/{soft_name(w['method'])}.npy")
  if method == "distill":
    inputs["teacher"] = run_dir(config, w, method="none") + "/final.json"
  return inputs


def set_item(key: str, value) -> str:
  """KEY=VALUE as `kwls train --set` reads it: a string as given, anything
  else as JSON (true, [..], null; Python's True would arrive as a string)."""
  if isinstance(value, str):
    return f"{key}={value}"
  if isinstance(value, (bool, list, dict)) or value is None:
    return f"{key}={json.dumps(value)}"
  return f"{key}={value}"


def set_flag(key: str, value) -> str:
  """--set KEY=VALUE, quoted for the shell."""
  item = set_item(key, value)
  return f"--set '{item}'" if "'" not in item else f"--set {shlex.quote(item)}"


def is_teacher(config: Mapping, w: Mapping) -> bool:
  """Whether run `w` is LS-Distill's teacher: the original model's run where
  the experiment has a distill run of the same dataset, setting, fold, seed
  and model (only it saves its training-set predictions)."""
  if split_method(w["method"])[0] != "none":
    return False
  for d in config["datasets"]:
    g = grid(config, d)
    if (d["name"] == w["dataset"]
        and any(split_method(m)[0] == "distill" for m in g["methods"])
        and all(str(w[key]) in map(str, g[f"{key}s"])
                for key in ("setting", "fold", "seed", "model"))):
      return True
  return False


def train_settings(config: Mapping, w: Mapping, inputs: Mapping) -> dict:
  """The `kwls train --set` values of a run: its name, model, method, data
  and W&B fields, then the config's smoothing and train: values, then a
  sweep's values."""
  experiment = config["experiment"]
  flags = {"name": f"{experiment}-{w['dataset']}-{w['setting']}-f{w['fold']}-"
                   f"s{w['seed']}-{w['model']}-{w['method']}",
           "model.name": w["model"], "method": split_method(w["method"])[0],
           "seed": w["seed"],
           "data.train": inputs["train"], "data.dev": inputs["dev"],
           "data.test": inputs["test"],
           "wandb.project": config.get("wandb_project", WANDB_PROJECT),
           "wandb.group": experiment,
           "wandb.job_type": f"{w['dataset']}/{w['model']}/{w['method']}",
           "save_train_probs": is_teacher(config, w)}
  flags.update({f"smoothing.{k}": v for k, v in config["smoothing"].items()})
  if "soft" in inputs:
    flags["soft_labels"] = inputs["soft"]
  if "teacher" in inputs:
    flags["teacher_run"] = os.path.dirname(inputs["teacher"])
  flags.update(config.get("train", {}))
  flags.update(split_method(w["method"])[1])  # a sweep's values win
  return flags


def train_flags(config: Mapping, w: Mapping, inputs: Mapping) -> str:
  """`train_settings` as --set flags."""
  return " ".join(set_flag(k, v) for k, v in
                  train_settings(config, w, inputs).items())


def run_meta(config: Mapping, w: Mapping) -> str:
  """run.json of a run: what the report groups it by."""
  return json.dumps({"experiment": config["experiment"],
                     "dataset": w["dataset"], "setting": w["setting"],
                     "fold": int(w["fold"]), "seed": int(w["seed"]),
                     "model": w["model"], "method": w["method"],
                     "signature": signature(config, w)})


def _label_names(name: str, data_dir: str) -> list[str] | None:
  """A dataset's class names: data_dir's labels.json, else the registry's."""
  from kwls_jax.corpora import jsonl, registry  # pylint: disable=g-import-not-at-top
  path = os.path.join(data_dir, name, jsonl.LABELS_FILE) if data_dir else ""
  if path and os.path.isfile(path):
    return jsonl.read_label_names(path)
  spec = registry.CORPORA.get(name)
  return list(spec.label_names) if spec else None


def check_before_any_job(config: Mapping, data_dir: str, train_base: str) -> None:
  """What the schema cannot see, checked before the first job meets it:
  data_dir is a folder, each dataset is a corpus we know or one of
  data_dir's, entries of one dataset name the same splits, its settings
  exist for it (under:C needs class C, agc/agm need AG News), and the train:
  overrides are what `kwls train` accepts for each
  model and method of the experiment. Raises PlanError."""
  if data_dir and not os.path.isdir(data_dir):
    raise PlanError(
        f"data_dir {data_dir!r} is not a folder"
        + ("" if os.path.isabs(data_dir) else
           f" (relative to the working directory {os.getcwd()}, which "
           "--directory sets; an absolute path avoids that)"))
  from kwls_jax.corpora import registry, subsets  # pylint: disable=g-import-not-at-top

  labelled = sorted(n for n, spec in registry.CORPORA.items()
                    if spec.kind == "classification")
  splits = {}
  for d in config["datasets"]:
    name = d["name"]
    if splits.setdefault(name, (d["pool"], d["test"])) != (d["pool"], d["test"]):
      raise PlanError(f"datasets: the entries of {name!r} name different "
                      f"pool/test splits ({'/'.join(splits[name])} and "
                      f"{d['pool']}/{d['test']}); its folds are cut once")
    if name not in labelled and not (
        data_dir and os.path.isdir(os.path.join(data_dir, name))):
      raise PlanError(
          f"datasets: {name!r} is neither a labelled corpus we know "
          f"({', '.join(labelled)}) nor a folder in data_dir "
          f"({data_dir or 'not set'})")
    names = _label_names(name, data_dir)
    for setting in d.get("settings", config["settings"]):
      try:
        subsets.check_setting(setting, len(names) if names else None, names)
      except ValueError as e:
        raise PlanError(f"datasets: {name!r}: {e}") from None

  for model, method in sorted({(w["model"], split_method(w["method"])[0])
                                for w in all_wildcards(config)}):
    check_train_overrides(config, train_base, model, method, {
        "data.train": "train.jsonl.gz", "data.test": "test.jsonl.gz"})


def check_train_overrides(config: Mapping, train_base: str, model: str,
                          method: str, flags: Mapping) -> None:
  """`kwls train` accepts train_base with `flags` and the config's smoothing:
  and train: values for this model and method. Raises PlanError."""
  from kwls_jax.training import config as train_config  # pylint: disable=g-import-not-at-top
  flags = {"model.name": model, "method": method,
           "teacher_run": "teacher" if method == "distill" else "", **flags,
           **{f"smoothing.{k}": v for k, v in config["smoothing"].items()},
           **config.get("train", {})}
  try:
    train_config.load(train_base, [set_item(k, v) for k, v in flags.items()])
  except train_config.ConfigError as e:
    raise PlanError(f"train: {e} (model {model}, method {method})") from None


# Retrieval experiments (task: retrieval, Table 3): the ReQA benchmark built
# once from the reqa: input, a dual-encoder run per fold, seed, model and
# method (LS-Distill's teacher is the same fold's run of method none), and
# zero-shot baselines (BM25, ILR) on each fold's test queries. Runs keep the
# classification layout under the dataset REQA_DATASET, setting REQA_SETTING.
REQA_DATASET, REQA_SETTING = "squad", "reqa"
BASELINES = ("bm25", "ilr")


def is_retrieval(config: Mapping) -> bool:
  return config.get("task", "classification") == "retrieval"


def reqa_input(config: Mapping, data_dir: str) -> str:
  """The SQuAD rows of reqa.input: a relative path lies under data_dir."""
  path = config["reqa"]["input"]
  return os.path.join(data_dir, path) if data_dir else path


def reqa_dir(config: Mapping) -> str:
  """The benchmark folder (`kwls reqa build --out`)."""
  return f"{work_dir(config)}/reqa"


def _reqa_w(w: Mapping) -> dict:
  return {**w, "dataset": REQA_DATASET, "setting": REQA_SETTING}


def baseline_file(config: Mapping, name: str, fold) -> str:
  """The JSON of a zero-shot baseline on a fold's test queries."""
  return f"{work_dir(config)}/baselines/{name}/fold{fold}.json"


def baseline_files(config: Mapping) -> list[str]:
  """Every baseline's file, fold by fold."""
  return [baseline_file(config, b, f)
          for b in config["reqa"]["baselines"] for f in config["folds"]]


def baseline_flags(config: Mapping, name: str) -> str:
  """`kwls reqa NAME` flags: ILR with the experiment's smoothing values (those
  of its KWLS soft labels); BM25 with its own defaults (Lucene's k1, b)."""
  if name != "ilr":
    return ""
  s = config["smoothing"]
  return " ".join(f"--{k} {s[k]}" for k in ("k1", "b", "k2", "tokenizer"))


def retrieval_train_inputs(config: Mapping, w: Mapping) -> dict[str, str]:
  """A run's benchmark files and, for LS-Distill, its teacher's final.json."""
  inputs = {"candidates": f"{reqa_dir(config)}/candidates.jsonl.gz",
            "queries": f"{reqa_dir(config)}/queries.jsonl.gz"}
  if w["method"] == "distill":
    inputs["teacher"] = run_dir(config, _reqa_w(w), method="none") + \
        "/final.json"
  return inputs


def retrieval_train_settings(config: Mapping, w: Mapping,
                             inputs: Mapping) -> dict:
  """The `kwls train --set` values of a retrieval run: its name, model,
  method, fold, the benchmark and W&B fields, then the config's smoothing and
  train: values."""
  experiment = config["experiment"]
  flags = {"name": f"{experiment}-f{w['fold']}-s{w['seed']}-{w['model']}-"
                   f"{w['method']}",
           "model.name": w["model"], "method": w["method"],
           "seed": w["seed"], "retrieval.benchmark": reqa_dir(config),
           "retrieval.fold": w["fold"], "retrieval.folds": config["k"],
           "wandb.project": config.get("wandb_project", ""),
           "wandb.group": experiment,
           "wandb.job_type": f"{REQA_DATASET}/{w['model']}/{w['method']}"}
  flags.update({f"smoothing.{k}": v for k, v in config["smoothing"].items()})
  if "teacher" in inputs:
    flags["teacher_run"] = os.path.dirname(inputs["teacher"])
  flags.update(config.get("train", {}))
  return flags


def retrieval_train_flags(config: Mapping, w: Mapping,
                          inputs: Mapping) -> str:
  """`retrieval_train_settings` as --set flags."""
  return " ".join(set_flag(k, v) for k, v in
                  retrieval_train_settings(config, w, inputs).items())


def retrieval_record_dir(config: Mapping, w: Mapping) -> str:
  """Where the record of retrieval run `w` is committed."""
  return record_dir(config, _reqa_w(w))


def retrieval_run_meta(config: Mapping, w: Mapping) -> str:
  """run.json of a retrieval run."""
  return run_meta(config, _reqa_w(w))


def retrieval_report_flags(config: Mapping, command: str) -> str:
  """The flags of `kwls_jax.reporting.retrieval_report`: each baseline file
  as NAME:FOLD=PATH, the paper's table, W&B, note and the rerun command."""
  items = [f"{b}:{f}={baseline_file(config, b, f)}"
           for b in config["reqa"]["baselines"] for f in config["folds"]]
  project = config.get("wandb_project", "")
  return " ".join(
      [f"--baseline {shlex.quote(i)}" for i in items]
      + ([f"--table {config['table']}"] if config["table"] else [])
      + ([f"--wandb-project {project} --wandb-dir {work_dir(config)}/wandb"]
         if project else [])
      + ([f"--note {shlex.quote(config['note'])}"] if config["note"] else [])
      + ["--command " + shlex.quote(command)])


def check_retrieval_before_any_job(config: Mapping, train_base: str) -> None:
  """What a retrieval experiment's schema cannot see: no sweep, folds below
  k, and train: overrides that `kwls train` accepts for each model and
  method. Raises PlanError."""
  if config.get("sweep"):
    raise PlanError("sweep: not for task retrieval")
  bad = [f for f in config["folds"] if f >= config["k"]]
  if bad:
    raise PlanError(f"folds: {bad} not below k = {config['k']}")
  for model in config["models"]:
    for method in config["methods"]:
      check_train_overrides(config, train_base, model, method,
                            {"retrieval.benchmark": "reqa"})
