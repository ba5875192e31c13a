"""kwls-jax workflow: corpus -> folds and unbalanced subsets -> soft labels ->
training (teachers first, for LS-Distill) -> paper-style tables, figures, W&B.

    snakemake --cores all --config data_dir=../shared/datasets        # quick
    snakemake --cores all --configfile experiments/table2.yaml         # an artefact
    snakemake -n ...                                                   # the plan

Intermediate files go to work/<experiment>/ (git-ignored); results/<experiment>/
gets the tables and figures. An interrupted run picks up where it stopped.
"""

import argparse
import itertools
import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("9.0")


REPO = workflow.basedir  # runs from any --directory


# quick.yaml only when no --configfile is given: Snakemake would otherwise
# merge it into the experiment's config (its train overrides, its note).
if not workflow.overwrite_configfiles:

    configfile: os.path.join(REPO, "experiments", "quick.yaml")


validate(config, "workflow/schemas/config.schema.yaml")

EXPERIMENT = config["experiment"]
WORK = f"work/{EXPERIMENT}"
RUNS = f"{WORK}/runs"
RESULTS = f"results/{EXPERIMENT}"
REPORT = f"{WORK}/report"
DATA_DIR = config.get("data_dir") or os.environ.get("KWLS_DATA_DIR", "")
DATA_FLAG = f"--data-dir {DATA_DIR}" if DATA_DIR else ""
DATASETS = {d["name"]: d for d in config["datasets"]}
SMOOTHING = config["smoothing"]
WANDB_PROJECT = config.get("wandb_project", "")
TRAIN_BASE = os.path.join(REPO, "experiments", "train_base.json")


# The sweep: soft-label methods (kwls, tfidf, classic) run once per combination
# of the listed values, named in the method wildcard (kwls@k1-1.2_b-0.75_k2-2_a-1);
# none and distill do not depend on them and run once.
SWEPT = ("kwls", "tfidf", "classic")
HP_KEYS = (("k1", "smoothing.k1"), ("b", "smoothing.b"), ("k2", "smoothing.k2"),
           ("a", "alpha"))


def sweep_tags():
    grid = config.get("sweep") or {}
    base = {"k1": SMOOTHING["k1"], "b": SMOOTHING["b"], "k2": SMOOTHING["k2"],
            "a": config.get("train", {}).get("alpha", 1.0)}
    values = [grid.get({"a": "alpha"}.get(k, k), [base[k]]) for k, _ in HP_KEYS]
    return ["_".join(f"{k}-{v:g}" for (k, _), v in zip(HP_KEYS, combo))
            for combo in itertools.product(*values)] if grid else []


def method_names():
    tags = sweep_tags()
    if not tags:
        return list(config["methods"])
    return [f"{m}@{t}" for m in config["methods"] if m in SWEPT for t in tags] + [
        m for m in config["methods"] if m not in SWEPT]


def soft_name(method):
    """The soft-label file of a method: alpha (Eq. 9) does not change soft labels."""
    base, _, tag = method.partition("@")
    kept = [kv for kv in tag.split("_") if kv and not kv.startswith("a-")]
    return base + ("@" + "_".join(kept) if kept else "")


def split_method(method):
    """'kwls@k1-1.2_b-0.75_k2-2_a-1' -> ('kwls', {'smoothing.k1': '1.2', ...})."""
    base, _, tag = method.partition("@")
    keys = dict(HP_KEYS)
    return base, {keys[k]: v for k, v in (kv.split("-", 1) for kv in tag.split("_"))
                  } if tag else {}


def run_dir(w, **change):
    v = {k: getattr(w, k) for k in
         ("dataset", "setting", "fold", "seed", "model", "method")}
    v.update(change)
    return (f"{RUNS}/{v['dataset']}/{v['setting']}/fold{v['fold']}/"
            f"seed{v['seed']}/{v['model']}/{v['method']}")


def profiles_given():
    """The --profile values of this snakemake command ($SNAKEMAKE_PROFILE if
    none); the main process's only, hence report runs there (localrules)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--profile", action="append")
    given = parser.parse_known_args(sys.argv[1:])[0].profile or [
        os.environ.get("SNAKEMAKE_PROFILE", "")]
    return [p for p in given if p and p != "none"]


def rerun_command():
    """The command line that reruns this experiment, for the report: the
    profiles (else --cores all) and config files given (repository paths
    relative to it; default quick.yaml) and every --config value, data_dir
    included where it came from $KWLS_DATA_DIR."""
    in_repo = lambda f: os.path.relpath(f, REPO) if os.path.abspath(f).startswith(
        os.path.join(os.path.abspath(REPO), "")) else str(f)
    files = [in_repo(f) for f in workflow.config_settings.configfiles]
    values = dict(workflow.config_settings.config)
    if DATA_DIR and not config.get("data_dir"):
        values["data_dir"] = DATA_DIR
    words = ["snakemake"]
    for p in profiles_given():
        words += ["--profile", in_repo(p) if os.path.exists(p) else p]
    if len(words) == 1:
        words += ["--cores", "all"]
    for f in files or ["experiments/quick.yaml"]:
        words += ["--configfile", f]
    if values:
        words += ["--config"] + [
            f"{k}={v if isinstance(v, str) else json.dumps(v)}"
            for k, v in values.items()]
    return shlex.join(words)


ALL_RUNS = [
    path
    for name, d in DATASETS.items()
    for path in expand(
        RUNS + "/{dataset}/{setting}/fold{fold}/seed{seed}/{model}/{method}/final.json",
        dataset=name, setting=d.get("settings", config["settings"]),
        fold=config["folds"], seed=config["seeds"], model=config["models"],
        method=method_names())
]


def run_labels(paths):
    """A legend label per run: the parts of its path (dataset, setting, fold,
    seed, model, method) in which the runs differ; the method alone if none."""
    parts = [p.split("/")[-7:-1] for p in paths]
    varying = [i for i in range(6) if len({q[i] for q in parts}) > 1] or [5]
    return ["/".join(q[i] for i in varying) for q in parts]


FIGURES = (["figure1"] if config["figure1"] else []) + (
    ["figure2"] if config["figure2"] else [])
REPORT_FLAGS = " ".join(
    ([f"--table {config['table']}"] if config["table"] else [])
    + (["--average-settings"] if config["average_settings"] else [])
    + (["--figure1"] if config["figure1"] else [])
    + ([f"--wandb-project {WANDB_PROJECT} --wandb-dir {WORK}/wandb"]
       if WANDB_PROJECT else [])
    + ([f"--switch-step {config['train']['soft_label_start_step']}"]
       if "soft_label_start_step" in config.get("train", {}) else [])
    + (["--figure2"] + [f"{label}={os.path.dirname(p)}"
                        for label, p in zip(run_labels(ALL_RUNS), ALL_RUNS)]
       if config["figure2"] else [])
    + ([f"--note {shlex.quote(config['note'])}"] if config["note"] else [])
    + ["--command " + shlex.quote(rerun_command())])


def check_before_any_job():
    """What the schema cannot see, checked now rather than by the first job
    that meets it: data_dir is a folder, each dataset is a corpus we know or
    one of data_dir's, and the train: overrides are what `kwls train` accepts
    for each model and method of the experiment."""
    if DATA_DIR and not os.path.isdir(DATA_DIR):
        raise WorkflowError(
            f"data_dir {DATA_DIR!r} is not a folder"
            + ("" if os.path.isabs(DATA_DIR) else
               f" (relative to the working directory {os.getcwd()}, which "
               "--directory sets; an absolute path avoids that)"))
    from kwls_jax.corpora import registry
    from kwls_jax.training import config as train_config

    labelled = sorted(n for n, spec in registry.CORPORA.items()
                      if spec.kind == "classification")
    for name in DATASETS:
        if name not in labelled and not (
                DATA_DIR and os.path.isdir(os.path.join(DATA_DIR, name))):
            raise WorkflowError(
                f"datasets: {name!r} is neither a labelled corpus we know "
                f"({', '.join(labelled)}) nor a folder in data_dir "
                f"({DATA_DIR or 'not set'})")

    for model in config["models"]:
        for method in sorted({split_method(m)[0] for m in method_names()}):
            flags = {"model.name": model, "method": method,
                     "data.train": "train.jsonl.gz",
                     "data.test": "test.jsonl.gz",
                     "teacher_run": "teacher" if method == "distill" else ""}
            flags.update({f"smoothing.{k}": v for k, v in SMOOTHING.items()})
            flags.update(config.get("train", {}))
            items = [set_item(k, v) for k, v in flags.items()]
            try:
                train_config.load(TRAIN_BASE, items)
            except train_config.ConfigError as e:
                raise WorkflowError(
                    f"train: {e} (model {model}, method {method})") from None


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    setting="[a-z]+[0-9]*",
    fold=r"\d+",
    seed=r"\d+",
    part="pool|test",
    method=r"[a-z]+(@[A-Za-z0-9_.+-]+)?",


rule all:
    input:
        WORK + "/published",


include: "workflow/rules/data.smk"
include: "workflow/rules/soft_labels.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/report.smk"


check_before_any_job()  # after the includes: it uses train.smk's set_item
