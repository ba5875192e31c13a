"""benchmarks/retrieval_search.py runs small, and its top-k check can fail."""

import importlib.util
import json
import pathlib
import sys

import numpy as np
import pytest

SCRIPT = (pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
          / "retrieval_search.py")


@pytest.fixture(scope="module")
def bench():
  spec = importlib.util.spec_from_file_location("retrieval_search", SCRIPT)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def test_runs_small_and_agrees_with_faiss(bench, monkeypatch, capsys):
  pytest.importorskip("faiss")
  monkeypatch.setattr(sys, "argv", [
      "retrieval_search.py", "--candidates", "300", "--queries", "40",
      "--dim", "8", "--k", "10", "--repeat", "1"])
  bench.main()
  out = json.loads(capsys.readouterr().out)
  assert out["top_k_check"]["rows"] == 40
  assert set(out["queries_per_s"]) == {
      "kwls_jax search", "kwls_jax search + gold ranks", "faiss IndexFlatIP"}


def test_agreement_allows_swapped_ties_only(bench):
  ref_ids = np.array([[0, 1, 2], [3, 4, 5]])
  ref_scores = np.array([[0.9, 0.5, 0.2], [0.9, 0.5, 0.2]])
  swapped = np.array([[1, 0, 2], [3, 4, 5]])  # 0 and 1 tie below
  tied = np.array([[0.7, 0.7, 0.2], [0.9, 0.5, 0.2]])
  assert bench.agreement(swapped, tied, ref_ids, tied)["rows_identical"] == 1
  with pytest.raises(AssertionError, match="row 0"):  # 7 is no tie of 2
    bench.agreement(np.array([[0, 1, 7], [3, 4, 5]]),
                    np.array([[0.9, 0.5, 0.1], [0.9, 0.5, 0.2]]), ref_ids,
                    ref_scores)
