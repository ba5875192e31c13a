"""Where a number came from: command, commit, data and machine."""

from __future__ import annotations

import datetime
import hashlib
import os
import platform
import subprocess
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git_commit(repo: str | None = None) -> str:
  """HEAD's hash, with "+dirty" when tracked code has changes; "" outside git.

  By default the checkout this package lives in, wherever the command runs.
  Changes under results/ do not count: that is where reports write (and
  Snakemake removes a job's outputs before rerunning it).
  """
  repo = repo or _REPO
  try:
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, check=True,
                          capture_output=True, text=True,
                          timeout=10).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "-uno", "--", ".", ":!results"],
        cwd=repo, check=True, capture_output=True, text=True,
        timeout=10).stdout.strip()
  except (OSError, subprocess.SubprocessError):
    return ""
  return head + ("+dirty" if dirty else "")


def cpu_model() -> str:
  """The CPU's model name from /proc/cpuinfo, else what `platform` knows."""
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or platform.machine()


def machine() -> str:
  """CPU model, cores, memory, OS, Python and the accelerator JAX sees, if loaded."""
  mem = ""
  try:
    pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    mem = f", {pages * size / 2**30:.1f} GiB RAM"
  except (ValueError, OSError):
    pass
  text = (f"{cpu_model()}, {os.cpu_count()} cores{mem}, {platform.system()} "
          f"{platform.machine()}, Python {platform.python_version()}")
  if "jax" in sys.modules:
    jax = sys.modules["jax"]
    text += f", jax {jax.__version__} on {jax.devices()[0].device_kind}"
  return text


def sha256(path: str, length: int = 12) -> str:
  """The first `length` hex digits of the file's SHA-256."""
  h = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      h.update(block)
  return h.hexdigest()[:length]


def header(command: str, data: list[str]) -> str:
  """A Markdown block naming the command, commit, data and machine."""
  lines = [
      f"- command: `{command}`",
      f"- commit: `{git_commit() or 'unknown'}`",
      f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}",
      f"- machine: {machine()}",
  ]
  lines += [f"- data: `{d}` (sha256 {sha256(d)})" for d in data
            if os.path.exists(d)]
  return "\n".join(lines) + "\n"
