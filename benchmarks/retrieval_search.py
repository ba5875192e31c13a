"""Benchmark: exact top-k search, `kwls_jax.retrieval.search.search` vs faiss.

Random unit vectors (float32): queries [Q, D] against candidates [M, D],
top-k by inner product. faiss-cpu's IndexFlatIP is the exact reference; the
top-k ids must agree with it, but for neighbours whose scores tie within
float32 rounding. Times are the best of --repeat runs after a warm-up (for
JAX, the compilation), in queries per second; the load average is printed
beside them, since the machine may be shared.

  python benchmarks/retrieval_search.py [--candidates 100000 --queries 10000
      --dim 256 --k 100 --repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def unit_vectors(rng, n: int, dim: int) -> np.ndarray:
  x = rng.standard_normal((n, dim), dtype=np.float32)
  return x / np.linalg.norm(x, axis=1, keepdims=True)


def best_seconds(fn, repeat: int) -> float:
  fn()  # warm-up
  best = float("inf")
  for _ in range(repeat):
    start = time.perf_counter()
    fn()
    best = min(best, time.perf_counter() - start)
  return best


def agreement(ids, scores, ref_ids, ref_scores, tol: float = 1e-5) -> dict:
  """Rows whose top-k ids equal the reference's; the rest must differ only in
  neighbours tied within `tol` (same scores, rank by rank)."""
  same = np.all(ids == ref_ids, axis=1)
  score_gap = float(np.abs(scores - ref_scores).max())
  for r in np.flatnonzero(~same):  # ids in one top-k only: ties at the k-th
    odd = np.setxor1d(ids[r], ref_ids[r])
    odd_scores = np.concatenate([scores[r][np.isin(ids[r], odd)],
                                 ref_scores[r][np.isin(ref_ids[r], odd)]])
    assert np.all(np.abs(odd_scores - ref_scores[r, -1]) <= tol), (
        f"row {r} differs")
  assert score_gap <= tol, f"scores differ by {score_gap}"
  return {"rows_identical": int(same.sum()), "rows": len(same),
          "max_score_diff": score_gap}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--candidates", type=int, default=100_000)
  parser.add_argument("--queries", type=int, default=10_000)
  parser.add_argument("--dim", type=int, default=256)
  parser.add_argument("--k", type=int, default=100)
  parser.add_argument("--repeat", type=int, default=3)
  parser.add_argument("--seed", type=int, default=0)
  args = parser.parse_args()
  import faiss  # pylint: disable=g-import-not-at-top
  import jax  # pylint: disable=g-import-not-at-top
  from kwls_jax.retrieval import search  # pylint: disable=g-import-not-at-top

  rng = np.random.default_rng(args.seed)
  candidates = unit_vectors(rng, args.candidates, args.dim)
  queries = unit_vectors(rng, args.queries, args.dim)
  gold = rng.integers(0, args.candidates, (args.queries, 1)).tolist()
  load_before = os.getloadavg()

  index = faiss.IndexFlatIP(args.dim)
  index.add(candidates)
  out = {}
  faiss_s = best_seconds(lambda: out.update(faiss=index.search(queries, args.k)),
                         args.repeat)
  jax_s = best_seconds(
      lambda: out.update(jax=search.search(queries, candidates, args.k)),
      args.repeat)
  ranks_s = best_seconds(
      lambda: search.search(queries, candidates, args.k, gold=gold),
      args.repeat)
  ref_scores, ref_ids = out["faiss"]
  result = out["jax"]
  print(json.dumps({
      "candidates": args.candidates, "queries": args.queries, "dim": args.dim,
      "k": args.k, "cpus": os.cpu_count(), "faiss_threads":
      faiss.omp_get_max_threads(), "jax": jax.__version__,
      "faiss": faiss.__version__,
      "chunk": search.chunk_size(args.queries, args.candidates),
      "queries_per_s": {
          "kwls_jax search": round(args.queries / jax_s, 1),
          "kwls_jax search + gold ranks": round(args.queries / ranks_s, 1),
          "faiss IndexFlatIP": round(args.queries / faiss_s, 1)},
      "top_k_check": agreement(result.ids, result.scores, ref_ids, ref_scores),
      "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
      indent=1))


if __name__ == "__main__":
  main()
