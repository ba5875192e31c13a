"""One dataclass config per training run: YAML/JSON in, `--set` overrides, checks.

Fields left at None are filled by `resolve` with the authors' defaults for the
model family (models/families.py: BERT AdamW 5e-5, 10% warmup + linear decay,
weight decay 0.01, max length 160; TextCNN/LSTM Adam 1e-3, constant);
`config.json` in the run directory holds the resolved values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import types
import typing
from typing import Any, Sequence

from kwls_jax.atomic import atomic_open
from kwls_jax.models import families

METHODS = ("none", "classic", "tfidf", "kwls", "distill")
TASKS = ("classification", "retrieval")
LABEL_DOCS = ("sentence", "questions")
DTYPES = ("auto", "float32", "bfloat16")
SPLIT_KEYS = ("path", "fold", "k", "seed", "part")


class ConfigError(ValueError):
  """A config that cannot run; the message is one line naming the field."""


@dataclasses.dataclass
class ModelConfig:
  """The classifier and its input encoding."""

  name: str = "textcnn"
  max_length: int | None = None  # BERT 160, TextCNN/LSTM 256
  embed_dim: int = 300  # TextCNN/LSTM
  vocab_min_count: int = 1  # TextCNN/LSTM vocabulary, built on the train split
  vocab_max_size: int | None = 50_000
  dropout: float = 0.5  # TextCNN/LSTM
  pretrained: str = ""  # BERT: folder, Hub name or "minilm" (the pip package);
  # default bert-base-uncased unless `vocab` is set (then random-init `preset`)
  preset: str = "bert-base"
  vocab: str = ""  # BERT vocab.txt / folder when not pretrained
  dtype: str = "auto"  # auto: bfloat16 on gpu/tpu, float32 on cpu
  options: dict = dataclasses.field(default_factory=dict)  # to create_model


@dataclasses.dataclass
class SmoothingConfig:
  """Options of kwls_jax.soft_labels (Eqs. 1-8, LS-TFIDF, LS-Classic)."""

  tokenizer: str = "word"
  k1: float = 2.0
  b: float = 0.75
  k2: float = 2.0
  epsilon: float = 0.1


@dataclasses.dataclass
class OptimizerConfig:
  """Adam(W) with optional warmup and linear decay; None = the model's default."""

  name: str | None = None  # adam | adamw
  learning_rate: float | None = None
  warmup_ratio: float | None = None
  decay: str | None = None  # constant | linear
  weight_decay: float | None = None
  grad_clip_norm: float | None = None  # 0 = off


@dataclasses.dataclass
class DataConfig:
  """Each split: a .jsonl(.gz) path, "name:split", or a dict of SPLIT_KEYS."""

  train: Any = ""
  dev: Any = ""
  test: Any = ""
  data_dir: str = ""  # default $KWLS_DATA_DIR


@dataclasses.dataclass
class WandbConfig:
  """Weights & Biases tracking; an empty project turns it off."""

  project: str = ""
  group: str = ""
  job_type: str = ""
  tags: list = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RetrievalConfig:
  """A dual encoder on a ReQA benchmark (task: retrieval; kwls_jax/retrieval).

  The queries of `fold`'s articles are the test queries; a `dev_share` of the
  other articles (seeded by `split_seed`) gives the dev queries, the rest
  train. Score = cos(q, s) / temperature.
  """

  benchmark: str = ""  # folder written by `kwls reqa build`
  fold: int = 0
  folds: int = 4
  dev_share: float = 0.25  # of the training folds' articles: 3:1 train/dev
  split_seed: int = 0
  embed_dim: int = 256  # the towers' output (their linear projection)
  temperature: float = 0.05
  shared_tower: bool = True  # False: separate query and candidate towers
  negatives: int = 0  # random training-pool candidates per batch, besides
  # the batch's own gold candidates
  label_doc: str = "sentence"  # KWLS/TF-IDF label document X_m: the
  # candidate's sentence, or the training questions whose gold it is


@dataclasses.dataclass
class TrainConfig:
  """Everything one run needs; see the module docstring."""

  name: str = "run"
  model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
  method: str = "none"
  alpha: float = 1.0  # Eq. 9; forced to 0 for method none
  soft_label_start_step: int = 0  # alpha is 0 before this step (Figure 2)
  # The authors' code variant of Eq. 9: a second output head fit to the soft
  # labels by MSE while the first takes the cross-entropy; predictions come
  # from the first. False (default): the paper's single head.
  two_head: bool = False
  smoothing: SmoothingConfig = dataclasses.field(default_factory=SmoothingConfig)
  soft_labels: str = ""  # precomputed float32 [N_train, P] .npy
  teacher_run: str = ""  # method distill: run dir with predictions/train_probs.npy
  optimizer: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)
  batch_size: int = 32
  eval_batch_size: int = 0  # 0 = 2 * batch_size
  epochs: int = 3
  max_steps: int = 0  # 0 = epochs * steps per epoch
  seed: int = 0
  eval_every: int = 0  # steps; 0 = once per epoch
  log_every: int = 50
  checkpoint_every: int = 0  # steps; 0 = once per epoch
  keep_checkpoints: int = 2
  save_train_probs: bool = True  # predictions/train_probs.npy (distill teachers)
  data: DataConfig = dataclasses.field(default_factory=DataConfig)
  wandb: WandbConfig = dataclasses.field(default_factory=WandbConfig)
  task: str = "classification"  # or retrieval (the `retrieval` fields)
  retrieval: RetrievalConfig = dataclasses.field(
      default_factory=RetrievalConfig)


def _field_types(cls) -> dict[str, Any]:
  return typing.get_type_hints(cls)


def _coerce(value: Any, tp: Any, where: str) -> Any:
  """`value` checked against the annotation `tp`."""
  if dataclasses.is_dataclass(tp):
    if isinstance(value, tp):
      return value
    if not isinstance(value, dict):
      raise ConfigError(f"{where}: expected an object, got {value!r}")
    return from_dict(value, tp, where)
  if tp is Any:
    return value
  args = typing.get_args(tp)
  if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
    if value is None and type(None) in args:
      return None
    tp = next(a for a in args if a is not type(None))
  if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
    return float(value)
  if tp is int and isinstance(value, int) and not isinstance(value, bool):
    return value
  if tp in (str, bool, dict, list) and type(value) is tp:  # pylint: disable=unidiomatic-typecheck
    return value
  raise ConfigError(
      f"{where}: expected {getattr(tp, '__name__', tp)}, got {value!r}")


def from_dict(values: dict, cls=TrainConfig, where: str = "config"):
  """A config dataclass from a dict; unknown keys are errors."""
  hints = _field_types(cls)
  names = [f.name for f in dataclasses.fields(cls)]
  unknown = sorted(set(values) - set(names))
  if unknown:
    raise ConfigError(f"{where}: unknown field(s) {unknown}; known: {names}")
  return cls(**{k: _coerce(v, hints[k], f"{where}.{k}")
                for k, v in values.items()})


def to_dict(config) -> dict:
  """The config as plain JSON-able values."""
  return dataclasses.asdict(config)


def _parse_value(text: str) -> Any:
  """A --set value: JSON when it parses (1e-3, true, null, [..]), else a string."""
  try:
    return json.loads(text)
  except json.JSONDecodeError:
    return text


def apply_overrides(values: dict, overrides: Sequence[str]) -> dict:
  """Applies `key.sub=value` strings to a nested dict (a copy)."""
  values = json.loads(json.dumps(values))
  for item in overrides:
    key, sep, text = item.partition("=")
    if not sep or not key:
      raise ConfigError(f"--set {item!r}: expected key=value")
    *parents, leaf = key.split(".")
    node = values
    for p in parents:
      child = node.setdefault(p, {})
      if not isinstance(child, dict):
        raise ConfigError(f"--set {item!r}: {p} is not an object")
      node = child
    node[leaf] = _parse_value(text)
  return values


def read_file(path: str | os.PathLike) -> dict:
  """A config dict from a .yaml, .yml or .json file.

  JSON has no comments: a top-level "_comment" key of a .json file, where run
  configs written as JSON keep theirs, is dropped.
  """
  path = os.fspath(path)
  try:
    with open(path, encoding="utf-8") as f:
      text = f.read()
  except OSError as e:
    raise ConfigError(f"{path}: cannot read: {e.strerror}") from None
  try:
    if path.endswith((".yaml", ".yml")):
      import yaml  # pylint: disable=g-import-not-at-top
      values = yaml.safe_load(text)
    else:
      values = json.loads(text)
  except Exception as e:  # JSON or YAML syntax: one line, naming the file.
    raise ConfigError(f"{path}: cannot parse: {str(e).splitlines()[0]}") from None
  if not isinstance(values, dict):
    raise ConfigError(f"{path}: the top level must be an object")
  if not path.endswith((".yaml", ".yml")):
    values.pop("_comment", None)
  return values


def load(path: str | os.PathLike | None = None,
         overrides: Sequence[str] = (), **values) -> TrainConfig:
  """Reads, overrides, resolves and validates a config."""
  base = read_file(path) if path is not None else {}
  base = apply_overrides({**base, **values}, [])
  return resolve(from_dict(apply_overrides(base, overrides)))


def _check_split(name: str, spec: Any, required: bool) -> None:
  where = f"data.{name}"
  if spec in ("", None):
    if required:
      raise ConfigError(f"{where}: required (a path, 'name:split' or object)")
    return
  if isinstance(spec, str):
    return
  if not isinstance(spec, dict):
    raise ConfigError(f"{where}: expected a string or object, got {spec!r}")
  unknown = sorted(set(spec) - set(SPLIT_KEYS))
  if unknown or "path" not in spec:
    raise ConfigError(f"{where}: keys must include 'path' and be among "
                      f"{list(SPLIT_KEYS)}, got {sorted(spec)}")
  if spec.get("part", "train") not in ("train", "dev"):
    raise ConfigError(f"{where}.part must be 'train' or 'dev', got {spec['part']!r}")
  if not 0 <= int(spec.get("fold", 0)) < int(spec.get("k", 4)):
    raise ConfigError(f"{where}: fold must lie in [0, k)")


def resolve(config: TrainConfig) -> TrainConfig:
  """Fills the model-dependent defaults and validates; returns a new config."""
  c = from_dict(to_dict(config))
  m, opt = c.model, c.optimizer
  if m.name not in families.MODEL_NAMES:
    raise ConfigError(f"model.name must be one of {families.MODEL_NAMES}, "
                      f"got {m.name!r}")
  if c.method not in METHODS:
    raise ConfigError(f"method must be one of {METHODS}, got {c.method!r}")
  if m.dtype not in DTYPES:
    raise ConfigError(f"model.dtype must be one of {DTYPES}, got {m.dtype!r}")
  if c.smoothing.tokenizer not in ("word", "whitespace"):
    raise ConfigError("smoothing.tokenizer must be 'word' or 'whitespace'")
  from kwls_jax.smoothing import api, classic  # pylint: disable=g-import-not-at-top
  try:
    api.check_hyperparameters(c.smoothing.k1, c.smoothing.b, c.smoothing.k2)
    classic.check_epsilon(c.smoothing.epsilon)
  except ValueError as e:
    raise ConfigError(f"smoothing.{e}") from None
  family = families.get(m.name)
  if m.max_length is None:
    m.max_length = family.max_length
  if family.pretrained and not (m.pretrained or m.vocab):
    m.pretrained = family.pretrained
  for k, v in family.optimizer.items():
    if getattr(opt, k) is None:
      setattr(opt, k, v)
  if opt.name not in ("adam", "adamw"):
    raise ConfigError(f"optimizer.name must be adam or adamw, got {opt.name!r}")
  if opt.decay not in ("constant", "linear"):
    raise ConfigError(f"optimizer.decay must be constant or linear, got {opt.decay!r}")
  if not 0.0 <= opt.warmup_ratio < 1.0:
    raise ConfigError("optimizer.warmup_ratio must lie in [0, 1)")
  if opt.learning_rate <= 0:
    raise ConfigError("optimizer.learning_rate must be > 0")
  if c.method == "none":
    c.alpha = 0.0
  if c.alpha < 0:
    raise ConfigError(f"alpha must be >= 0, got {c.alpha}")
  if c.method == "distill" and not c.teacher_run and not c.soft_labels:
    raise ConfigError("method distill needs teacher_run (a run dir of method none)")
  if c.method == "none" and c.soft_labels:
    raise ConfigError("soft_labels given but method is none")
  for k in ("batch_size", "epochs", "log_every", "keep_checkpoints",
            "max_length"):
    v = getattr(m if k == "max_length" else c, k)
    if v < 1:
      raise ConfigError(f"{k} must be >= 1, got {v}")
  for k in ("eval_batch_size", "max_steps", "eval_every", "checkpoint_every",
            "soft_label_start_step"):
    if getattr(c, k) < 0:
      raise ConfigError(f"{k} must be >= 0, got {getattr(c, k)}")
  c.eval_batch_size = c.eval_batch_size or 2 * c.batch_size
  if c.task not in TASKS:
    raise ConfigError(f"task must be one of {TASKS}, got {c.task!r}")
  if c.task == "retrieval":
    _check_retrieval(c)
    return c
  _check_split("train", c.data.train, True)
  _check_split("dev", c.data.dev, False)
  _check_split("test", c.data.test, True)
  return c


def _check_retrieval(c: TrainConfig) -> None:
  """The fields of a retrieval run (its data come from retrieval.benchmark)."""
  r = c.retrieval
  if not r.benchmark:
    raise ConfigError("retrieval.benchmark: required (a `kwls reqa build` "
                      "folder)")
  given = [k for k in ("train", "dev", "test") if getattr(c.data, k)]
  if given:
    raise ConfigError(f"data.{given[0]}: task retrieval reads "
                      "retrieval.benchmark; leave data empty")
  for bad, why in ((c.two_head, "two_head"), (c.soft_labels, "soft_labels")):
    if bad:
      raise ConfigError(f"{why}: not for task retrieval")
  if r.folds < 2 or not 0 <= r.fold < r.folds:
    raise ConfigError(f"retrieval.fold must lie in [0, {r.folds}) with "
                      f"folds >= 2, got fold {r.fold}")
  if not 0.0 < r.dev_share < 1.0:
    raise ConfigError(f"retrieval.dev_share must lie in (0, 1), got "
                      f"{r.dev_share}")
  for k in ("embed_dim", "temperature"):
    if getattr(r, k) <= 0:
      raise ConfigError(f"retrieval.{k} must be > 0, got {getattr(r, k)}")
  if r.negatives < 0:
    raise ConfigError(f"retrieval.negatives must be >= 0, got {r.negatives}")
  if r.label_doc not in LABEL_DOCS:
    raise ConfigError(f"retrieval.label_doc must be one of {LABEL_DOCS}, got "
                      f"{r.label_doc!r}")


def stored_dict(config: TrainConfig) -> dict:
  """to_dict without the task fields of a classification run, so that its
  config.json and hash are those of a config without them."""
  values = to_dict(config)
  if values.get("task") == "classification":
    values.pop("task")
    values.pop("retrieval")
  return values


def config_hash(config: TrainConfig) -> str:
  """sha256 (first 16 hex digits) of the resolved config, name and W&B out."""
  values = stored_dict(config)
  for k in ("name", "wandb"):
    values.pop(k, None)
  text = json.dumps(values, sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def save(config: TrainConfig, path: str | os.PathLike) -> None:
  """Writes the resolved config as JSON (whole or not at all)."""
  with atomic_open(path) as f:
    json.dump(stored_dict(config), f, indent=2)
    f.write("\n")
