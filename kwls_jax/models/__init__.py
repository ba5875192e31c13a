"""Text classifiers (TextCNN, BiLSTM, BERT) and a registry to build them by name."""

from __future__ import annotations

from flax import nnx

from kwls_jax.models.bert import BertClassifier, BertConfig, BertModel
from kwls_jax.models.lstm import BiLSTMClassifier
from kwls_jax.models.textcnn import TextCNN

MODEL_NAMES = ("textcnn", "lstm", "bert")


def create_model(name: str, num_labels: int, rngs: nnx.Rngs, **cfg) -> nnx.Module:
  """A classifier mapping (input_ids, attention_mask) to logits [B, num_labels].

  textcnn / lstm: cfg takes vocab_size (required) and the constructor's
  keywords. bert: cfg takes pretrained=<folder or Hub name> to load a
  checkpoint, or config=BertConfig / preset='bert-base'|'minilm-l6' plus
  BertConfig fields; classifier_dropout, dtype and param_dtype go to the model.
  """
  if name == "textcnn":
    return TextCNN(num_labels=num_labels, rngs=rngs, **cfg)
  if name == "lstm":
    return BiLSTMClassifier(num_labels=num_labels, rngs=rngs, **cfg)
  if name == "bert":
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
      presets = {"bert-base": BertConfig.bert_base,
                 "minilm-l6": BertConfig.minilm_l6}
      if preset not in presets:
        raise ValueError(f"unknown BERT preset {preset!r}; one of {list(presets)}")
      config = presets[preset](**cfg)
    elif cfg:
      raise ValueError(f"pass BertConfig fields or config=, not both: {list(cfg)}")
    return BertClassifier(config, num_labels, rngs=rngs, **model_kw)
  raise ValueError(f"unknown model {name!r}; one of {MODEL_NAMES}")


__all__ = ["BertClassifier", "BertConfig", "BertModel", "BiLSTMClassifier",
           "TextCNN", "MODEL_NAMES", "create_model"]
