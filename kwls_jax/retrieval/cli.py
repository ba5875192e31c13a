"""`kwls reqa`: the ReQA benchmark built from SQuAD, BM25 and zero-shot ILR on it.

    kwls reqa build INPUT --out DIR
    kwls reqa bm25 DIR [--k1 0.9] [--b 0.4] [--queries FILE] [--fold F]
    kwls reqa ilr DIR [--fold F] [--label-doc sentence|questions]
                  [--method kwls|tfidf] [--k1 2.0] [--b 0.75] [--k2 2.0]
"""

from __future__ import annotations

import json
import os
import sys


def add_parser(subparsers) -> None:
  """Registers `reqa` (with `build` and `bm25`) on the `kwls` subparsers."""
  reqa = subparsers.add_parser(
      "reqa", help="ReQA retrieval benchmark (Ahmad et al., 2019) from SQuAD")
  sub = reqa.add_subparsers(dest="reqa_command", required=True)
  p = sub.add_parser("build", help="candidate sentences and queries with gold "
                     "sentence ids, from SQuAD JSON lines")
  p.add_argument("input", metavar="INPUT",
                 help="SQuAD .jsonl(.gz), one question a line "
                 "({id, title, context, question, answers})")
  p.add_argument("--out", required=True, metavar="DIR")
  p.set_defaults(handler=run_build)
  p = sub.add_parser("bm25", help="rank all candidates by BM25 (Lucene's); "
                     "prints Recall@k and MRR as JSON")
  p.add_argument("dir", metavar="DIR", help="a folder written by reqa build")
  p.add_argument("--k1", type=float, default=0.9)
  p.add_argument("--b", type=float, default=0.4)
  p.add_argument("--queries", default=None, metavar="FILE",
                 help="queries .jsonl(.gz) (default DIR/queries.jsonl.gz)")
  p.add_argument("--fold", type=int, default=None, metavar="F",
                 help="only the queries of fold F's articles (reqa."
                 "article_folds: the i-th article is in fold i %% 4)")
  p.set_defaults(handler=run_bm25)
  p = sub.add_parser("ilr", help="rank all candidates by zero-shot ILR (Eq. 7, "
                     "retrieval.soft); prints Recall@k and MRR as JSON")
  p.add_argument("dir", metavar="DIR", help="a folder written by reqa build")
  p.add_argument("--fold", type=int, default=None, metavar="F",
                 help="rank fold F's queries with the statistics of the other "
                 "folds' questions (default: all queries, statistics of all)")
  p.add_argument("--label-doc", choices=("sentence", "questions"),
                 default="sentence", help="a candidate's label document X_m: "
                 "its sentence, or the training questions it is gold for")
  p.add_argument("--method", choices=("kwls", "tfidf"), default="kwls")
  p.add_argument("--k1", type=float, default=2.0)
  p.add_argument("--b", type=float, default=0.75)
  p.add_argument("--k2", type=float, default=2.0)
  p.add_argument("--tokenizer", choices=("word", "whitespace"), default="word")
  p.set_defaults(handler=run_ilr)


def run(args) -> int:
  """`kwls reqa ...`: the chosen subcommand's handler."""
  return args.handler(args)


def run_build(args) -> int:
  """`kwls reqa build`."""
  from kwls_jax.retrieval import reqa, sentences  # pylint: disable=g-import-not-at-top
  rows = list(reqa.squad_rows(args.input))
  bench = reqa.build(rows)
  reqa.write(args.out, bench)
  simple = reqa.build(rows, split=sentences.regex_spans)
  texts = lambda b: [[b.candidates[g]["text"] for g in q["gold"]]
                     for q in b.queries]
  differ = sum(a != b for a, b in zip(texts(bench), texts(simple)))
  paragraphs = len({c["paragraph"] for c in bench.candidates})
  print(f"wrote {args.out}: {len(bench.candidates)} candidates "
        f"({paragraphs} paragraphs), {len(bench.queries)} queries; a regex "
        f"split gives {len(simple.candidates)} candidates and other gold "
        f"sentences for {differ} queries", file=sys.stderr)
  return 0


def _benchmark(args, queries_path=None):
  """(candidates, training queries, test queries) of DIR, --fold applied.

  With --fold F the test queries are fold F's and the training queries the
  other folds'; without, both are all the queries.
  """
  from kwls_jax.retrieval import reqa  # pylint: disable=g-import-not-at-top
  candidates = reqa.read_candidates(args.dir)
  queries = reqa.read_queries(
      queries_path or os.path.join(args.dir, reqa.QUERIES), len(candidates))
  train = test = queries
  if args.fold is not None:
    if not 0 <= args.fold < 4:
      raise ValueError(f"--fold {args.fold}: folds are 0..3")
    folds = reqa.article_folds([c["article"] for c in candidates])
    train, test = reqa.split_queries(queries, folds, args.fold)
  if not test:
    raise ValueError("no queries to rank" + (
        "" if args.fold is None else f" in fold {args.fold}"))
  return candidates, train, test


def _print_metrics(ranks, num_queries: int, num_candidates: int) -> None:
  from kwls_jax.retrieval import ranking  # pylint: disable=g-import-not-at-top
  print(json.dumps({"queries": num_queries, "candidates": num_candidates,
                    **{k: round(v, 2) for k, v in ranking.metrics(ranks).items()}}))


def run_bm25(args) -> int:
  """`kwls reqa bm25`."""
  from kwls_jax.retrieval import bm25  # pylint: disable=g-import-not-at-top
  candidates, _, queries = _benchmark(args, args.queries)
  retriever = bm25.index([c["text"] for c in candidates], args.k1, args.b)
  ranks = bm25.gold_ranks(retriever, [q["question"] for q in queries],
                          [q["gold"] for q in queries])
  _print_metrics(ranks, len(queries), len(candidates))
  return 0


def run_ilr(args) -> int:
  """`kwls reqa ilr`."""
  from kwls_jax.retrieval import soft  # pylint: disable=g-import-not-at-top
  candidates, train, test = _benchmark(args)
  labels = soft.CandidateSoftLabels.build(
      args.method, [c["text"] for c in candidates],
      [q["question"] for q in train], [q["gold"] for q in train],
      label_doc=args.label_doc, k1=args.k1, b=args.b, k2=args.k2,
      tokenizer=args.tokenizer)
  ranks = soft.zero_shot_ranks(labels, [q["question"] for q in test],
                               [q["gold"] for q in test])
  _print_metrics(ranks, len(test), len(candidates))
  return 0
