"""Aggregate run directories into an experiment's tables, figures and W&B record.

    python -m kwls_jax.reporting.report --experiment quick --table table2 \\
        --out-dir results/quick RUN_DIR [RUN_DIR ...]

Writes table.{md,tex,csv} (accuracy in the paper's layout, with the paper's
number beside ours; table.md and table.tex also compare KWLS with every other
method), comparisons.csv (those comparisons), metrics.md (all test metrics),
runs.csv (every run behind the tables), calibration.png (a reliability diagram
per dataset, setting and model, a line per method, replicates pooled) and, when
asked, figure1.png / figure2.png.
"""

from __future__ import annotations

import argparse
import os
import sys

from kwls_jax import provenance
from kwls_jax.atomic import atomic_open
from kwls_jax.reporting import calibration, figures
from kwls_jax.reporting import tables, tracking


def write_report(run_dirs, out_dir, experiment, table="", average_settings=False,
                 figure1=False, figure2=None, switch_step=None, command="",
                 wandb_project="", wandb_dir="", note="",
                 rho=tables.RHO) -> dict:
  """Writes the report files; returns {name: path}.

  `rho` is the corrected t-test's n_test/n_train (tables.RHO: 4-fold CV).
  """
  os.makedirs(out_dir, exist_ok=True)
  records = tables.collect(run_dirs)
  if not records:
    raise ValueError("no runs to report")
  cells = tables.aggregate(records, "accuracy", average_settings, table,
                           rho=rho)
  comps = tables.comparisons(cells, rho=rho)
  header = (f"# {experiment}: test accuracy (%)\n\n" +
            provenance.header(command or "snakemake --cores all", []) +
            f"- runs: {len(records)} (listed in runs.csv)\n" +
            tables.provenance_of_runs(records) +
            (f"\n{note}\n" if note else "") + "\n")
  paths = {"md": os.path.join(out_dir, "table.md"),
           "tex": os.path.join(out_dir, "table.tex"),
           "csv": os.path.join(out_dir, "table.csv"),
           "metrics": os.path.join(out_dir, "metrics.md"),
           "runs": os.path.join(out_dir, "runs.csv"),
           "comparisons": os.path.join(out_dir, "comparisons.csv")}
  _write(paths["md"], header + tables.to_markdown(cells, rho=rho) +
         "\n## KWLS against each method\n\n" +
         tables.comparisons_markdown(comps, rho))
  _write(paths["tex"], tables.to_latex(cells, comps))
  _write(paths["csv"], tables.to_csv(cells))
  _write(paths["comparisons"], tables.comparisons_csv(comps))
  _write(paths["runs"], tables.runs_csv(records))
  parts = [f"# {experiment}: all test metrics\n"]
  for metric in tables.METRICS:
    parts.append(f"\n## {metric}\n\n" + tables.to_markdown(
        tables.aggregate(records, metric, average_settings, rho=rho),
        metric, rho))
  _write(paths["metrics"], "".join(parts))
  images = {}
  paths["calibration"] = images["calibration"] = os.path.join(
      out_dir, "calibration.png")
  figures.calibration(calibration_panels(cells), paths["calibration"])
  if figure1:
    paths["figure1"] = images["figure1"] = os.path.join(out_dir, "figure1.png")
    figures.figure1(cells, paths["figure1"])
  if figure2:
    paths["figure2"] = images["figure2"] = os.path.join(out_dir, "figure2.png")
    figures.figure2(figure2, paths["figure2"], switch_step)
  wandb_dir = tracking.log_report(
      wandb_project, experiment,
      {"accuracy_table": (tables.COLUMNS, tables.to_rows(cells)),
       "comparisons": (tables.COMPARISON_COLUMNS,
                       tables.comparison_rows(comps))}, images,
      wandb_dir or os.path.join(out_dir, "_wandb"), {"experiment": experiment,
                                        "table": table, "runs": len(records)})
  if wandb_dir:
    paths["wandb"] = wandb_dir
  return paths


def calibration_panels(cells) -> dict[str, dict[str, dict]]:
  """{"dataset setting model": {method: reliability}} from the table's
  cells, each cell's replicates pooled; runs without reliability bins or
  predictions are left out, with a warning."""
  panels: dict[str, dict[str, dict]] = {}
  for cell in cells:
    bins = []
    for run_dir in cell.runs:
      try:
        bins.append(calibration.read_reliability(run_dir))
      except (OSError, ValueError) as e:
        print(f"report: warning: no reliability diagram for {e}",
              file=sys.stderr)
    if bins:
      panel = f"{cell.dataset} {cell.setting} {cell.model}"
      panels.setdefault(panel, {})[cell.method] = \
          calibration.pooled_reliability(bins)
  return panels


def _write(path: str, text: str) -> None:
  with atomic_open(path) as f:
    f.write(text)


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR")
  p.add_argument("--experiment", required=True)
  p.add_argument("--out-dir", required=True)
  p.add_argument("--table", default="", choices=["", "table2", "table4", "paper"],
                 help="which of the paper's tables to print beside ours "
                 "(paper: Table 2 for balanced rows, Table 4 for under:*)")
  p.add_argument("--average-settings", action="store_true",
                 help="Table 4: average the per-class settings under:C")
  p.add_argument("--figure1", action="store_true")
  p.add_argument("--figure2", nargs="*", default=None, metavar="LABEL=RUN_DIR")
  p.add_argument("--switch-step", type=int, default=None)
  p.add_argument("--command", default="")
  p.add_argument("--wandb-project", default="")
  p.add_argument("--note", default="", help="printed under the header")
  p.add_argument("--rho", type=float, default=tables.RHO,
                 help="the corrected t-test's n_test/n_train (default 1/3: "
                 "one held-out fold to three training folds)")
  p.add_argument("--wandb-dir", default="",
                 help="where W&B writes its files (default OUT_DIR/_wandb)")
  args = p.parse_args(argv)
  figure2 = None
  if args.figure2:
    figure2 = dict(item.split("=", 1) for item in args.figure2)
  try:
    paths = write_report(args.run_dirs, args.out_dir, args.experiment,
                         args.table, args.average_settings, args.figure1,
                         figure2, args.switch_step, args.command,
                         args.wandb_project, args.wandb_dir, args.note,
                         rho=args.rho)
  except (OSError, ValueError, KeyError) as e:
    print(f"report: error: {e}", file=sys.stderr)
    return 2
  print("\n".join(f"{k}: {v}" for k, v in paths.items()))
  return 0


if __name__ == "__main__":
  sys.exit(main())
