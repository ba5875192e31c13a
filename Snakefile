"""kwls-jax workflow: corpus -> folds and unbalanced subsets -> soft labels ->
training (teachers first, for LS-Distill) -> paper-style tables, figures, W&B.
An experiment of task retrieval (Table 3) runs workflow/rules/retrieval.smk
instead: ReQA benchmark -> dual encoders per fold -> table with baselines.

    snakemake --cores all --config data_dir=../shared/datasets        # quick
    snakemake --cores all --configfile experiments/table2.yaml         # an artefact
    snakemake -n ...                                                   # the plan

Intermediate files go to work/<experiment>/ (git-ignored); results/<experiment>/
gets the tables and figures. An interrupted run picks up where it stopped.
The plan's names, paths and flags come from kwls_jax/workflow.py.
"""

import os
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

from kwls_jax import workflow as plan

min_version("9.0")


REPO = workflow.basedir  # runs from any --directory


# quick.yaml only when no --configfile is given: Snakemake would otherwise
# merge it into the experiment's config (its train overrides, its note).
if not workflow.overwrite_configfiles:

    configfile: os.path.join(REPO, "experiments", "quick.yaml")


config.update(plan.typed_config(config))  # --config's nested values
validate(config, "workflow/schemas/config.schema.yaml")

EXPERIMENT = config["experiment"]
WORK = plan.work_dir(config)
RUNS = plan.runs_dir(config)
RESULTS = f"results/{EXPERIMENT}"
REPORT = f"{WORK}/report"
DATA_DIR = config.get("data_dir") or os.environ.get("KWLS_DATA_DIR", "")
DATA_FLAG = f"--data-dir {DATA_DIR}" if DATA_DIR else ""
RETRIEVAL = plan.is_retrieval(config)  # Table 3: workflow/rules/retrieval.smk
ALL_RUNS = plan.report_inputs(config)  # committed records count as done
RECORDED = sum(p.startswith("results/") for p in ALL_RUNS)
if RECORDED:
    print(f"kwls: {RECORDED} of {len(ALL_RUNS)} runs recorded in "
          f"{plan.records_dir(config)} count as done", file=sys.stderr)

if not RETRIEVAL:
    DATASETS = {d["name"]: d for d in config["datasets"]}
    TRAIN_BASE = os.path.join(REPO, "experiments", "train_base.yaml")

    try:
        plan.check_before_any_job(config, DATA_DIR, TRAIN_BASE)
    except plan.PlanError as e:
        raise WorkflowError(str(e)) from None


wildcard_constraints:
    dataset="[A-Za-z0-9_]+",
    setting="[a-z]+[0-9]*",
    fold=r"\d+",
    seed=r"\d+",
    part="pool|test",
    method=r"[a-z]+(@[A-Za-z0-9_.+-]+)?",


rule all:
    input:
        os.path.join(WORK, "published"),


if RETRIEVAL:

    include: "workflow/rules/retrieval.smk"

else:

    include: "workflow/rules/data.smk"
    include: "workflow/rules/soft_labels.smk"
    include: "workflow/rules/train.smk"
    include: "workflow/rules/report.smk"
