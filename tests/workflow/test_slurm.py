"""The workflow through profiles/slurm on a real one-node SLURM cluster
(tools/slurm_ci.sh, no accounting): the tiny experiment's table equals a local
run's, and a training job cancelled on the cluster resumes from its checkpoint.

One cluster run serves both: the cancel test removes the record of its kwls
run, so that a rerun trains that run alone, and cancels it there."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import pathlib
import re
import shlex
import shutil
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
RUN = "tiny/balanced/fold0/seed0/textcnn/kwls"
KWLS = f"work/tiny/runs/{RUN}"  # the kwls run's directory
KWLS_RECORD = f"results/tiny/runs/{RUN}"  # its record
TABLE = "results/tiny/table.csv"


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
  """A run through the profile. It polls with squeue (the cluster keeps no
  accounting), 1 s after a poll that sees a job finish; the plugin adds 10 s
  to the interval after each poll that sees none."""
  return _snakemake(root, config, "--profile", str(PROFILE),
                    "--slurm-status-command", "squeue",
                    "--slurm-init-seconds-before-status-checks", "1",
                    env=env, wait=wait)


def _config(root):
  return tiny_experiment.config(root, [0], ["none", "kwls"], **TRAIN)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
  """A one-node cluster, up while this module's tests run. Where it can, it
  first leaves a dangling /etc/slurm/slurm.conf, as a killed run does, which
  the start must replace."""
  state = tmp_path_factory.mktemp("slurm")
  script = REPO / "tools" / "slurm_ci.sh"
  conf = pathlib.Path("/etc/slurm/slurm.conf")
  planted = state / "gone" / "slurm.conf"
  if os.geteuid() == 0 and not conf.is_symlink() and not conf.exists():
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.symlink_to(planted)
  start = subprocess.run(["bash", str(script), "start", str(state)],
                         capture_output=True, text=True, timeout=900,
                         check=False)
  if start.returncode == 3:
    if conf.is_symlink() and conf.readlink() == planted:
      conf.unlink()  # a start that gave up before replacing it
    pytest.skip(f"no SLURM cluster: {start.stderr.strip()}")
  assert start.returncode == 0, start.stdout + start.stderr
  try:
    yield
  finally:
    subprocess.run(["bash", str(script), "stop", str(state)], timeout=120,
                   check=False)


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


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cluster):
  """The tiny experiment run on the cluster and, meanwhile (the cluster run
  mostly waits), on this machine: the local table.csv, and the cluster run's
  directory, config, exit status, output and SLURM jobs as it finished."""
  local = tmp_path_factory.mktemp("local")
  with concurrent.futures.ThreadPoolExecutor(1) as pool:
    local_run = pool.submit(_snakemake, local, _config(local), "--cores", "2",
                            env={})
    root = tmp_path_factory.mktemp("cluster")
    config = _config(root)
    before = set(_jobs())
    rc, out = _on_cluster(root, config)
    jobs = {i: j for i, j in _jobs().items() if i not in before}
    local_rc, local_out = local_run.result()
  assert local_rc == 0, local_out[-3000:]
  return types.SimpleNamespace(
      local_table=(local / TABLE).read_bytes(), root=root, config=config,
      rc=rc, out=out, jobs=jobs)


def test_the_cluster_run_writes_the_local_table(runs):
  assert runs.rc == 0, runs.out[-3000:]
  assert (runs.root / TABLE).read_bytes() == runs.local_table
  trains = [j for j in runs.jobs.values()
            if "rule_train" in j.get("Comment", "")]
  assert len(trains) == 2, runs.out[-3000:]
  for job in trains:  # CPU training: a CPU partition, no GPU, its threads
    assert job["Partition"] == "cpu" and "gpu" not in job["TRES"]
    assert job["NumCPUs"] == "8"
  md = (runs.root / "results" / "tiny" / "table.md").read_text()
  command = shlex.split(md.split("- command: `")[1].split("`\n")[0])
  assert command[1:3] == ["--profile", "profiles/slurm"]


def test_a_cancelled_job_resumes_from_its_checkpoint(runs):
  """The cluster run's kwls run trains again (its record and run directory
  removed, the table too), is cancelled after update 3 and resumes."""
  assert runs.rc == 0, runs.out[-3000:]
  root, config = runs.root, runs.config
  shutil.rmtree(root / KWLS_RECORD)
  shutil.rmtree(root / KWLS)
  (root / TABLE).unlink()
  slurm_logs = root / ".snakemake" / "slurm_logs" / "rule_train"
  old_logs = set(slurm_logs.glob("*/*.log"))
  hooks = str(REPO / "tests" / "hooks") + os.pathsep + os.environ.get(
      "PYTHONPATH", "")
  proc = _on_cluster(root, config, wait=False,
                     KWLS_TRAIN_TEST_PAUSE="kwls:3", PYTHONPATH=hooks)
  try:
    deadline = time.time() + 600
    while (time.time() < deadline and proc.poll() is None
           and not (root / KWLS / "PAUSED").exists()):
      time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()[0][-3000:]
    assert (root / KWLS / "PAUSED").exists(), "the kwls run never paused"
    # The plugin's logs of the rerun's training jobs, <wildcards>/<job id>.log:
    # one, the kwls run's.
    logs = sorted(set(slurm_logs.glob("*/*.log")) - old_logs)
    assert [p.parent.name for p in logs] == [
        "tiny_balanced_0_0_textcnn_kwls"], logs
    job = logs[0].stem
    assert _jobs()[job]["JobState"] == "RUNNING"
    subprocess.run(["scancel", job], check=True)
    rc, out = _finish(proc, 300)
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
  assert rc != 0 and not (root / KWLS / "final.json").exists(), out[-3000:]
  rc, out = _on_cluster(root, config)
  assert rc == 0, out[-3000:]
  final = (root / KWLS / "final.json").read_text()
  assert '"resumed_from_step": 2' in final
  assert (root / TABLE).read_bytes() == runs.local_table


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
