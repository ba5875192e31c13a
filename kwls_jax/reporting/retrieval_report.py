"""Table 3 from retrieval run directories and zero-shot baseline files.

    python -m kwls_jax.reporting.retrieval_report RUN_DIR [RUN_DIR ...] \\
        --experiment table3 --out-dir DIR [--baseline NAME:FOLD=FILE ...] \\
        [--table table3] [--command CMD] [--note TEXT] [--wandb-project P]

A run directory holds run.json (workflow) and final.json (`kwls train`, task
retrieval); a baseline file is the JSON `kwls reqa bm25|ilr DIR --fold F`
prints. Writes table.md (R@1/10/50/100 and MRR, mean ± std over folds, the
paper's number beside ours, the gain over the original model with a paired
t-test over folds, KWLS against each other method with both tests and the
smallest detectable difference, the baselines on the same test queries),
table.tex, table.csv (one row per model, method and metric),
comparisons.csv (one row per KWLS comparison and metric) and runs.csv.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import os
import sys
from typing import Sequence

from kwls_jax import provenance
from kwls_jax.atomic import atomic_open
from kwls_jax.reporting import paper, tables, tracking

METRICS = ("R@1", "R@10", "R@50", "R@100", "MRR")
BASELINE_MODEL = "zero-shot"
MODEL_ORDER = ("bert", "textcnn", "lstm", BASELINE_MODEL)
BASELINE_NAMES = {"bm25": "BM25", "ilr": "ILR"}


def scope(folds: int) -> str:
  """What every table built from SQuAD dev alone says about its data."""
  return (f"Data: SQuAD v1.1 dev only (the paper trains on SQuAD train and "
          f"tests on dev), {folds} folds by article. Each run trains on the "
          f"other folds' questions (a quarter of their articles held out for "
          f"dev) and ranks the held-out fold's questions against the whole "
          f"pool of dev sentences; the baselines rank the same test queries.")


def read_run(run_dir: str) -> tables.Record:
  """The Record of a retrieval run directory (run.json + final.json)."""
  with open(os.path.join(run_dir, "run.json"), encoding="utf-8") as f:
    meta = json.load(f)
  with open(os.path.join(run_dir, "final.json"), encoding="utf-8") as f:
    final = json.load(f)
  return tables.Record(
      dataset=meta["dataset"], setting=meta["setting"], model=meta["model"],
      method=meta["method"], fold=int(meta["fold"]), seed=int(meta["seed"]),
      metrics={m: float(final["test"][m]) for m in METRICS},
      run_dir=run_dir, config_hash=str(final.get("config_hash", "")),
      commit=" ".join(map(str, final.get("git_commits") or [])),
      machine=str(meta.get("machine", "")))


def read_baseline(item: str) -> tables.Record:
  """The Record of NAME:FOLD=FILE (a `kwls reqa bm25|ilr` JSON)."""
  head, sep, path = item.partition("=")
  name, colon, fold = head.partition(":")
  if not (sep and colon and fold.isdigit()):
    raise ValueError(f"--baseline {item!r}: expected NAME:FOLD=FILE")
  with open(path, encoding="utf-8") as f:
    values = json.load(f)
  return tables.Record(dataset="", setting="", model=BASELINE_MODEL,
                       method=name, fold=int(fold), seed=0,
                       metrics={m: float(values[m]) for m in METRICS},
                       run_dir=path)


def cells(records: Sequence[tables.Record]) -> dict[tuple, dict]:
  """{(model, method): {metric: Cell}} in table order: models as the paper,
  methods as paper.METHODS, then the baselines."""
  out: dict[tuple, dict] = {}
  for metric in METRICS:
    for c in tables.aggregate(records, metric):
      c.paper = paper.paper_recall(c.model, c.method, metric)
      out.setdefault((c.model, c.method), {})[metric] = c
  model_rank = lambda m: (MODEL_ORDER.index(m) if m in MODEL_ORDER
                          else len(MODEL_ORDER) - 1, m)
  method_rank = lambda m: (paper.METHODS.index(m) if m in paper.METHODS
                           else len(paper.METHODS), m)
  return dict(sorted(out.items(), key=lambda kv: (model_rank(kv[0][0]),
                                                  method_rank(kv[0][1]))))


def _fmt(x, digits: int = 2) -> str:
  return "-" if x is None or math.isnan(x) else f"{x:.{digits}f}"


def _value(c: tables.Cell, with_paper: bool) -> str:
  text = _fmt(c.mean) + ("" if math.isnan(c.std) else f" ± {_fmt(c.std)}")
  if with_paper and c.paper is not None:
    text += f" [{c.paper:.2f}]"
  return text


def _gain(c: tables.Cell) -> str:
  if math.isnan(c.delta):
    return "-"
  sig = "*" if not math.isnan(c.p_corrected) and c.p_corrected < 0.05 else ""
  return (f"{c.delta:+.2f} ({_fmt(c.p_paired, 3)} / "
          f"{_fmt(c.p_corrected, 3)}){sig}")


def _label(model: str, method: str) -> tuple[str, str]:
  if model == BASELINE_MODEL:
    return model, BASELINE_NAMES.get(method, method)
  return model, method


def main_rows(table: dict[tuple, dict], with_paper: bool) -> list[list[str]]:
  """Rows of the main table: model, method, folds, each metric."""
  return [[*_label(*key), str(len(next(iter(by.values())).values)),
           *[_value(by[m], with_paper) for m in METRICS]]
          for key, by in table.items()]


def gain_rows(table: dict[tuple, dict]) -> list[list[str]]:
  """Rows of the gain table: each trained method but the original model."""
  return [[*key, *[_gain(by[m]) for m in METRICS]]
          for key, by in table.items()
          if key[0] != BASELINE_MODEL and key[1] != "none"]


def kwls_comparisons(table: dict[tuple, dict]) -> list[tuple[str, tables.Comparison]]:
  """(metric, KWLS against another method of the same model), for each
  trained model with KWLS, by model, then method, then metric."""
  out = []
  for metric in METRICS:
    trained = [by[metric] for key, by in table.items()
               if key[0] != BASELINE_MODEL]
    out += [(metric, c) for c in tables.comparisons(trained, metric=metric)]
  order = {key: i for i, key in enumerate(table)}
  return sorted(out, key=lambda mc: (order[mc[1].model, mc[1].other],
                                     METRICS.index(mc[0])))


def comparison_rows(comps) -> list[list[str]]:
  """Rows of the KWLS table: model, metric, then tables.comparison_rows'
  columns from the other method on."""
  return [[c.model, metric, *tables.comparison_rows([c])[0][3:]]
          for metric, c in comps]


MAIN_COLUMNS = ("model", "method", "folds", *METRICS)
COMPARISON_COLUMNS = ("model", "metric", *tables.COMPARISON_COLUMNS[3:])
GAIN_COLUMNS = ("model", "method", *[f"Δ {m} (p)" for m in METRICS])


def _markdown(columns: Sequence[str], rows: Sequence[Sequence[str]],
              align: str = "") -> str:
  """A markdown table, column i aligned l(eft) or r(ight) as align[i] says
  (default: two left, the rest right)."""
  align = align or "ll" + "r" * (len(columns) - 2)
  lines = ["| " + " | ".join(columns) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
  return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def to_markdown(table: dict[tuple, dict], with_paper: bool) -> str:
  text = _markdown(MAIN_COLUMNS, main_rows(table, with_paper))
  text += ("\nRecall@k and MRR in percent, mean ± std over folds"
           + ("; [the paper's Table 3] (it reports no MRR)" if with_paper
              else "") + f". {BASELINE_MODEL}: rankers without training "
           "(BM25: Lucene's, k1 0.9, b 0.4; ILR: Eq. 7 of the query against "
           "each candidate).\n")
  gains = gain_rows(table)
  if gains:
    text += ("\n## Gain over the original model\n\n"
             + _markdown(GAIN_COLUMNS, gains)
             + "\nMean difference from the same model's original (method "
             "none) over the same folds, in points; p of the paired / of the "
             "corrected t-test, * corrected p < 0.05. " + tables.tests_note()
             + "\n")
  comps = kwls_comparisons(table)
  if comps:
    text += ("\n## KWLS against each method\n\n"
             + _markdown(COMPARISON_COLUMNS, comparison_rows(comps),
                         "lll" + "r" * 6 + "l")
             + "\n" + tables.comparisons_note())
  return text


def to_latex(table: dict[tuple, dict], with_paper: bool) -> str:
  esc = lambda s: s.replace("_", r"\_").replace("±", r"$\pm$")
  lines = [r"\begin{tabular}{ll" + "r" * (len(MAIN_COLUMNS) - 2) + "}",
           r"\toprule", " & ".join(map(esc, MAIN_COLUMNS)) + r" \\",
           r"\midrule"]
  lines += [" & ".join(map(esc, r)) + r" \\"
            for r in main_rows(table, with_paper)]
  return "\n".join(lines + [r"\bottomrule", r"\end{tabular}"]) + "\n"


def to_csv(table: dict[tuple, dict]) -> str:
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["model", "method", "metric", "mean", "std", "n", "delta",
              "p_paired", "p_corrected", "paper", "values", "runs"])
  for (model, method), by in table.items():
    for metric, c in by.items():
      w.writerow([model, method, metric, c.mean, c.std, len(c.values),
                  c.delta, c.p_paired, c.p_corrected, c.paper,
                  ";".join(f"{v:.4f}" for v in c.values), ";".join(c.runs)])
  return out.getvalue()


def comparisons_csv(comps) -> str:
  """tables.comparisons_csv with each comparison's metric first."""
  head, *rows = csv.reader(io.StringIO(
      tables.comparisons_csv([c for _, c in comps])))
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["metric", *head])
  w.writerows([metric, *row] for (metric, _), row in zip(comps, rows))
  return out.getvalue()


def runs_csv(records: Sequence[tables.Record]) -> str:
  """Every run and baseline file behind the table, with its provenance."""
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(["model", "method", "fold", "seed", *METRICS, "config_hash",
              "commit", "source"])
  for r in records:
    w.writerow([r.model, r.method, r.fold, r.seed,
                *[r.metrics[m] for m in METRICS], r.config_hash, r.commit,
                r.run_dir])
  return out.getvalue()


def _folds(run_dirs: Sequence[str]) -> int:
  """retrieval.folds of the runs' config.json (4 when none says)."""
  for d in run_dirs:
    path = os.path.join(d, "config.json")
    if os.path.exists(path):
      with open(path, encoding="utf-8") as f:
        return int(json.load(f).get("retrieval", {}).get("folds", 4))
  return 4


def _write(path: str, text: str) -> None:
  with atomic_open(path) as f:
    f.write(text)


def write_report(run_dirs: Sequence[str], out_dir: str, experiment: str,
                 baselines: Sequence[str] = (), table: str = "",
                 command: str = "", note: str = "", wandb_project: str = "",
                 wandb_dir: str = "") -> dict[str, str]:
  """Writes the report files; returns {name: path}."""
  os.makedirs(out_dir, exist_ok=True)
  records = [read_run(d) for d in run_dirs]
  if not records:
    raise ValueError("no runs to report")
  runs_provenance = tables.provenance_of_runs(records)
  base = records[0]  # baselines join the runs' (dataset, setting) group
  records += [dataclasses.replace(r, dataset=base.dataset,
                                  setting=base.setting)
              for r in map(read_baseline, baselines)]
  result = cells(records)
  with_paper = table == "table3"
  header = (f"# {experiment}: retrieval on ReQA SQuAD, Recall@k and MRR "
            f"(%)\n\n" + provenance.header(command or "snakemake --cores all",
                                           []) + runs_provenance +
            f"- runs: {len(run_dirs)}, baseline files: {len(baselines)} "
            "(listed in runs.csv)\n\n" + scope(_folds(run_dirs)) + "\n" +
            (f"\n{note}\n" if note else "") + "\n")
  paths = {k: os.path.join(out_dir, f) for k, f in (
      ("md", "table.md"), ("tex", "table.tex"), ("csv", "table.csv"),
      ("comparisons", "comparisons.csv"), ("runs", "runs.csv"))}
  _write(paths["md"], header + to_markdown(result, with_paper))
  _write(paths["tex"], to_latex(result, with_paper))
  _write(paths["csv"], to_csv(result))
  _write(paths["comparisons"], comparisons_csv(kwls_comparisons(result)))
  _write(paths["runs"], runs_csv(records))
  wandb_dir = tracking.log_report(
      wandb_project, experiment,
      {"retrieval_table": (MAIN_COLUMNS, main_rows(result, with_paper))}, {},
      wandb_dir or os.path.join(out_dir, "_wandb"),
      {"experiment": experiment, "table": table, "runs": len(run_dirs)})
  if wandb_dir:
    paths["wandb"] = wandb_dir
  return paths


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
  p.add_argument("--experiment", required=True)
  p.add_argument("--out-dir", required=True)
  p.add_argument("--baseline", action="append", default=[],
                 metavar="NAME:FOLD=FILE")
  p.add_argument("--table", default="", choices=["", "table3"],
                 help="print the paper's Table 3 beside ours")
  p.add_argument("--command", default="")
  p.add_argument("--note", default="")
  p.add_argument("--wandb-project", default="")
  p.add_argument("--wandb-dir", default="")
  args = p.parse_args(argv)
  try:
    paths = write_report(args.run_dirs, args.out_dir, args.experiment,
                         args.baseline, args.table, args.command, args.note,
                         args.wandb_project, args.wandb_dir)
  except (OSError, ValueError, KeyError) as e:
    print(f"report: error: {e}", file=sys.stderr)
    return 2
  print("\n".join(f"{k}: {v}" for k, v in paths.items()))
  return 0


if __name__ == "__main__":
  sys.exit(main())
