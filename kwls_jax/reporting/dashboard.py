"""A saved W&B workspace for one experiment's runs (wandb-workspaces).

`workspace(experiment, project, entity)` builds it without any network call:
the experiment's runs (config `experiment` or W&B group), grouped by `method`;
a section of learning curves, one of test accuracy, one of the report run's
table and figures. `workspace_spec` is its JSON form, the view `save` uploads.
W&B workspaces apply the runs table's grouping to their panels (the SDK sets
the sections' "use runs table grouping" on), so the runs table is grouped by
method too, and each panel carries the same grouping for when that is off.
"""

from __future__ import annotations

import json
import os
import re

import yaml

from kwls_jax.atomic import atomic_open

DEFAULT_PROJECT = "kwls-jax"
GROUP_BY = "method"
CURVES = ("dev/accuracy", "dev/loss", "train/loss")  # tracking.scalars' keys
TEST_METRIC = "final/accuracy"  # the loop's W&B summary of the test split
CELL = ("dataset", "setting", "model", "method")  # a table cell's config keys
TABLE = "accuracy_table"  # logged by the report run (reporting/tracking.py)
IMAGES = ("calibration", "figure1", "figure2")
MAX_RUNS = 1000  # runs (or groups) a panel draws; W&B shows 10 by default
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


def check_experiment(experiment: str) -> str:
  """The name, or ValueError when it is not one of the workflow's names."""
  if not _NAME.fullmatch(experiment or ""):
    raise ValueError(f"experiment {experiment!r}: expected a name such as "
                     "quick (letters, digits, '_', '.', '-')")
  return experiment


def default_project(experiment: str, experiments_dir: str = "experiments") -> str:
  """experiments/<experiment>.yaml's wandb_project, else kwls-jax."""
  path = os.path.join(experiments_dir, f"{experiment}.yaml")
  if not os.path.exists(path):
    return DEFAULT_PROJECT
  with open(path, encoding="utf-8") as f:
    config = yaml.safe_load(f) or {}
  return config.get("wandb_project") or DEFAULT_PROJECT


def workspace(experiment: str, project: str, entity: str = ""):
  """The wandb_workspaces Workspace of `experiment` (built offline)."""
  import wandb_workspaces.reports.v2 as wr  # pylint: disable=g-import-not-at-top
  import wandb_workspaces.workspaces as ws  # pylint: disable=g-import-not-at-top
  from wandb_workspaces import expr  # pylint: disable=g-import-not-at-top
  check_experiment(experiment)
  by = wr.Config(GROUP_BY)
  grouped = dict(groupby=by, groupby_aggfunc="mean", groupby_rangefunc="stderr")
  curves = [wr.LinePlot(title=f"{key} by {GROUP_BY}", x="Step", y=[key],
                        **grouped) for key in CURVES]
  test = [
      wr.BarPlot(title=f"test accuracy by {GROUP_BY} (mean ± stderr)",
                 metrics=[TEST_METRIC], orientation="v", **grouped),
      wr.ParallelCoordinatesPlot(
          title="test accuracy per dataset/setting/model/method",
          columns=[wr.ParallelCoordinatesPlotColumn(metric=wr.Config(k))
                   for k in CELL] + [wr.ParallelCoordinatesPlotColumn(
                       metric=wr.SummaryMetric(TEST_METRIC))]),
  ]
  report = [wr.WeavePanelSummaryTable(table_name=TABLE,
                                      layout=wr.Layout(w=24, h=12)),
            wr.MediaBrowser(title="figures", media_keys=list(IMAGES))]
  return ws.Workspace(
      entity=entity or "", project=project, name=f"kwls {experiment}",
      sections=[
          ws.Section(name="learning curves", panels=curves, is_open=True),
          ws.Section(name="test accuracy", panels=test, is_open=True),
          ws.Section(name="report", panels=report, is_open=True,
                     layout_settings=ws.SectionLayoutSettings(columns=1)),
      ],
      settings=ws.WorkspaceSettings(max_runs=MAX_RUNS),
      runset_settings=ws.RunsetSettings(
          filters=expr.Or(expr.Config("experiment") == experiment,
                          expr.Metric("Group") == experiment),
          groupby=[expr.Config(GROUP_BY)]))


def workspace_spec(experiment: str, project: str, entity: str = "") -> dict:
  """The workspace as the JSON view W&B stores (entity, project, spec)."""
  view = workspace(experiment, project, entity)._to_model()  # pylint: disable=protected-access
  return view.model_dump(by_alias=True, exclude_none=True, mode="json")


def write_spec(path: str, spec: dict) -> None:
  with atomic_open(path) as f:
    json.dump(spec, f, indent=1, ensure_ascii=False)
    f.write("\n")


def save(experiment: str, project: str, entity: str = "") -> str:
  """Saves the workspace to W&B (network); returns its URL."""
  if not entity:
    import wandb  # pylint: disable=g-import-not-at-top
    entity = wandb.Api().default_entity
    if not entity:
      raise ValueError("no default W&B entity for this API key: pass --entity")
  return workspace(experiment, project, entity).save().url
