"""Loading Hugging Face BERT checkpoints (config.json + safetensors) into NNX."""

from __future__ import annotations

import json
import logging
import os
import pathlib

from flax import nnx
import jax.numpy as jnp
import numpy as np
from safetensors import numpy as safetensors_np

from kwls_jax.models import bert as bert_lib
from kwls_jax.models import wordpiece

_FILES = ["config.json", "model.safetensors", "model.safetensors.index.json",
          "vocab.txt", "tokenizer.json", "tokenizer_config.json"]
# Old TF-converted checkpoints name LayerNorm parameters gamma and beta.
_RENAMES = {".gamma": ".weight", ".beta": ".bias"}


def resolve_checkpoint(name_or_path: str | os.PathLike) -> pathlib.Path:
  """A local checkpoint folder, downloading from the Hub only for a bare name."""
  path = pathlib.Path(name_or_path).expanduser()
  if path.is_dir():
    return path
  if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
    raise FileNotFoundError(
        f"{name_or_path!r} is not a local folder and HF_HUB_OFFLINE is set")
  import huggingface_hub  # pylint: disable=g-import-not-at-top
  try:
    return pathlib.Path(huggingface_hub.snapshot_download(
        str(name_or_path), allow_patterns=_FILES, etag_timeout=10))
  except Exception as e:  # Offline, unknown repo, rate limit: same advice.
    raise FileNotFoundError(
        f"{name_or_path!r} is not a local folder and could not be fetched "
        f"from the Hugging Face Hub ({type(e).__name__}: {e}). Offline, pass "
        "a folder holding config.json, model.safetensors and vocab.txt "
        "(e.g. kwls_jax.models.pretrained.minilm_dir()).") from e


def load_config(path: str | os.PathLike, **overrides) -> bert_lib.BertConfig:
  """BertConfig from the folder's config.json."""
  with open(pathlib.Path(path) / "config.json", encoding="utf-8") as f:
    return bert_lib.BertConfig.from_dict({**json.load(f), **overrides})


def load_state(path: str | os.PathLike) -> dict[str, np.ndarray]:
  """Encoder tensors by unprefixed Hugging Face name ('embeddings.', 'encoder.', 'pooler.')."""
  path = pathlib.Path(path)
  index = path / "model.safetensors.index.json"
  if (path / "model.safetensors").exists():
    shards = [path / "model.safetensors"]
  elif index.exists():
    weight_map = json.loads(index.read_text())["weight_map"]
    shards = [path / f for f in sorted(set(weight_map.values()))]
  else:
    raise FileNotFoundError(
        f"{path} has no model.safetensors (PyTorch .bin files are not read)")
  raw = {}
  for shard in shards:
    raw.update(safetensors_np.load_file(str(shard)))
  prefixed = any(k.startswith("bert.") for k in raw)
  state = {}
  for key, value in raw.items():
    if prefixed:
      if not key.startswith("bert."):
        continue  # Task heads such as cls.* or classifier.*.
      key = key[len("bert."):]
    for old, new in _RENAMES.items():
      if key.endswith(old):
        key = key[:-len(old)] + new
    state[key] = value
  return state


def _targets(model: bert_lib.BertModel):
  """(HF name, NNX parameter, transpose) for every parameter of the encoder."""
  emb = model.embeddings
  out = [
      ("embeddings.word_embeddings.weight", emb.word_embeddings.embedding, False),
      ("embeddings.position_embeddings.weight",
       emb.position_embeddings.embedding, False),
      ("embeddings.token_type_embeddings.weight",
       emb.token_type_embeddings.embedding, False),
      ("embeddings.LayerNorm.weight", emb.layer_norm.scale, False),
      ("embeddings.LayerNorm.bias", emb.layer_norm.bias, False),
  ]

  def dense(name, layer):
    out.extend([(f"{name}.weight", layer.kernel, True),
                (f"{name}.bias", layer.bias, False)])

  def norm(name, layer):
    out.extend([(f"{name}.weight", layer.scale, False),
                (f"{name}.bias", layer.bias, False)])

  for i, layer in enumerate(model.layers):
    p = f"encoder.layer.{i}"
    dense(f"{p}.attention.self.query", layer.attention.query)
    dense(f"{p}.attention.self.key", layer.attention.key)
    dense(f"{p}.attention.self.value", layer.attention.value)
    dense(f"{p}.attention.output.dense", layer.attention_output)
    norm(f"{p}.attention.output.LayerNorm", layer.attention_norm)
    dense(f"{p}.intermediate.dense", layer.intermediate)
    dense(f"{p}.output.dense", layer.output)
    norm(f"{p}.output.LayerNorm", layer.output_norm)
  if model.pooler is not None:
    dense("pooler.dense", model.pooler)
  return out


def export_state(model: bert_lib.BertModel) -> dict[str, np.ndarray]:
  """The model's parameters under unprefixed Hugging Face names (float32).

  Arrays are C-contiguous: safetensors writes a transposed view's raw bytes.
  """
  out = {}
  for name, param, transpose in _targets(model):
    value = np.asarray(param[...], np.float32)
    out[name] = np.ascontiguousarray(value.T if transpose else value)
  return out


def assign_state(model: bert_lib.BertModel,
                 state: dict[str, np.ndarray]) -> list[str]:
  """Copy checkpoint tensors into the model; returns the names not found.

  Only the pooler may be missing (it is then left as initialised); any other
  missing tensor or a shape mismatch raises.
  """
  missing = []
  for name, param, transpose in _targets(model):
    if name not in state:
      missing.append(name)
      continue
    value = state[name].T if transpose else state[name]
    if value.shape != param.shape:
      raise ValueError(
          f"{name}: checkpoint shape {value.shape} != model {param.shape}")
    param[...] = jnp.asarray(value, dtype=param.dtype)
  required = [m for m in missing if not m.startswith("pooler.")]
  if required:
    raise KeyError(f"checkpoint lacks {len(required)} tensors: {required[:5]}")
  return missing


def load_bert(name_or_path: str | os.PathLike, *, rngs: nnx.Rngs,
              add_pooler: bool | None = None, dtype=None,
              param_dtype=jnp.float32, **config_overrides):
  """(BertModel, BertConfig) from a local folder or Hub name.

  add_pooler=None keeps the pooler exactly when the checkpoint has one.
  """
  path = resolve_checkpoint(name_or_path)
  config = load_config(path, **config_overrides)
  state = load_state(path)
  if add_pooler is None:
    add_pooler = "pooler.dense.weight" in state
  model = bert_lib.BertModel(config, rngs=rngs, add_pooler=add_pooler,
                             dtype=dtype, param_dtype=param_dtype)
  if assign_state(model, state):
    logging.warning("%s has no pooler weights; pooler left at random init",
                    name_or_path)
  return model, config


def load_bert_classifier(name_or_path: str | os.PathLike, num_labels: int, *,
                         rngs: nnx.Rngs, classifier_dropout: float | None = None,
                         dtype=None, param_dtype=jnp.float32,
                         **config_overrides) -> bert_lib.BertClassifier:
  """BertClassifier whose encoder (and pooler, if saved) come from a checkpoint."""
  path = resolve_checkpoint(name_or_path)
  config = load_config(path, **config_overrides)
  model = bert_lib.BertClassifier(
      config, num_labels, rngs=rngs, classifier_dropout=classifier_dropout,
      dtype=dtype, param_dtype=param_dtype)
  if assign_state(model.bert, load_state(path)):
    logging.warning("%s has no pooler weights; pooler left at random init",
                    name_or_path)
  return model


def load_tokenizer(name_or_path: str | os.PathLike, *,
                   max_length: int = wordpiece.DEFAULT_MAX_LENGTH
                   ) -> wordpiece.WordPieceTokenizer:
  """The checkpoint's WordPiece tokenizer (vocab.txt, else tokenizer.json)."""
  return wordpiece.WordPieceTokenizer.from_dir(
      resolve_checkpoint(name_or_path), max_length=max_length)
