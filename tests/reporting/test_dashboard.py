"""`kwls dashboard`: the W&B workspace spec, built and written without network."""

from __future__ import annotations

import json
import socket

import pytest

from kwls_jax import cli
from kwls_jax.reporting import dashboard

# wandb-workspaces 0.4 still declares pydantic v1-style validators.
pytestmark = pytest.mark.filterwarnings("ignore:Pydantic V1 style:DeprecationWarning")

METHOD = "method.value"  # how W&B stores a grouping by config key `method`


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
  """Any connection attempt fails the test."""
  def refuse(*args, **kwargs):
    raise AssertionError(f"network call: {args}")
  monkeypatch.setattr(socket.socket, "connect", refuse)
  monkeypatch.setattr(socket, "create_connection", refuse)
  monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def no_api_key(monkeypatch, tmp_path):
  monkeypatch.delenv("WANDB_MODE", raising=False)
  monkeypatch.delenv("WANDB_API_KEY", raising=False)
  monkeypatch.setenv("NETRC", str(tmp_path / "none"))
  monkeypatch.setenv("HOME", str(tmp_path))


def _panels(spec: dict) -> dict[str, list[dict]]:
  """{section name: its panels}."""
  return {s["name"]: s["panels"]
          for s in spec["spec"]["section"]["panelBankConfig"]["sections"]}


def test_runs_are_the_experiments_grouped_by_method():
  spec = dashboard.workspace_spec("quick", "kwls-jax", "team")
  assert (spec["entity"], spec["project"]) == ("team", "kwls-jax")
  runset = spec["spec"]["section"]["runSets"][0]
  filters = runset["filters"]["filters"]
  assert [(f["key"], f["op"], f["value"]) for f in filters] == [
      ({"section": "config", "name": "experiment"}, "=", "quick"),
      ({"section": "run", "name": "group"}, "=", "quick")]
  assert filters[1]["connector"] == "OR"
  assert runset["grouping"] == [{"section": "config", "name": METHOD}]


def test_curves_are_dev_and_train_metrics_by_method_against_step():
  plots = _panels(dashboard.workspace_spec("quick", "p"))["learning curves"]
  assert {p["viewType"] for p in plots} == {"Run History Line Plot"}
  assert [p["config"]["metrics"] for p in plots] == [
      ["dev/accuracy"], ["dev/loss"], ["train/loss"]]
  for p in plots:
    assert p["config"]["xAxis"] == "_step"
    assert p["config"]["groupBy"] == METHOD and p["config"]["aggregate"]
    assert (p["config"]["groupAgg"], p["config"]["groupArea"]) == ("mean",
                                                                  "stderr")


def test_test_accuracy_by_method_and_per_cell():
  bar, parallel = _panels(dashboard.workspace_spec("quick", "p"))["test accuracy"]
  assert bar["viewType"] == "Bar Chart"
  assert bar["config"]["metrics"] == ["final/accuracy"]
  assert bar["config"]["groupBy"] == METHOD
  assert parallel["viewType"] == "Parallel Coordinates Plot"
  assert [c["accessor"] for c in parallel["config"]["columns"]] == [
      "config:dataset.value", "config:setting.value", "config:model.value",
      "config:method.value", "summary:final/accuracy"]


def test_report_section_shows_the_accuracy_table_and_figures():
  table, media = _panels(dashboard.workspace_spec("quick", "p"))["report"]
  assert table["viewType"] == "Weave"
  pick = table["config"]["panel2Config"]["exp"]["fromOp"]
  assert pick["name"] == "pick"
  assert pick["inputs"]["key"]["val"] == "accuracy_table"
  assert media["viewType"] == "Media Browser"
  assert media["config"]["mediaKeys"] == ["calibration", "figure1", "figure2"]


def test_spec_reads_back_as_a_workspace():
  from wandb_workspaces.workspaces import Workspace, internal  # pylint: disable=g-import-not-at-top
  spec = dashboard.workspace_spec("table2", "p", "e")
  back = Workspace._from_model(internal.View.model_validate(spec))  # pylint: disable=protected-access
  assert [s.name for s in back.sections] == [
      "learning curves", "test accuracy", "report"]
  assert "table2" in back.runset_settings.filters


def test_cli_writes_the_spec_offline(no_api_key, tmp_path, monkeypatch, capsys):
  monkeypatch.chdir(tmp_path)
  (tmp_path / "experiments").mkdir()
  (tmp_path / "experiments" / "quick.yaml").write_text(
      "experiment: quick\nwandb_project: kwls-test\n")
  assert cli.main(["dashboard", "quick"]) == 0
  written = tmp_path / "results" / "quick" / "dashboard.json"
  spec = json.loads(written.read_text())
  assert spec["project"] == "kwls-test" and spec["entity"] == ""
  assert "wrote results/quick/dashboard.json" in capsys.readouterr().err
  assert set(_panels(spec)) == {"learning curves", "test accuracy", "report"}


def test_cli_out_writes_even_with_a_key(monkeypatch, tmp_path):
  monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
  monkeypatch.delenv("WANDB_MODE", raising=False)
  out = tmp_path / "d.json"
  assert cli.main(["dashboard", "figure2", "--project", "p", "--entity", "e",
                   "--out", str(out)]) == 0
  spec = json.loads(out.read_text())
  assert (spec["entity"], spec["project"]) == ("e", "p")
  assert spec["spec"]["section"]["runSets"][0]["filters"]["filters"][0][
      "value"] == "figure2"


def test_project_defaults_to_kwls_jax(tmp_path):
  assert dashboard.default_project("nope", str(tmp_path)) == "kwls-jax"


@pytest.mark.parametrize("name", ["", "a b", "x'y", "../quick"])
def test_bad_name_exits_2(name, no_api_key, tmp_path, capsys):
  assert cli.main(["dashboard", name, "--out", str(tmp_path / "d.json")]) == 2
  assert "kwls dashboard: error: experiment" in capsys.readouterr().err
  assert not (tmp_path / "d.json").exists()


def test_cli_online_saves_the_view_and_prints_its_url(monkeypatch, tmp_path,
                                                      capsys):
  from wandb_workspaces.workspaces import Workspace  # pylint: disable=g-import-not-at-top
  saved = []
  monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
  monkeypatch.delenv("WANDB_MODE", raising=False)
  monkeypatch.chdir(tmp_path)
  monkeypatch.setattr(Workspace, "save", lambda self: saved.append(self) or self)
  monkeypatch.setattr(Workspace, "url", property(
      lambda self: f"https://wandb.ai/{self.entity}/{self.project}?nw=v"))
  assert cli.main(["dashboard", "quick", "--project", "p", "--entity", "e"]) == 0
  assert capsys.readouterr().out.strip() == "https://wandb.ai/e/p?nw=v"
  assert [w.name for w in saved] == ["kwls quick"]
  assert not (tmp_path / "results").exists()
