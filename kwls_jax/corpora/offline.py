"""Fails fast, with a useful message, when a tfds download cannot work.

tfds retries an unreachable URL for minutes. Before a download we open one TCP
connection per host with a short timeout (`KWLS_PROBE_TIMEOUT`, default 3 s;
0 turns the check off) and raise `CorpusUnavailableError` when one fails.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from typing import Iterable, Sequence

from kwls_jax.corpora.errors import CorpusUnavailableError

DEFAULT_TIMEOUT_S = 3.0
TIMEOUT_ENV = "KWLS_PROBE_TIMEOUT"


def probe_timeout(timeout: float | None = None) -> float:
  """`timeout`, else $KWLS_PROBE_TIMEOUT, else 3 seconds."""
  if timeout is not None:
    return float(timeout)
  return float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S))


def endpoint(url: str) -> tuple[str, int]:
  """(host, port) a download of `url` connects to, honouring *_proxy vars."""
  parts = urllib.parse.urlsplit(url)
  scheme = parts.scheme or "https"
  proxy = urllib.request.getproxies().get(scheme)
  if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
    parts = urllib.parse.urlsplit(proxy if "//" in proxy else f"//{proxy}")
    return parts.hostname or "", parts.port or 8080
  return parts.hostname or "", parts.port or (443 if scheme == "https" else 80)


def _connect(host: str, port: int, timeout: float, out: dict) -> None:
  try:
    socket.create_connection((host, port), timeout=timeout).close()
    out[(host, port)] = None
  except OSError as e:
    out[(host, port)] = f"{e.__class__.__name__}: {e}"


def unreachable(urls: Iterable[str], timeout: float) -> list[str]:
  """`host:port (reason)` for each endpoint of `urls` that does not connect.

  Endpoints are tried in parallel daemon threads, so a slow DNS lookup (which
  `socket` does not time out) still costs at most about `timeout` seconds.
  """
  results: dict[tuple[str, int], str | None] = {}
  threads = []
  for host, port in sorted({endpoint(u) for u in urls}):
    t = threading.Thread(target=_connect, args=(host, port, timeout, results),
                         daemon=True)
    t.start()
    threads.append(((host, port), t))
  deadline = time.monotonic() + timeout + 0.5
  failed = []
  for (host, port), t in threads:
    t.join(max(0.0, deadline - time.monotonic()))
    reason = results.get((host, port), f"no answer within {timeout:g} s")
    if reason is not None:
      failed.append(f"{host}:{port} ({reason})")
  return failed


def how_to_use_local_copy(name: str, tfds_name: str,
                          manual_files: Sequence[str] = ()) -> str:
  """The advice shown when a corpus cannot be downloaded."""
  if manual_files:
    tfds_way = (
        f"Or put the original archive ({' or '.join(manual_files)}) in tfds' "
        "manual_dir: load_corpus(..., manual_dir=DIR) or "
        f"`tfds build {tfds_name} --manual_dir=DIR`.")
  else:
    tfds_way = (
        f"Or copy a prepared tfds dataset (`tfds build {tfds_name}` on a "
        f"machine with internet) into tfds_data_dir/{tfds_name}/; this "
        "catalog builder does not read a tfds manual_dir.")
  return (
      f"To use a local copy instead, put `{name}/<split>.jsonl.gz` (or "
      f"`.jsonl`) and `{name}/labels.json` in a folder and set "
      "KWLS_DATA_DIR=<folder> (workflow: --config data_dir=<folder>); each "
      "line is a JSON object with \"text\" and \"label\" (class id, or a list "
      "of ids), labels.json lists the class names in id order, as in "
      f"shared/datasets (see its README.md). {tfds_way}")


def check_downloadable(name: str, tfds_name: str, urls: Sequence[str],
                       timeout: float | None = None,
                       manual_files: Sequence[str] = ()) -> None:
  """Raises CorpusUnavailableError if a host of `urls` does not answer."""
  timeout = probe_timeout(timeout)
  if timeout <= 0 or not urls:
    return
  failed = unreachable(urls, timeout)
  if failed:
    raise CorpusUnavailableError(
        f"cannot download corpus {name!r} (tfds {tfds_name!r}): no connection "
        f"within {timeout:g} s to {'; '.join(failed)}. "
        + how_to_use_local_copy(name, tfds_name, manual_files))
