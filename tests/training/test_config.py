"""Config loading, overrides, defaults and validation."""

from __future__ import annotations

import json
import pathlib

import pytest

from kwls_jax import cli
from kwls_jax.training import config as config_lib
from kwls_jax.training.config import ConfigError

REPO = pathlib.Path(__file__).resolve().parents[2]


def _base(tmp_path):
  return {"data": {"train": str(tmp_path / "t.jsonl"),
                   "test": str(tmp_path / "t.jsonl")}}


def test_defaults_follow_the_model(tmp_path):
  cnn = config_lib.load(None, [], **_base(tmp_path))
  assert (cnn.optimizer.name, cnn.optimizer.learning_rate) == ("adam", 1e-3)
  assert cnn.optimizer.decay == "constant" and cnn.optimizer.warmup_ratio == 0
  assert cnn.model.max_length == 256 and cnn.batch_size == 32
  assert cnn.epochs == 3 and cnn.eval_batch_size == 64
  bert = config_lib.load(None, ["model.name=bert", "model.pretrained=minilm"],
                         **_base(tmp_path))
  o = bert.optimizer
  assert (o.name, o.learning_rate, o.warmup_ratio, o.decay, o.weight_decay) == (
      "adamw", 5e-5, 0.1, "linear", 0.01)
  assert bert.model.max_length == 160
  bert = config_lib.load(None, ["model.name=bert"], **_base(tmp_path))
  assert bert.model.pretrained == "bert-base-uncased"


def test_overrides_are_dotted_and_typed(tmp_path):
  path = tmp_path / "c.json"
  path.write_text(json.dumps({**_base(tmp_path), "method": "kwls"}))
  c = config_lib.load(path, ["optimizer.learning_rate=2e-3", "alpha=0.5",
                             "smoothing.k1=1", "wandb.tags=[\"a\"]",
                             "name=x"])
  assert c.optimizer.learning_rate == 2e-3 and c.alpha == 0.5
  assert c.smoothing.k1 == 1.0 and isinstance(c.smoothing.k1, float)
  assert c.wandb.tags == ["a"] and c.name == "x"


def test_yaml_and_saved_config_round_trip(tmp_path):
  path = tmp_path / "c.yaml"
  path.write_text(f"method: tfidf\nalpha: 2\ndata:\n  train: {tmp_path}/a.jsonl\n"
                  f"  test: {tmp_path}/b.jsonl\n")
  c = config_lib.load(path)
  assert c.method == "tfidf" and c.alpha == 2.0
  config_lib.save(c, tmp_path / "config.json")
  again = config_lib.load(tmp_path / "config.json")
  assert again == c
  assert config_lib.config_hash(again) == config_lib.config_hash(c)


def test_method_none_forces_alpha_zero(tmp_path):
  assert config_lib.load(None, ["alpha=3"], **_base(tmp_path)).alpha == 0.0


@pytest.mark.parametrize("override, message", [
    ("method=kwl", "method must be one of"),
    ("model.name=cnn", "model.name must be one of"),
    ("batch_size=0", "batch_size must be >= 1"),
    ("batch_size=\"x\"", "config.batch_size: expected int"),
    ("optimizer.lr=1", "config.optimizer: unknown field(s) ['lr']"),
    ("method=distill", "needs teacher_run"),
    ("data.dev={\"path\": \"x\", \"part\": \"test\"}", "data.dev.part"),
    ("alpha", "expected key=value"),
    ("smoothing.k2=-2", "smoothing.k2 must be a finite number > 0, got -2"),
    ("smoothing.k1=0", "smoothing.k1 must be a finite number > 0"),
    ("smoothing.b=1.5", "smoothing.b must lie in [0, 1], got 1.5"),
    ("smoothing.epsilon=2", "smoothing.epsilon must lie in [0, 1]"),
])
def test_bad_configs_name_the_field(tmp_path, override, message):
  with pytest.raises(ConfigError) as e:
    config_lib.load(None, [override], **_base(tmp_path))
  assert message in str(e.value)


def test_train_split_is_required():
  with pytest.raises(ConfigError, match="data.train: required"):
    config_lib.load(None, [])


def test_cli_bad_config_exits_2_with_one_line(tmp_path, capsys):
  path = tmp_path / "c.json"
  path.write_text(json.dumps({**_base(tmp_path), "epochs": -1}))
  assert cli.main(["train", str(path)]) == 2
  err = capsys.readouterr().err.strip()
  assert err == "kwls train: error: epochs must be >= 1, got -1"
  path.write_text("{not json")
  assert cli.main(["train", str(path)]) == 2
  err = capsys.readouterr().err.strip().splitlines()
  assert len(err) == 1 and "cannot parse" in err[0]


def test_failed_run_leaves_no_empty_run_dir(tmp_path, capsys):
  """A run that stops on its data (here a missing file) leaves no empty run
  directory; one that existed before is kept."""
  path = tmp_path / "c.json"
  path.write_text(json.dumps(_base(tmp_path)))  # t.jsonl does not exist
  run_dir = tmp_path / "runs" / "r"
  assert cli.main(["train", str(path), "--run-dir", str(run_dir)]) == 2
  assert "t.jsonl" in capsys.readouterr().err
  assert not run_dir.exists()
  run_dir.mkdir(parents=True)
  assert cli.main(["train", str(path), "--run-dir", str(run_dir)]) == 2
  assert run_dir.is_dir()


RUN_CONFIGS = sorted(REPO.glob("experiments/train_*.yaml"))


@pytest.mark.parametrize("path", RUN_CONFIGS, ids=lambda p: p.name)
def test_run_configs_are_yaml_with_their_command_in_a_comment(path):
  """Each run config loads as it stands and its header names the command."""
  text = path.read_text()
  assert f"kwls train experiments/{path.name}" in text.split("\nname:")[0]
  values = config_lib.read_file(path)
  sets = ([] if "data" in values or values.get("task") == "retrieval" else [
      "data.train=train.jsonl.gz", "data.test=test.jsonl.gz"]) + (
          ["retrieval.benchmark=reqa"] if values.get("task") == "retrieval"
          else [])
  assert config_lib.load(path, sets).model.name == "textcnn"


def test_json_configs_still_load_and_may_carry_a_comment(tmp_path):
  """A JSON config, its "_comment" key included (JSON has no comments), is the
  same run as its YAML twin; in YAML "_comment" is an unknown field."""
  values = {**_base(tmp_path), "method": "kwls", "epochs": 2}
  path = tmp_path / "c.json"
  path.write_text(json.dumps({"_comment": "kwls train c.json", **values}))
  twin = tmp_path / "c.yaml"
  twin.write_text(json.dumps(values))  # JSON is YAML
  assert config_lib.load(path) == config_lib.load(twin)
  assert "_comment" not in config_lib.to_dict(config_lib.load(path))
  twin.write_text(json.dumps({"_comment": "x", **values}))
  with pytest.raises(ConfigError, match=r"unknown field\(s\) \['_comment'\]"):
    config_lib.load(twin)


def test_kwls_train_reads_yaml(tmp_path, capsys):
  path = tmp_path / "c.yaml"
  path.write_text(f"# a comment\nepochs: -1\ndata: {json.dumps(_base(tmp_path)['data'])}\n")
  assert cli.main(["train", str(path)]) == 2
  assert capsys.readouterr().err.strip() == (
      "kwls train: error: epochs must be >= 1, got -1")
