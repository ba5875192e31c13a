"""The Snakemake workflow end to end on a tiny corpus: tables match their runs,
and a run killed midway finishes, when started again, with the same table."""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tiny_experiment
from tiny_experiment import REPO, config as _config, table as _table

_WITH_SIGINT = ("import runpy, signal; "
                "signal.signal(signal.SIGINT, signal.default_int_handler); "
                "runpy.run_module('snakemake', run_name='__main__', "
                "alter_sys=True)")


def _snakemake(root, config, *extra, wait=True, env=None):
  env = tiny_experiment.env(**(env or {}))
  cmd = [sys.executable, "-m", "snakemake", "--snakefile",
         str(REPO / "Snakefile"), "--directory", str(root), "--configfile",
         str(config), "--cores", "2", "all", *extra]
  if not wait:
    # Ctrl-C must reach the workflow as in a terminal, even where this test
    # runs with SIGINT ignored (a shell's background job inherits SIG_IGN):
    # snakemake starts with Python's own SIGINT handler, which its jobs, once
    # exec'd, see as the default.
    cmd[1:3] = ["-c", _WITH_SIGINT]
    return subprocess.Popen(cmd, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
  proc = subprocess.run(cmd, env=env, capture_output=True, text=True,
                        timeout=600, check=False)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc


def test_tables_match_their_run_directories(tmp_path):
  config = _config(tmp_path, [0, 1], ["none", "kwls", "distill"])
  _snakemake(tmp_path, config, "--config", "note=it's tiny")
  rows = _table(tmp_path)
  assert [r["method"] for r in rows] == ["none", "distill", "kwls"]
  for row in rows:
    runs = row["runs"].split(";")
    assert len(runs) == 2  # two folds
    accs = []
    for run in runs:
      meta = json.loads((tmp_path / run / "run.json").read_text())
      assert meta["method"] == row["method"] and meta["dataset"] == "tiny"
      final = json.loads((tmp_path / run / "final.json").read_text())
      accs.append(100 * final["test"]["accuracy"])
    assert float(row["mean"]) == pytest.approx(np.mean(accs))
    assert float(row["std"]) == pytest.approx(np.std(accs, ddof=1))
    assert [float(v) for v in row["values"].split(";")] == pytest.approx(
        accs, abs=1e-4)
  md = (tmp_path / "results" / "tiny" / "table.md").read_text()
  assert "- commit:" in md and "- machine:" in md
  # The command that reruns it: the config file given (not one of
  # experiments/) and the --config values, quotes and all.
  command = shlex.split(md.split("- command: `")[1].split("`\n")[0])
  assert command[command.index("--configfile") + 1] == str(config)
  assert command[command.index("--config") + 1:] == ["note=it's tiny"]
  # LS-Distill learnt from its teacher, the same fold's original model.
  distill = [r for r in rows if r["method"] == "distill"][0]["runs"].split(";")
  cfg = json.loads((tmp_path / distill[0] / "config.json").read_text())
  assert cfg["teacher_run"].endswith(
      distill[0].replace("distill", "none").replace("results/", "work/"))
  # Each run is recorded in results/tiny/runs/, without its predictions
  # and checkpoints; the teacher alone saved its training-set predictions.
  records = sorted((tmp_path / "results" / "tiny" / "runs").rglob("final.json"))
  assert len(records) == 6 and all(r["runs"].startswith("results/tiny/runs/")
                                   for r in rows)
  assert not list((tmp_path / "results").rglob("*.npy"))
  work_runs = tmp_path / "work" / "tiny" / "runs"
  assert {p.parts[-3] for p in work_runs.rglob("train_probs.npy")} == {"none"}
  # A fresh checkout has the records but no work/: they count as done, and
  # the report made from them alone is the same.
  before = (tmp_path / "results" / "tiny" / "table.csv").read_text()
  shutil.rmtree(tmp_path / "work")
  (tmp_path / "results" / "tiny" / "table.csv").unlink()
  assert "train" not in _planned_jobs(tmp_path, config)
  proc = _snakemake(tmp_path, config, "--config", "note=it's tiny")
  assert "6 of 6 runs recorded" in proc.stderr
  assert (tmp_path / "results" / "tiny" / "table.csv").read_text() == before


def test_killed_run_finishes_with_the_same_table(tmp_path):
  whole, broken = tmp_path / "whole", tmp_path / "broken"
  whole.mkdir()
  broken.mkdir()
  _snakemake(whole, _config(whole, [0], ["none", "kwls"]))
  config = _config(broken, [0], ["none", "kwls"])
  # The none run goes first (--prioritize); the kwls run then pauses after
  # its 3rd update (a minute at most), and Ctrl-C lands in its training.
  runs = broken / "work" / "tiny" / "runs"
  first = "work/tiny/runs/tiny/balanced/fold0/seed0/textcnn/none/final.json"
  # tests/hooks/sitecustomize.py, on the jobs' PYTHONPATH, does the pausing.
  hooks = os.pathsep.join(filter(None, [str(REPO / "tests" / "hooks"),
                                        os.environ.get("PYTHONPATH")]))
  proc = _snakemake(broken, config, "--prioritize", first, wait=False,
                    env={"KWLS_TRAIN_TEST_PAUSE": "kwls:3",
                         "PYTHONPATH": hooks})
  deadline = time.time() + 300
  while (time.time() < deadline and proc.poll() is None
         and not (list(runs.rglob("PAUSED")) and
                  list(runs.rglob("none/final.json")))):
    time.sleep(0.2)
  assert proc.poll() is None, "the workflow ended before it could be killed"
  assert [p.parent.name for p in runs.rglob("PAUSED")] == ["kwls"]
  assert [p.parent.name for p in runs.rglob("final.json")] == ["none"]
  done = list(runs.rglob("final.json"))
  stamp = {p: p.stat().st_mtime_ns for p in done}
  os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal
  proc.wait(timeout=120)
  assert proc.returncode != 0
  assert not (broken / "results" / "tiny" / "table.md").exists()
  assert not (broken / "work" / "tiny" / "published").exists()
  _snakemake(broken, config)  # started again: only the remaining jobs run
  assert {p: p.stat().st_mtime_ns for p in done} == stamp
  strip = lambda rows: [{k: v for k, v in r.items() if k != "runs"}
                        for r in rows]
  assert strip(_table(broken)) == strip(_table(whole))


def _has_reqa_command(name: str) -> bool:
  """Whether `kwls reqa NAME` exists."""
  from kwls_jax import cli  # pylint: disable=g-import-not-at-top
  def commands(parser):
    return next(a.choices for a in parser._actions  # pylint: disable=protected-access
                if isinstance(a, argparse._SubParsersAction))  # pylint: disable=protected-access
  return name in commands(commands(cli.build_parser())["reqa"])


def test_retrieval_workflow_tables_its_runs_and_baselines(tmp_path):
  """task: retrieval, one fold: the benchmark, the original model and its
  LS-Distill student, BM25, and a table whose cells are their numbers. KWLS
  and ILR join where their code (retrieval/soft.py, `kwls reqa ilr`) is."""
  methods = ["none", "distill"] + (
      ["kwls"] if importlib.util.find_spec("kwls_jax.retrieval.soft") else [])
  baselines = ["bm25"] + (["ilr"] if _has_reqa_command("ilr") else [])
  config = tiny_experiment.reqa_config(tmp_path, methods, baselines)
  _snakemake(tmp_path, config)
  results = tmp_path / "results" / "tinyreqa"
  with open(results / "table.csv", encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
  assert {(r["model"], r["method"]) for r in rows} == {
      *(("textcnn", m) for m in methods), *(("zero-shot", b) for b in baselines)}
  for row in rows:
    (source,) = row["runs"].split(";")  # one fold
    if row["model"] == "zero-shot":
      got = json.loads((tmp_path / source).read_text())
    else:
      meta = json.loads((tmp_path / source / "run.json").read_text())
      assert meta["method"] == row["method"] and meta["fold"] == 0
      got = json.loads((tmp_path / source / "final.json").read_text())["test"]
      assert got["candidates"] == 64  # the whole pool: 8 articles' sentences
    assert float(row["mean"]) == pytest.approx(got[row["metric"]])
    assert got["queries"] == 32  # fold 0: 2 articles of 16 questions
  md = (results / "table.md").read_text()
  assert "SQuAD v1.1 dev only" in md and "4 folds by article" in md
  assert "## Gain over the original model" in md
  with open(results / "comparisons.csv", encoding="utf-8") as f:
    comps = {(r["metric"], r["other"]) for r in csv.DictReader(f)}
  assert comps == {(m, o) for m in ("R@1", "R@10", "R@50", "R@100", "MRR")
                   for o in set(methods) - {"kwls"} if "kwls" in methods}
  distill = next(r for r in rows if r["method"] == "distill")["runs"]
  cfg = json.loads((tmp_path / distill / "config.json").read_text())
  assert cfg["teacher_run"] == distill.replace("distill", "none").replace(
      "results/", "work/")
  # The table reads the runs' records, which hold no reliability bins (a
  # ranker has no class probabilities); without work/'s runs they count as
  # done.
  records = results / "runs" / "squad" / "reqa" / "fold0" / "seed0" / "textcnn"
  assert {p.parent.name for p in records.rglob("final.json")} == set(methods)
  assert not list(records.rglob("reliability.json"))
  shutil.rmtree(tmp_path / "work" / "tinyreqa" / "runs")
  assert "train" not in _planned_jobs(tmp_path, config)


def _planned_jobs(root, config, *args) -> dict[str, int]:
  """Snakemake's plan (--dry-run): jobs per rule."""
  proc = _snakemake(root, config, "--dry-run", *args)
  stats = proc.stdout.split("Job stats:")[1].split("total")[0]
  return {line.split()[0]: int(line.split()[1]) for line in stats.splitlines()
          if len(line.split()) == 2 and line.split()[1].isdigit()}


def test_sweep_plans_one_run_per_combination(tmp_path):
  config = _config(tmp_path, [0], ["none", "distill", "kwls", "tfidf"])
  cfg = json.loads(config.read_text())
  cfg["sweep"] = {"k1": [1.2, 2.0], "b": [0.75], "alpha": [0.5, 1.0, 2.0]}
  config.write_text(json.dumps(cfg))
  jobs = _planned_jobs(tmp_path, config)
  # kwls and tfidf: 2 (k1) x 3 (alpha) each; none and distill once.
  assert jobs["train"] == 2 * 2 * 3 + 2
  # Soft labels do not depend on alpha: 2 (k1) each for kwls and tfidf.
  assert jobs["soft_labels"] == 2 * 2
  # The same sweep, and two seeds, given on the command line: Snakemake
  # hands nested --config values over as strings.
  del cfg["sweep"]
  config.write_text(json.dumps(cfg))
  jobs = _planned_jobs(tmp_path, config, "--config", "seeds=[0, 1]",
                       "sweep={k1: [1.2, 2], b: [0.75], alpha: [0.5, 1, 2]}")
  assert jobs["train"] == 2 * (2 * 2 * 3 + 2)
  cfg["sweep"] = {"k1": [-1.0]}
  config.write_text(json.dumps(cfg))
  env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep +
             os.environ.get("PATH", ""))
  bad = subprocess.run(
      [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
       "--directory", str(tmp_path), "--configfile", str(config), "-n"],
      env=env, capture_output=True, text=True, check=False)
  assert bad.returncode != 0 and "k1" in bad.stdout + bad.stderr  # schema


def test_an_experiment_config_is_not_merged_with_quick(tmp_path):
  """--configfile replaces the default experiment (quick.yaml), not extends it."""
  config = _config(tmp_path, [0], ["none"])
  cfg = json.loads(config.read_text())
  del cfg["train"]
  config.write_text(json.dumps(cfg))
  plan = _snakemake(tmp_path, config, "--dry-run").stdout
  assert "model.embed_dim=" not in plan  # quick.yaml's train overrides
  assert "--note" not in plan  # quick.yaml's note


def _readme_experiments() -> dict[str, int]:
  """{config file: runs} from the table of experiments in docs/workflow.md."""
  rows = {}
  for line in (REPO / "docs" / "workflow.md").read_text(encoding="utf-8").splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) == 3 and cells[0].startswith("`") and ".yaml`" in cells[0]:
      rows[cells[0].split("`")[1]] = int(cells[2].replace(",", ""))
  return rows


def test_every_experiment_plans_the_runs_the_docs_say(tmp_path):
  """Each experiments/*.yaml validates, builds its DAG, and trains as many
  runs as the docs' table says (and every config is in that table)."""
  table = _readme_experiments()
  files = sorted(p.name for p in (REPO / "experiments").glob("*.yaml")
                 if not p.name.startswith("train_"))  # `kwls train` configs
  assert sorted(table) == files

  def plan(name):
    root = tmp_path / name.removesuffix(".yaml")
    root.mkdir()
    return _planned_jobs(root, REPO / "experiments" / name)

  with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
    for name, jobs in zip(files, pool.map(plan, files)):
      assert jobs["train"] == table[name], name


def test_figure2_labels_tell_the_runs_apart(tmp_path):
  """Figure 2's legend names each run by what sets it apart from the others
  (here model and method), so no two runs share a label."""
  config = _config(tmp_path, [0], ["none", "kwls"])
  cfg = json.loads(config.read_text())
  cfg.update(figure2=True, models=["textcnn", "lstm"])
  config.write_text(json.dumps(cfg))
  plan = _snakemake(tmp_path, config, "--dry-run", "--printshellcmds").stdout
  line = next(l for l in plan.splitlines() if "kwls_jax.reporting.report" in l)
  words = shlex.split(line.split("Shell command:", 1)[-1])
  items = []
  for word in words[words.index("--figure2") + 1:]:
    if word.startswith("--"):
      break
    items.append(word.split("=", 1))
  assert sorted(label for label, _ in items) == [
      "lstm/kwls", "lstm/none", "textcnn/kwls", "textcnn/none"]
  for label, run in items:
    assert run.endswith("/fold0/seed0/" + label)


def _dry_run_error(root, config, *extra) -> str:
  """The output of a dry run that must fail."""
  env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep +
             os.environ.get("PATH", ""))
  proc = subprocess.run(
      [sys.executable, "-m", "snakemake", "--snakefile",
       str(REPO / "Snakefile"), "--directory", str(root), "--configfile",
       str(config), "-n", *extra],
      env=env, capture_output=True, text=True, check=False)
  assert proc.returncode != 0, proc.stdout[-2000:]
  return proc.stdout + proc.stderr


@pytest.mark.parametrize("change, message", [
    ({"train": {"epoch": 3}}, "unknown field(s) ['epoch']"),
    ({"train": {"smoothing.b": 2}}, "smoothing.b must lie in [0, 1]"),
    ({"datasets": [{"name": "imbd", "pool": "train", "test": "test"}]},
     "'imbd' is neither a labelled corpus we know"),
    ({"data_dir": "/no/such/folder"}, "'/no/such/folder' is not a folder"),
    # Settings that would train on the wrong data under their name: tiny has
    # classes 0 to 2 (under3 would keep every row), and agc/agm are AG News's.
    ({"settings": ["balanced", "under3"]},
     "datasets: 'tiny': setting 'under3': class 3 does not exist"),
    ({"settings": ["agc1"]}, "datasets: 'tiny': setting 'agc1': defined on AG News"),
    ({"datasets": [{"name": "imdb", "pool": "train", "test": "test",
                    "settings": ["agm10"]}]},
     "datasets: 'imdb': setting 'agm10': defined on AG News"),
])
def test_mistakes_stop_the_plan_before_any_job(tmp_path, change, message):
  """What `kwls train` or `kwls corpus` would refuse hours in is refused by
  the dry run, naming the key."""
  config = _config(tmp_path, [0], ["none", "distill"])
  cfg = json.loads(config.read_text())
  cfg.update(change)
  config.write_text(json.dumps(cfg))
  assert message in _dry_run_error(tmp_path, config)


def test_train_values_reach_kwls_train_as_json(tmp_path):
  """YAML true and lists become JSON for `--set` (Python's True would reach
  the trainer as the string 'True', which it refuses)."""
  config = _config(tmp_path, [0], ["none"])
  cfg = json.loads(config.read_text())
  cfg["train"].update({"two_head": True, "wandb.tags": ["a", "it's"]})
  config.write_text(json.dumps(cfg))
  plan = _snakemake(tmp_path, config, "--dry-run", "--printshellcmds").stdout
  line = next(l for l in plan.splitlines() if "kwls train" in l)
  words = shlex.split(line.split("Shell command:", 1)[-1])
  sets = [words[i + 1] for i, w in enumerate(words) if w == "--set"]
  assert "two_head=true" in sets
  assert 'wandb.tags=["a", "it\'s"]' in sets
  from kwls_jax.training import config as train_config  # pylint: disable=g-import-not-at-top
  c = train_config.load(REPO / "experiments" / "train_base.yaml", sets)
  assert c.two_head is True and c.wandb.tags == ["a", "it's"]


def test_the_smoke_config_plans_its_60_runs(tmp_path):
  """tools/workflow_smoke.yaml (every model x method x kind of setting) stays
  a valid plan of the 60 runs its header promises."""
  jobs = _planned_jobs(tmp_path, REPO / "tools" / "workflow_smoke.yaml")
  assert jobs["train"] == 60 and jobs["soft_labels"] == 12


# Lints of `snakemake --lint` the workflow keeps, and why.
ACCEPTED_LINTS = {
    # One environment for every rule: the kwls-jax package (pyproject.toml),
    # which the rules call as `kwls ...`; a conda file per rule would repeat it.
    "Specify a conda environment or container for each rule",
    # In params these would change the rules' shell templates, which Snakemake
    # compares with what every finished job recorded (rerun trigger "code"):
    # each corpus, and with it each subset, soft label and run, would be redone.
    "Shell command directly uses variable DATA_FLAG from outside of the rule",
    "Shell command directly uses variable TRAIN_BASE from outside of the rule",
    # publish only copies the report to results/; a failed copy belongs on
    # the terminal.
    "No log directive defined",
}


@pytest.mark.parametrize("configfile", [
    [],  # quick.yaml: the classification rules
    ["--configfile", str(REPO / "experiments" / "table3.yaml")],  # retrieval
])
def test_lint_flags_only_what_is_accepted(tmp_path, configfile):
  env = {k: v for k, v in os.environ.items() if k != "KWLS_DATA_DIR"}
  env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
  proc = subprocess.run(
      [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
       "--directory", str(tmp_path), *configfile, "--lint"],
      env=env, capture_output=True, text=True, check=False)
  out = proc.stdout + proc.stderr
  assert "Lints for rule train" in out, out[-3000:]  # the linter ran
  lints = {line.strip()[2:].rstrip(".:") for line in out.splitlines()
           if line.startswith("    * ")}
  assert lints - ACCEPTED_LINTS == set()
