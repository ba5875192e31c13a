"""Which code produced a number: the commit of the package's own checkout."""

from __future__ import annotations

import os
import subprocess

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def git_commit(repo: str | None = None) -> str:
  """HEAD's hash, with "+dirty" when tracked code has changes; "" outside git.

  By default the checkout this package lives in, wherever the command runs.
  Changes under results/ do not count: that is where reports write (and
  Snakemake removes a job's old outputs before rerunning it).
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
