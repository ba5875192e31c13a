"""Tests for loading Hugging Face-format BERT checkpoints into NNX."""

import json

from flax import nnx
import numpy as np
import pytest
from safetensors import numpy as safetensors_np

from kwls_jax import models
from kwls_jax.models import bert
from kwls_jax.models import bert_checkpoint

CONFIG = dict(vocab_size=12, hidden_size=8, num_hidden_layers=2,
              num_attention_heads=2, intermediate_size=16,
              max_position_embeddings=16, model_type="bert",
              architectures=["BertModel"])
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
         "on", "mat", "##s", "."]
IDS = np.array([[2, 5, 6, 7, 3, 0]], np.int32)


def _write(folder, state):
  folder.mkdir()
  (folder / "config.json").write_text(json.dumps(CONFIG))
  (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
  safetensors_np.save_file(state, str(folder / "model.safetensors"))
  return folder


@pytest.fixture(scope="module")
def source():
  return bert.BertModel(bert.BertConfig.from_dict(CONFIG), rngs=nnx.Rngs(3))


def _hidden(model):
  return np.asarray(model(IDS, deterministic=True).last_hidden_state)


@pytest.mark.parametrize("layout", ["plain", "bert_prefix", "gamma_beta"])
def test_round_trip(tmp_path, source, layout):
  state = bert_checkpoint.export_state(source)
  if layout == "bert_prefix":
    state = {f"bert.{k}": v for k, v in state.items()}
    state["cls.predictions.bias"] = np.zeros(12, np.float32)  # Ignored head.
  elif layout == "gamma_beta":
    state = {k.replace("LayerNorm.weight", "LayerNorm.gamma")
              .replace("LayerNorm.bias", "LayerNorm.beta"): v
             for k, v in state.items()}
  state["embeddings.position_ids"] = np.arange(16)[None]  # A buffer, ignored.
  folder = _write(tmp_path / layout, state)
  model, config = bert_checkpoint.load_bert(folder, rngs=nnx.Rngs(0))
  assert config.hidden_size == 8 and model.pooler is not None
  np.testing.assert_array_equal(_hidden(model), _hidden(source))
  np.testing.assert_array_equal(
      model(IDS, deterministic=True).pooler_output,
      source(IDS, deterministic=True).pooler_output)


def test_missing_pooler(tmp_path, source):
  state = {k: v for k, v in bert_checkpoint.export_state(source).items()
           if not k.startswith("pooler.")}
  folder = _write(tmp_path / "ckpt", state)
  model, _ = bert_checkpoint.load_bert(folder, rngs=nnx.Rngs(0))
  assert model.pooler is None
  np.testing.assert_array_equal(_hidden(model), _hidden(source))
  clf = models.create_model("bert", 3, nnx.Rngs(0), pretrained=folder)
  assert clf.bert.config.hidden_size == 8
  assert clf(IDS, deterministic=True).shape == (1, 3)  # Pooler left at init.


def test_missing_or_misshapen_tensor_raises(tmp_path, source):
  state = bert_checkpoint.export_state(source)
  del state["encoder.layer.1.output.dense.weight"]
  folder = _write(tmp_path / "missing", state)
  with pytest.raises(KeyError, match="encoder.layer.1.output.dense.weight"):
    bert_checkpoint.load_bert(folder, rngs=nnx.Rngs(0))
  state = bert_checkpoint.export_state(source)
  state["pooler.dense.bias"] = np.zeros(5, np.float32)
  folder = _write(tmp_path / "shape", state)
  with pytest.raises(ValueError, match="pooler.dense.bias"):
    bert_checkpoint.load_bert(folder, rngs=nnx.Rngs(0))


def test_tokenizer_from_checkpoint(tmp_path, source):
  folder = _write(tmp_path / "ckpt", bert_checkpoint.export_state(source))
  tok = bert_checkpoint.load_tokenizer(folder, max_length=8)
  np.testing.assert_array_equal(tok.encode(["The cats sat."])["input_ids"],
                                [[2, 5, 6, 10, 7, 11, 3, 0]])


def test_hub_name_fails_fast_offline(monkeypatch):
  monkeypatch.setenv("HF_HUB_OFFLINE", "1")
  with pytest.raises(FileNotFoundError, match="HF_HUB_OFFLINE"):
    bert_checkpoint.resolve_checkpoint("no-such-org/no-such-bert")


def test_hub_error_is_explained(monkeypatch):
  import huggingface_hub  # pylint: disable=g-import-not-at-top

  def fail(*args, **kwargs):
    raise OSError("no network")

  monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
  monkeypatch.setattr(huggingface_hub, "snapshot_download", fail)
  with pytest.raises(FileNotFoundError, match="local folder"):
    bert_checkpoint.resolve_checkpoint("bert-base-uncased")
