"""One contract per model family (TextCNN, BiLSTM, BERT), in one registry.

A family says what a run needs of its model kind: the config defaults, where
its pretrained weights are, how texts become input ids, and how the network
is built. `model` arguments are a `training.config.ModelConfig` (any object
with its fields). Nothing here imports flax until a model is built.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable

Encoder = Callable[[list], dict]  # texts -> {input_ids, attention_mask} [N, T]


@dataclasses.dataclass(frozen=True)
class Family:
  """What a run needs of one model family."""

  name: str
  max_length: int  # model.max_length default
  pretrained: str  # model.pretrained default when no vocab is given
  optimizer: dict  # OptimizerConfig defaults: the authors' settings
  # model -> local folder of the pretrained weights, '' for none.
  weights: Callable[[Any], str]
  # (model, weights folder, train texts, run dir) -> (encoder, vocab size).
  encoder: Callable[[Any, str, list, str], tuple[Encoder, int]]
  # (num_labels, rngs, **cfg) -> a network of (input_ids, attention_mask).
  create: Callable[..., Any]
  # (model, vocab size, weights folder) -> `create`'s keywords.
  settings: Callable[[Any, int, str], dict]

  def build(self, model, num_labels: int, vocab_size: int, rngs,
            weights: str = "", dtype=None):
    """The network of a model config, with compute `dtype` (None: float32)."""
    return self.create(num_labels, rngs, dtype=dtype, **self.settings(
        model, vocab_size, weights), **model.options)


def _no_weights(model) -> str:
  del model
  return ""


def _word_encoder(model, weights: str, train_texts: list,
                  run_dir: str) -> tuple[Encoder, int]:
  """A WordVocab of the train split, saved in (or reloaded from) run_dir."""
  del weights
  from kwls_jax.models.word_vocab import WordVocab  # pylint: disable=g-import-not-at-top
  path = os.path.join(run_dir, "vocab.json")
  if os.path.exists(path):
    vocab = WordVocab.load(path)
  else:
    vocab = WordVocab.build(train_texts, min_count=model.vocab_min_count,
                            max_size=model.vocab_max_size)
    vocab.save(path)
  return (lambda texts: vocab.encode(texts, model.max_length)), len(vocab)


def _word_settings(model, vocab_size: int, weights: str) -> dict:
  del weights
  return dict(vocab_size=vocab_size, embed_dim=model.embed_dim,
              dropout=model.dropout)


def _create_textcnn(num_labels: int, rngs, **cfg):
  from kwls_jax.models.textcnn import TextCNN  # pylint: disable=g-import-not-at-top
  return TextCNN(num_labels=num_labels, rngs=rngs, **cfg)


def _create_lstm(num_labels: int, rngs, **cfg):
  from kwls_jax.models.lstm import BiLSTMClassifier  # pylint: disable=g-import-not-at-top
  return BiLSTMClassifier(num_labels=num_labels, rngs=rngs, **cfg)


def _bert_weights(model) -> str:
  """The local checkpoint folder of model.pretrained ('' when not pretrained)."""
  if not model.pretrained:
    return ""
  if model.pretrained == "minilm":
    from kwls_jax.models import pretrained  # pylint: disable=g-import-not-at-top
    return str(pretrained.minilm_dir())
  from kwls_jax.models import bert_checkpoint  # pylint: disable=g-import-not-at-top
  return str(bert_checkpoint.resolve_checkpoint(model.pretrained))


def _bert_encoder(model, weights: str, train_texts: list,
                  run_dir: str) -> tuple[Encoder, int]:
  """The WordPiece of model.vocab (a vocab.txt or folder) or of the weights."""
  del train_texts, run_dir
  from kwls_jax.models import wordpiece  # pylint: disable=g-import-not-at-top
  if model.vocab and os.path.isfile(model.vocab):
    tok = wordpiece.WordPieceTokenizer.from_vocab(model.vocab,
                                                  max_length=model.max_length)
  else:
    tok = wordpiece.WordPieceTokenizer.from_dir(model.vocab or weights,
                                                max_length=model.max_length)

  def encode(texts):
    enc = tok.encode(texts)
    return {"input_ids": enc["input_ids"],
            "attention_mask": enc["attention_mask"]}
  return encode, tok.vocab_size


def _bert_settings(model, vocab_size: int, weights: str) -> dict:
  if weights:
    return dict(pretrained=weights)
  return dict(preset=model.preset, vocab_size=vocab_size)


def _create_bert(num_labels: int, rngs, **cfg):
  """pretrained=<folder or Hub name>, or config=BertConfig, or preset=
  'bert-base'|'minilm-l6' plus BertConfig fields; classifier_dropout, dtype
  and param_dtype go to the model."""
  from kwls_jax.models import bert  # pylint: disable=g-import-not-at-top
  model_kw = {k: cfg.pop(k) for k in ("classifier_dropout", "dtype",
                                      "param_dtype") if k in cfg}
  pretrained = cfg.pop("pretrained", None)
  if pretrained is not None:
    from kwls_jax.models import bert_checkpoint  # pylint: disable=g-import-not-at-top
    return bert_checkpoint.load_bert_classifier(
        pretrained, num_labels, rngs=rngs, **model_kw, **cfg)
  config = cfg.pop("config", None)
  preset = cfg.pop("preset", "bert-base")
  if config is None:
    presets = {"bert-base": bert.BertConfig.bert_base,
               "minilm-l6": bert.BertConfig.minilm_l6}
    if preset not in presets:
      raise ValueError(f"unknown BERT preset {preset!r}; one of {list(presets)}")
    config = presets[preset](**cfg)
  elif cfg:
    raise ValueError(f"pass BertConfig fields or config=, not both: {list(cfg)}")
  return bert.BertClassifier(config, num_labels, rngs=rngs, **model_kw)


# TextCNN/LSTM: Adam 1e-3, constant. BERT: AdamW 5e-5, 10% warmup + linear
# decay, weight decay 0.01, gradient clipping at 1.
_ADAM = dict(name="adam", learning_rate=1e-3, warmup_ratio=0.0,
             decay="constant", weight_decay=0.0, grad_clip_norm=0.0)
_ADAMW = dict(name="adamw", learning_rate=5e-5, warmup_ratio=0.1,
              decay="linear", weight_decay=0.01, grad_clip_norm=1.0)

FAMILIES = {f.name: f for f in (
    Family("textcnn", 256, "", _ADAM, _no_weights, _word_encoder,
           _create_textcnn, _word_settings),
    Family("lstm", 256, "", _ADAM, _no_weights, _word_encoder, _create_lstm,
           _word_settings),
    Family("bert", 160, "bert-base-uncased", _ADAMW, _bert_weights,
           _bert_encoder, _create_bert, _bert_settings),
)}
MODEL_NAMES = tuple(FAMILIES)


def get(name: str) -> Family:
  """The family called `name`; ValueError naming the known ones."""
  if name not in FAMILIES:
    raise ValueError(f"unknown model {name!r}; one of {MODEL_NAMES}")
  return FAMILIES[name]


def create_model(name: str, num_labels: int, rngs, **cfg):
  """A classifier mapping (input_ids, attention_mask) to logits [B, num_labels].

  textcnn / lstm: cfg takes vocab_size (required) and the constructor's
  keywords. bert: see `_create_bert`.
  """
  return get(name).create(num_labels, rngs, **cfg)
