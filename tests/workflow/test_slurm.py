"""The workflow through profiles/slurm on a real one-node SLURM cluster
(tools/slurm_ci.sh, no accounting): the tiny experiment's table equals a local
run's, and a training job cancelled on the cluster resumes from its checkpoint."""

from __future__ import annotations

import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import types

import pytest

import tiny_experiment
from tiny_experiment import REPO

PROFILE = REPO / "profiles" / "slurm"
TRAIN = {"checkpoint_every": 2}  # a checkpoint before the pause at step 3
KWLS = "work/tiny/runs/tiny/balanced/fold0/seed0/textcnn/kwls"


def _snakemake(root, config, *extra, env, wait=True, timeout=900):
  """snakemake in its own process group, SIGKILLed after `timeout` s (the
  plugin's status loop can ignore SIGTERM)."""
  cmd = [sys.executable, "-m", "snakemake", "--snakefile",
         str(REPO / "Snakefile"), "--directory", str(root), "--configfile",
         str(config), *extra]
  proc = subprocess.Popen(cmd, env=tiny_experiment.env(**env),
                          start_new_session=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
  return _finish(proc, timeout) if wait else proc


def _finish(proc, timeout):
  try:
    out = proc.communicate(timeout=timeout)[0]
  except subprocess.TimeoutExpired:
    os.killpg(proc.pid, signal.SIGKILL)
    out = proc.communicate()[0]
    pytest.fail(f"snakemake killed after {timeout} s:\n{out[-3000:]}")
  return proc.returncode, out


def _on_cluster(root, config, wait=True, **env):
  return _snakemake(root, config, "--profile", str(PROFILE),
                    "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "5",
                    env=env, wait=wait)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
  """A one-node cluster, up while this module's tests run."""
  state = tmp_path_factory.mktemp("slurm")
  script = REPO / "tools" / "slurm_ci.sh"
  start = subprocess.run(["bash", str(script), "start", str(state)],
                         capture_output=True, text=True, timeout=900,
                         check=False)
  if start.returncode == 3:
    pytest.skip(f"no SLURM cluster: {start.stderr.strip()}")
  assert start.returncode == 0, start.stdout + start.stderr
  try:
    yield
  finally:
    subprocess.run(["bash", str(script), "stop", str(state)], timeout=120,
                   check=False)


@pytest.fixture(scope="module")
def local_table(tmp_path_factory):
  """table.csv of the tiny experiment run on this machine."""
  root = tmp_path_factory.mktemp("local")
  rc, out = _snakemake(root, tiny_experiment.config(root, [0], ["none", "kwls"],
                                                    **TRAIN),
                       "--cores", "2", env={})
  assert rc == 0, out[-3000:]
  return (root / "results" / "tiny" / "table.csv").read_bytes()


def _jobs() -> dict[str, dict[str, str]]:
  """{job id: scontrol's fields} of the cluster's jobs, finished ones too."""
  out = subprocess.run(["scontrol", "-o", "show", "job"], capture_output=True,
                       text=True, check=True).stdout
  jobs = {}
  for line in out.splitlines():
    fields = dict(re.findall(r"(\S+?)=(.*?)(?= \S+?=|$)", line))
    if "JobId" in fields:
      jobs[fields["JobId"]] = fields
  return jobs


def test_the_cluster_run_writes_the_local_table(tmp_path, cluster,
                                                local_table):
  before = set(_jobs())
  config = tiny_experiment.config(tmp_path, [0], ["none", "kwls"], **TRAIN)
  rc, out = _on_cluster(tmp_path, config)
  assert rc == 0, out[-3000:]
  assert (tmp_path / "results/tiny/table.csv").read_bytes() == local_table
  trains = [j for i, j in _jobs().items() if i not in before
            and "rule_train" in j.get("Comment", "")]
  assert len(trains) == 2, out[-3000:]
  for job in trains:  # CPU training: a CPU partition, no GPU, its threads
    assert job["Partition"] == "cpu" and "gpu" not in job["TRES"]
    assert job["NumCPUs"] == "8"
  md = (tmp_path / "results" / "tiny" / "table.md").read_text()
  command = shlex.split(md.split("- command: `")[1].split("`\n")[0])
  assert command[1:3] == ["--profile", "profiles/slurm"]


def test_a_cancelled_job_resumes_from_its_checkpoint(tmp_path, cluster,
                                                     local_table):
  config = tiny_experiment.config(tmp_path, [0], ["none", "kwls"], **TRAIN)
  hooks = str(REPO / "tests" / "hooks") + os.pathsep + os.environ.get(
      "PYTHONPATH", "")
  proc = _on_cluster(tmp_path, config, wait=False,
                     KWLS_TRAIN_TEST_PAUSE="kwls:3", PYTHONPATH=hooks)
  try:
    deadline = time.time() + 600
    while (time.time() < deadline and proc.poll() is None
           and not (tmp_path / KWLS / "PAUSED").exists()):
      time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()[0][-3000:]
    assert (tmp_path / KWLS / "PAUSED").exists(), "the kwls run never paused"
    logs = list((tmp_path / ".snakemake" / "slurm_logs" / "rule_train").glob(
        "*_kwls/*.log"))  # the plugin's log of the job: <job id>.log
    assert len(logs) == 1 and _jobs()[logs[0].stem]["JobState"] == "RUNNING"
    subprocess.run(["scancel", logs[0].stem], check=True)
    rc, out = _finish(proc, 300)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert rc != 0 and not (tmp_path / KWLS / "final.json").exists(), out[-3000:]
  rc, out = _on_cluster(tmp_path, config)
  assert rc == 0, out[-3000:]
  final = (tmp_path / KWLS / "final.json").read_text()
  assert '"resumed_from_step": 2' in final
  assert (tmp_path / "results/tiny/table.csv").read_bytes() == local_table


def test_only_bert_training_asks_for_a_gpu(tmp_path):
  """The partition the plugin picks from partitions.yaml for each training
  job of the plan: a GPU one for BERT, a CPU one for TextCNN and the LSTM."""
  partitions = pytest.importorskip("snakemake_executor_plugin_slurm.partitions")
  config = tiny_experiment.config(tmp_path, [0], ["none"])
  text = config.read_text().replace('["textcnn"]', '["textcnn", "lstm", "bert"]')
  config.write_text(text)
  rc, out = _snakemake(tmp_path, config, "--profile", str(PROFILE), "-n",
                       env={}, timeout=300)
  assert rc == 0, out[-3000:]
  choices = {}
  for block in out.split("rule train:")[1:]:
    model = block.split("model=")[1].split(",")[0]
    res = dict(kv.split("=", 1) for kv in
               block.split("resources: ")[1].split("\n")[0].split(", "))
    job = types.SimpleNamespace(resources=res, threads=1, name="train")
    choices[model] = res.get("slurm_partition") or partitions.get_best_partition(
        partitions.read_partition_file(PROFILE / "partitions.yaml"), job,
        logging.getLogger("slurm"))
    assert "slurm_extra" not in res  # the plugin refuses --gres there
  assert choices == {"textcnn": "cpu", "lstm": "cpu", "bert": "gpu"}
