"""The `kwls` command line.

    kwls soft-labels INPUT --out OUT.npy [--method kwls|tfidf|classic]
                     [--tokenizer word|whitespace] [--k1 2.0] [--b 0.75]
                     [--k2 2.0] [--epsilon 0.1] [--num-labels P]
    kwls explain INPUT [--top 10] [--instance I]
    kwls corpus NAME [--split SPLIT] [--data-dir DIR] --out OUT.jsonl.gz
    kwls train CONFIG [--set key=value ...] [--run-dir DIR]
    kwls evaluate RUN_DIR [--split test|dev]
    kwls calibration [LABEL=]RUN_DIR ... --out OUT.png [--split test|dev]
    kwls reqa build INPUT --out DIR
    kwls reqa bm25 DIR [--k1 0.9] [--b 0.4] [--queries FILE] [--fold F]
    kwls reqa ilr DIR [--fold F] [--label-doc sentence|questions]
    kwls dashboard EXPERIMENT [--project P] [--entity E] [--out FILE.json]

Bad input exits with status 2 and a one-line error naming the file and line;
`kwls --debug ...` or KWLS_DEBUG=1 adds its traceback. Other errors show their
traceback. Output into a closed pipe (`kwls explain ... | head`) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from typing import Sequence

from kwls_jax import memory
from kwls_jax.atomic import atomic_open, save_npy

PROGRESS_MIN_DOCS = 10_000  # progress bars from this many instances on
PROGRESS_MIN_BYTES = 4 << 20  # ... or from this input size on


def _add_method_args(p: argparse.ArgumentParser, classic: bool) -> None:
  p.add_argument("input", metavar="INPUT",
                 help=".jsonl or .jsonl.gz, one {\"text\", \"label\"} a line")
  methods = ["kwls", "tfidf"] + (["classic"] if classic else [])
  p.add_argument("--method", choices=methods, default="kwls")
  p.add_argument("--tokenizer", choices=["word", "whitespace"], default="word",
                 help="word: lowercase Unicode word characters (re \\w+); "
                 "whitespace: Python's str.split()")
  p.add_argument("--k1", type=float, default=2.0, help="Eq. 1 (default 2.0)")
  p.add_argument("--b", type=float, default=0.75, help="Eq. 1 (default 0.75)")
  p.add_argument("--k2", type=float, default=2.0, help="Eq. 4 (default 2.0)")
  p.add_argument("--num-labels", type=int, default=None, metavar="P",
                 help="P; default: labels.json beside INPUT, else max label+1")


def build_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(
      prog="kwls",
      description="Keyword-based label smoothing (KWLS) for text mining.")
  parser.add_argument("--debug", action="store_true",
                      help="errors with their traceback (also KWLS_DEBUG=1)")
  sub = parser.add_subparsers(dest="command", required=True)
  p = sub.add_parser("soft-labels", help="compute soft labels [N, P] as .npy")
  _add_method_args(p, classic=True)
  p.add_argument("--out", required=True, metavar="OUT.npy")
  p.add_argument("--epsilon", type=float, default=0.1,
                 help="LS-Classic smoothing weight (default 0.1)")
  p = sub.add_parser(
      "explain", help="keywords per label, and word contributions per instance")
  _add_method_args(p, classic=False)
  p.add_argument("--top", type=int, default=10)
  p.add_argument("--instance", type=int, default=None, metavar="I",
                 help="0-based row of INPUT to explain word by word")
  p = sub.add_parser(
      "corpus", help="write a corpus (local files or tensorflow-datasets) as "
      "JSON lines, the input format of the other commands")
  p.add_argument("name", help="ag_news, imdb, yelp_polarity, dbpedia_14, "
                 "yelp_full, or a path to a .jsonl(.gz) file or folder")
  p.add_argument("--split", default="train",
                 help="tfds-style split, slicing included: test[:75%%]")
  p.add_argument("--data-dir", default=None,
                 help="folder of local corpora (default: $KWLS_DATA_DIR); "
                 "corpora there take precedence over downloads")
  p.add_argument("--out", required=True, metavar="OUT.jsonl.gz")
  p = sub.add_parser(
      "subset", help="a fold's train/dev files under an unbalanced setting")
  p.add_argument("input", metavar="INPUT", help="the pool to split (.jsonl.gz)")
  p.add_argument("--setting", default="balanced",
                 help="balanced | under:C | agc:C | agm:M")
  p.add_argument("--fold", type=int, default=0)
  p.add_argument("--k", type=int, default=4, help="folds (4: train:dev = 3:1)")
  p.add_argument("--seed", type=int, default=0)
  p.add_argument("--train-out", required=True)
  p.add_argument("--dev-out", required=True)
  from kwls_jax.training import cli as training_cli  # pylint: disable=g-import-not-at-top
  from kwls_jax.retrieval import cli as retrieval_cli  # pylint: disable=g-import-not-at-top
  training_cli.add_parsers(sub)
  retrieval_cli.add_parser(sub)
  p = sub.add_parser(
      "calibration", help="reliability diagram of runs' predictions (PNG) "
      "and their expected calibration error")
  p.add_argument("runs", nargs="+", metavar="[LABEL=]RUN_DIR",
                 help="finished run directories (label: the folder's name)")
  p.add_argument("--split", default="test", choices=["test", "dev"])
  p.add_argument("--out", required=True, metavar="OUT.png")
  p.add_argument("--title", default="Reliability of predictions")
  p = sub.add_parser(
      "dashboard", help="a saved W&B workspace of an experiment's runs "
      "(offline: its JSON spec, no network)")
  p.add_argument("experiment", metavar="EXPERIMENT",
                 help="the experiment's name (config `experiment`, W&B group)")
  p.add_argument("--project", default=None,
                 help="W&B project (default: experiments/EXPERIMENT.yaml's "
                 "wandb_project, else kwls-jax)")
  p.add_argument("--entity", default=None,
                 help="W&B entity (default: the API key's default entity)")
  p.add_argument("--out", default=None, metavar="FILE.json",
                 help="write the spec here and save nothing (the default "
                 "without an API key: results/EXPERIMENT/dashboard.json)")
  return parser


def _enable_compilation_cache() -> None:
  """Reuse XLA compilations across runs (off with KWLS_JAX_CACHE=0)."""
  if os.environ.get("KWLS_JAX_CACHE", "1") == "0":
    return
  import jax  # pylint: disable=g-import-not-at-top
  cache = os.environ.get("KWLS_JAX_CACHE_DIR") or os.path.join(
      os.path.expanduser("~"), ".cache", "kwls_jax", "xla")
  jax.config.update("jax_compilation_cache_dir", cache)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _read(args):
  from kwls_jax.corpora.jsonl import read_jsonl  # pylint: disable=g-import-not-at-top
  return read_jsonl(args.input, num_labels=args.num_labels)


def _stream_counts(args):
  """(WordCounts, labels, label names), reading and counting in parallel."""
  from kwls_jax.corpora.jsonl import JsonlReader  # pylint: disable=g-import-not-at-top
  from kwls_jax.smoothing import tokenize  # pylint: disable=g-import-not-at-top
  reader = JsonlReader(args.input, num_labels=args.num_labels)
  bar = None
  if os.path.getsize(args.input) > PROGRESS_MIN_BYTES:
    from tqdm.auto import tqdm  # pylint: disable=g-import-not-at-top
    bar = tqdm(desc="counting words", unit="doc", leave=False, disable=None)
  try:
    counts = tokenize.count_word_blocks(reader.blocks(), args.tokenizer,
                                        progress=None if bar is None else bar.update)
  finally:
    if bar is not None:
      bar.close()
  labels, names = reader.labels()
  return counts, labels, names


def _soft_label_result(args):
  """Counts streamed from INPUT, then the engine: texts are never all held.

  JAX is imported only after counting, so its runtime (about 180 MB) and the
  counting buffers are never resident together.
  """
  from kwls_jax.smoothing import api  # pylint: disable=g-import-not-at-top
  api.check_hyperparameters(args.k1, args.b, args.k2)  # before the counting
  counts, labels, names = _stream_counts(args)
  _enable_compilation_cache()
  result = api.from_counts(counts, labels, len(names), args.method, args.k1,
                           args.b, args.k2,
                           progress=counts.num_docs >= PROGRESS_MIN_DOCS)
  return result, labels, names


def cmd_soft_labels(args) -> int:
  if args.method == "classic":
    from kwls_jax.smoothing import api  # pylint: disable=g-import-not-at-top
    corpus = _read(args)
    soft = api.soft_labels(corpus.texts, corpus.labels, corpus.num_labels,
                           method="classic", epsilon=args.epsilon)
  else:
    soft = _soft_label_result(args)[0].soft_labels
  save_npy(args.out, soft.astype("float32", copy=False))
  print(f"wrote {args.out}: soft labels [{soft.shape[0]}, {soft.shape[1]}] "
        f"({args.method}, {args.tokenizer})", file=sys.stderr)
  return 0


def cmd_explain(args) -> int:
  from kwls_jax.smoothing import explain  # pylint: disable=g-import-not-at-top
  result, labels, names = _soft_label_result(args)
  vocab = result.counts.vocab()
  print(f"# top {args.top} keywords per label by WLR (Eq. 3), "
        f"{args.method}, {args.tokenizer} tokenizer")
  print(explain.format_keywords(explain.top_keywords(result, args.top, vocab),
                                names))
  print("\n# per label: its rows; the mean soft-label mass on it over its own "
        "rows and over the other rows; the share of its rows whose soft "
        "label's argmax is their own label")
  print(explain.format_agreement(
      explain.label_agreement(result.soft_labels, labels, len(names)), names))
  if args.instance is not None:
    if not 0 <= args.instance < len(labels):
      raise ValueError(f"--instance {args.instance} out of range: "
                       f"{args.input} has {len(labels)} rows")
    wc = explain.word_contributions(result, args.instance, vocab)
    print(f"\n# instance {args.instance} (hard label "
          f"{labels[args.instance].tolist()}): each word's share WLR*WIR/X_avg "
          "of ILR (Eq. 7)")
    print(explain.format_contributions(wc, names, args.top))
  return 0


def cmd_corpus(args) -> int:
  from kwls_jax.corpora import load_corpus, write_jsonl  # pylint: disable=g-import-not-at-top
  corpus = load_corpus(args.name, args.split, data_dir=args.data_dir)
  write_jsonl(args.out, corpus)
  print(f"wrote {args.out}: {len(corpus)} rows, {corpus.num_labels} labels "
        f"from {corpus.source}", file=sys.stderr)
  return 0


def cmd_subset(args) -> int:
  import json  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from kwls_jax.corpora import read_jsonl, subsets, write_jsonl  # pylint: disable=g-import-not-at-top
  corpus = read_jsonl(args.input)
  if corpus.multi_label:
    raise ValueError(f"{args.input}: subsets need single-label rows")
  train, dev = subsets.fold_and_setting(corpus.labels, args.setting, args.fold,
                                        args.k, args.seed, corpus.num_labels,
                                        corpus.label_names)
  for rows, out in ((train, args.train_out), (dev, args.dev_out)):
    write_jsonl(out, corpus.select(rows))
    with atomic_open(out + ".rows.json") as f:  # whole or absent
      json.dump({"source": args.input, "setting": args.setting,
                 "fold": args.fold, "k": args.k, "seed": args.seed,
                 "rows": rows.tolist()}, f)
  counts = lambda rows: np.bincount(corpus.labels[rows],
                                    minlength=corpus.num_labels).tolist()
  print(f"{args.setting} fold {args.fold}: train {len(train)} {counts(train)}, "
        f"dev {len(dev)} {counts(dev)}", file=sys.stderr)
  return 0


def cmd_calibration(args) -> int:
  """One reliability diagram of the runs given, a line each."""
  from kwls_jax.reporting import calibration, figures  # pylint: disable=g-import-not-at-top
  lines = {}
  for item in args.runs:
    label, _, run_dir = item.rpartition("=")
    label = label or os.path.basename(os.path.normpath(run_dir))
    lines[label] = calibration.reliability(
        *calibration.run_predictions(run_dir, args.split))
    print(f"{label}: ECE {lines[label]['ece']:.4f} "
          f"(n={int(lines[label]['rows'].sum())})")
  figures.calibration({f"{args.split} split": lines}, args.out, args.title)
  print(f"wrote {args.out}", file=sys.stderr)
  return 0


def cmd_dashboard(args) -> int:
  """Online: saves the workspace and prints its URL; else writes its spec."""
  from kwls_jax.reporting import dashboard  # pylint: disable=g-import-not-at-top
  from kwls_jax.training.tracking import wandb_mode  # pylint: disable=g-import-not-at-top
  experiment = dashboard.check_experiment(args.experiment)
  project = args.project or dashboard.default_project(experiment)
  if args.out is None and wandb_mode() == "online":
    print(dashboard.save(experiment, project, args.entity or ""))
    return 0
  out = args.out or os.path.join("results", experiment, "dashboard.json")
  dashboard.write_spec(out, dashboard.workspace_spec(experiment, project,
                                                     args.entity or ""))
  print(f"wrote {out}: W&B workspace of {experiment} in project {project} "
        "(saved by `kwls dashboard` with an API key and no --out)",
        file=sys.stderr)
  return 0


def main(argv: Sequence[str] | None = None) -> int:
  args = build_parser().parse_args(argv)
  memory.use_mmap_for_large_buffers()
  from kwls_jax.training import cli as training_cli  # pylint: disable=g-import-not-at-top
  from kwls_jax.retrieval import cli as retrieval_cli  # pylint: disable=g-import-not-at-top
  command = {"soft-labels": cmd_soft_labels, "explain": cmd_explain,
             "corpus": cmd_corpus, "subset": cmd_subset,
             "train": training_cli.run_train,
             "reqa": retrieval_cli.run,
             "evaluate": training_cli.run_evaluate,
             "calibration": cmd_calibration,
             "dashboard": cmd_dashboard}
  try:
    return command[args.command](args)
  except BrokenPipeError:  # the reader left: `kwls explain ... | head`
    try:  # Python flushes stdout again at exit; into /dev/null that succeeds.
      os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor
      pass
    return 0
  except (ValueError, OSError) as e:  # bad input (CorpusError, ConfigError)
    if args.debug or os.environ.get("KWLS_DEBUG", "0") not in ("", "0"):
      traceback.print_exc()
    print(f"kwls {args.command}: error: {e}", file=sys.stderr)
    return 2
  except KeyboardInterrupt:
    print(f"kwls {args.command}: interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
  sys.exit(main())
