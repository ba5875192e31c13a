"""`kwls reqa` is reachable from the `kwls` command."""

import subprocess
import sys


def test_kwls_lists_reqa():
  out = subprocess.run([sys.executable, "-m", "kwls_jax", "reqa", "--help"],
                       capture_output=True, text=True, check=True).stdout
  assert "build" in out and "bm25" in out and "ilr" in out
