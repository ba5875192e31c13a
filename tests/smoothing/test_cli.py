"""`kwls soft-labels` and `kwls explain`: the contract other tools call."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys

import numpy as np
import pytest

import kwls_jax
from kwls_jax import cli
from reference_kwls import reference_soft_labels


def _write(path, rows, labels_json=None):
  opener = gzip.open if str(path).endswith(".gz") else open
  with opener(path, "wt", encoding="utf-8") as f:
    for r in rows:
      f.write(json.dumps(r) + "\n")
  if labels_json is not None:
    (path.parent / "labels.json").write_text(json.dumps(labels_json))
  return path


ROWS = [{"text": "the cat sat on the mat", "label": 0},
        {"text": "stocks fell as markets slid", "label": 1},
        {"text": "the dog chased the cat", "label": 0},
        {"text": "markets rallied, stocks rose", "label": 1},
        {"text": "", "label": 2}]


def _soft_labels_of(tmp_path, rows, *flags):
  inp = _write(tmp_path / "train.jsonl.gz", rows)
  out = tmp_path / "out" / "soft.npy"
  assert cli.main(["soft-labels", str(inp), "--out", str(out), *flags]) == 0
  assert [p.name for p in out.parent.iterdir()] == ["soft.npy"]  # no temp file
  got = np.load(out)
  assert got.dtype == np.float32
  return got


@pytest.mark.parametrize("method", ["kwls", "tfidf"])
def test_soft_labels_file_matches_reference(tmp_path, method):
  got = _soft_labels_of(tmp_path, ROWS, "--method", method, "--tokenizer",
                        "whitespace", "--k1", "1.5", "--b", "0.5", "--k2",
                        "3")
  want = reference_soft_labels([r["text"] for r in ROWS],
                               [r["label"] for r in ROWS], method,
                               "whitespace", k1=1.5, b=0.5, k2=3.0)
  np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
  np.testing.assert_allclose(got[4], 1 / 3)  # the empty text


def test_classic_soft_labels_file(tmp_path):
  got = _soft_labels_of(tmp_path, ROWS, "--method", "classic", "--epsilon",
                        "0.3")
  # (1 - 0.3) * one-hot + 0.3 / 3
  want = np.full((5, 3), 0.1)
  want[[0, 1, 2, 3, 4], [0, 1, 0, 1, 2]] = 0.8
  np.testing.assert_allclose(got, want, rtol=1e-6)


def test_num_labels_from_labels_json_and_flag(tmp_path):
  inp = _write(tmp_path / "train.jsonl", ROWS, ["a", "b", "c", "d", "e"])
  out = tmp_path / "soft.npy"
  assert cli.main(["soft-labels", str(inp), "--out", str(out)]) == 0
  assert np.load(out).shape == (5, 5)
  other = _write(tmp_path / "x" / "t.jsonl", ROWS) if (tmp_path / "x").mkdir(
  ) is None else None
  assert cli.main(["soft-labels", str(other), "--out", str(out),
                   "--num-labels", "4"]) == 0
  assert np.load(out).shape == (5, 4)


def test_multi_label_input(tmp_path):
  rows = ROWS[:4] + [{"text": "cat markets", "label": [0, 1]}]
  inp = _write(tmp_path / "t.jsonl", rows)
  out = tmp_path / "soft.npy"
  assert cli.main(["soft-labels", str(inp), "--out", str(out)]) == 0
  multi_hot = np.zeros((5, 2), bool)
  multi_hot[[0, 1, 2, 3, 4, 4], [0, 1, 0, 1, 0, 1]] = True
  want = reference_soft_labels([r["text"] for r in rows], multi_hot)
  np.testing.assert_allclose(np.load(out), want, rtol=0, atol=1e-6)


def test_bad_input_is_one_line_naming_file_and_line(tmp_path, capsys):
  rows = [json.dumps(r) for r in ROWS[:2]] + ['{"text": "x", "label": 7}']
  inp = tmp_path / "bad.jsonl"
  inp.write_text("\n".join(rows) + "\n")
  (tmp_path / "labels.json").write_text('["a", "b", "c"]')
  code = cli.main(["soft-labels", str(inp), "--out", str(tmp_path / "o.npy")])
  err = capsys.readouterr().err.strip()
  assert code == 2
  assert len(err.splitlines()) == 1 and f"{inp}:3:" in err
  assert not (tmp_path / "o.npy").exists()


def test_explain_prints_keywords_and_contributions(tmp_path, capsys):
  inp = _write(tmp_path / "t.jsonl", ROWS, ["pets", "finance", "empty"])
  assert cli.main(["explain", str(inp), "--top", "3", "--instance", "1"]) == 0
  out = capsys.readouterr().out
  assert "pets:" in out and "finance:" in out
  assert "# instance 1" in out and "stocks" in out
  assert "argmax is their own label" in out
  assert [l.split()[0] for l in out.splitlines() if l.endswith("%") or
          l.endswith(" -")] == ["pets", "finance", "empty"]
  assert cli.main(["explain", str(inp), "--instance", "9"]) == 2
  assert "out of range" in capsys.readouterr().err


def test_console_script_process(tmp_path):
  inp = _write(tmp_path / "t.jsonl", ROWS)
  out = tmp_path / "soft.npy"
  proc = subprocess.run(
      [sys.executable, "-m", "kwls_jax.cli", "soft-labels", str(inp), "--out",
       str(out)], capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stderr
  assert np.load(out).shape == (5, 3)
  missing = subprocess.run(
      [sys.executable, "-m", "kwls_jax.cli", "soft-labels",
       str(tmp_path / "nope.jsonl"), "--out", str(out)],
      capture_output=True, text=True, check=False)
  assert missing.returncode == 2 and "nope.jsonl" in missing.stderr
  # `python -m kwls_jax` is the same command, exit status included.
  bad = subprocess.run(
      [sys.executable, "-m", "kwls_jax", "soft-labels",
       str(tmp_path / "nope.jsonl"), "--out", str(out)],
      capture_output=True, text=True, check=False)
  assert bad.returncode == 2 and "nope.jsonl" in bad.stderr


@pytest.mark.parametrize("flag, value, message", [
    ("--k1", "nan", "k1 must be a finite number > 0, got nan"),
    ("--k1", "-1", "k1 must be a finite number > 0, got -1.0"),
    ("--b", "2", "b must lie in [0, 1], got 2.0"),
    ("--k2", "-2", "k2 must be a finite number > 0, got -2.0"),
])
def test_bad_hyperparameters_stop_before_any_work(tmp_path, capsys, flag,
                                                  value, message):
  """Eqs. 1 and 4 give NaN soft labels for these; refused in one line."""
  inp = _write(tmp_path / "t.jsonl", ROWS)
  out = tmp_path / "soft.npy"
  assert cli.main(["soft-labels", str(inp), "--out", str(out), flag,
                   value]) == 2
  err = capsys.readouterr().err.strip()
  assert err == f"kwls soft-labels: error: {message}"
  assert not out.exists()
  with pytest.raises(ValueError, match=re.escape(message.rsplit(", got")[0])):
    kwls_jax.soft_labels([r["text"] for r in ROWS],
                         [r["label"] for r in ROWS],
                         **{flag[2:]: float(value)})


def test_progress_bars_on_long_inputs(tmp_path, monkeypatch, capsys):
  # Force the bars (normally from 4 MB / 10,000 rows on) and a terminal.
  monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 0)
  monkeypatch.setattr(cli, "PROGRESS_MIN_DOCS", 0)
  import tqdm.std  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(tqdm.std.tqdm, "__init__", _tqdm_always_on(
      tqdm.std.tqdm.__init__))
  inp = _write(tmp_path / "t.jsonl.gz", ROWS * 50)
  out = tmp_path / "soft.npy"
  assert cli.main(["soft-labels", str(inp), "--out", str(out)]) == 0
  assert np.load(out).shape == (250, 3)
  err = capsys.readouterr().err
  assert "counting words" in err and "soft labels" in err


def _tqdm_always_on(init):
  def wrapped(self, *args, **kwargs):
    kwargs["disable"] = False
    init(self, *args, **kwargs)
  return wrapped


def test_explain_into_a_closed_pipe_exits_quietly(tmp_path):
  """`kwls explain ... | head -1` as with any Unix tool: status 0, no error."""
  rows = [{"text": " ".join(f"w{c}x{i}" for i in range(j, j + 50)), "label": c}
          for c in range(2) for j in range(0, 20_000, 50)]
  inp = _write(tmp_path / "t.jsonl", rows)
  proc = subprocess.run(
      ["bash", "-o", "pipefail", "-c",
       f"{sys.executable} -m kwls_jax explain {inp} --top 20000 | head -1"],
      capture_output=True, text=True, check=False)
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.startswith("# top 20000 keywords")
  assert proc.stderr == ""


def _fail_inside(monkeypatch):
  """An internal error: a ValueError deep in the engine, not from the input."""
  from kwls_jax.smoothing import api  # pylint: disable=g-import-not-at-top

  def broken(*args, **kwargs):
    raise ValueError("operands could not be broadcast together")

  monkeypatch.setattr(api, "from_counts", broken)


@pytest.mark.parametrize("debug", [["--debug"], []])
def test_errors_show_their_traceback_in_debug_mode(tmp_path, monkeypatch,
                                                   capsys, debug):
  """One line by default; the traceback with --debug or KWLS_DEBUG=1."""
  _fail_inside(monkeypatch)
  inp = _write(tmp_path / "t.jsonl", ROWS)
  argv = [*debug, "explain", str(inp)]
  monkeypatch.delenv("KWLS_DEBUG", raising=False)
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert "operands could not be broadcast" in err
  assert ("Traceback" in err) == bool(debug)
  assert ("in broken" in err) == bool(debug)
  monkeypatch.setenv("KWLS_DEBUG", "1")
  assert cli.main(argv) == 2
  err = capsys.readouterr().err
  assert "Traceback" in err and "in broken" in err


def test_unexpected_errors_keep_their_traceback(tmp_path, monkeypatch):
  """Errors that are not about the input (here a TypeError) propagate."""
  from kwls_jax.smoothing import api  # pylint: disable=g-import-not-at-top
  monkeypatch.setattr(api, "from_counts", lambda *a, **k: None)
  inp = _write(tmp_path / "t.jsonl", ROWS)
  with pytest.raises((TypeError, AttributeError)):
    cli.main(["explain", str(inp)])
