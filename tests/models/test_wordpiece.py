"""Tests for WordPiece encoding with our own truncation and padding."""

import json

import numpy as np
import pytest
import tokenizers

from kwls_jax.models import wordpiece

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
         "on", "mat", "##s", ".", "cafe", ",", "!", "un", "##aff", "##able",
         "\u4e2d", "\u6587", "naive", "'", "zo", "##e", "##ve", "a", "##i"]
TEXTS = ["The cats sat on the mat.", "Café", "", "  ", "unaffable, un-aff!",
         "\u4e2d\u6587cat", "Zoë's naïve cat" * 6, "cats\tsat\non THE mat",
         "unknownword the", "the\x00 cat\ufffd\x07sat", "the " * 40]


@pytest.fixture()
def vocab_file(tmp_path):
  path = tmp_path / "vocab.txt"
  path.write_text("\n".join(VOCAB) + "\n")
  return path


def _reference(vocab_path, texts, max_length, lowercase=True):
  """transformers' pure-Python BERT tokenizer (Google's algorithm), cut to
  max_length with [SEP] kept and padded to it."""
  from transformers.models.bert import tokenization_bert_legacy  # pylint: disable=g-import-not-at-top
  ref = tokenization_bert_legacy.BertTokenizerLegacy(
      str(vocab_path), do_lower_case=lowercase)
  return ref(texts, max_length=max_length, truncation=True,
             padding="max_length", return_token_type_ids=True,
             return_tensors="np")


@pytest.mark.parametrize("max_length", [2, 3, 6, 160])
@pytest.mark.parametrize("lowercase", [True, False])
def test_encode_matches_transformers_bert_tokenizer(vocab_file, max_length,
                                                    lowercase):
  tok = wordpiece.WordPieceTokenizer.from_vocab(
      vocab_file, lowercase=lowercase, max_length=max_length)
  got, want = tok.encode(TEXTS), _reference(vocab_file, TEXTS, max_length,
                                            lowercase)
  for key in ("input_ids", "attention_mask", "token_type_ids"):
    np.testing.assert_array_equal(got[key], want[key], err_msg=key)
    assert got[key].dtype == np.int32


def test_encode_max_length_argument_overrides_the_tokenizers(vocab_file):
  tok = wordpiece.WordPieceTokenizer.from_vocab(vocab_file, max_length=160)
  np.testing.assert_array_equal(
      tok.encode(TEXTS, max_length=5)["input_ids"],
      _reference(vocab_file, TEXTS, 5)["input_ids"])
  with pytest.raises(ValueError, match="max_length"):
    tok.encode(TEXTS, max_length=1)


def test_unknown_word_and_cased_vocab(vocab_file):
  cased = wordpiece.WordPieceTokenizer.from_vocab(vocab_file, lowercase=False)
  assert cased.tokenize("The cat") == ["[UNK]", "cat"]


def test_tokenizer_json_padding_and_truncation_are_ignored(vocab_file, tmp_path):
  base = wordpiece.WordPieceTokenizer.from_vocab(vocab_file).tokenizer
  base.enable_truncation(3)
  base.enable_padding(length=50)
  (tmp_path / "ckpt").mkdir()
  base.save(str(tmp_path / "ckpt" / "tokenizer.json"))
  saved = json.loads((tmp_path / "ckpt" / "tokenizer.json").read_text())
  assert saved["truncation"] and saved["padding"]
  tok = wordpiece.WordPieceTokenizer.from_dir(tmp_path / "ckpt", max_length=9)
  np.testing.assert_array_equal(tok.encode(TEXTS)["input_ids"],
                                _reference(vocab_file, TEXTS, 9)["input_ids"])


def test_from_dir_reads_do_lower_case(vocab_file):
  folder = vocab_file.parent
  (folder / "tokenizer_config.json").write_text('{"do_lower_case": false}')
  tok = wordpiece.WordPieceTokenizer.from_dir(folder)
  assert tok.tokenize("The") == ["[UNK]"]


def test_missing_special_token_raises():
  vocab = {"a": 0, "[CLS]": 1}
  model = tokenizers.models.WordPiece(vocab, unk_token="a")
  with pytest.raises(ValueError, match="SEP"):
    wordpiece.WordPieceTokenizer(tokenizers.Tokenizer(model))


def test_matches_transformers_on_minilm_vocab(minilm_path):
  """bert-base-uncased's vocabulary: vocab.txt, tokenizer.json and
  transformers' Python tokenizer give the same encoding."""
  texts = [*TEXTS, "Hello, World! tokenization " * 40]
  from_vocab = wordpiece.WordPieceTokenizer.from_dir(minilm_path)
  from_json = wordpiece.WordPieceTokenizer(
      tokenizers.Tokenizer.from_file(str(minilm_path / "tokenizer.json")),
      max_length=from_vocab.max_length)
  a, b = from_vocab.encode(texts), from_json.encode(texts)
  want = _reference(minilm_path / "vocab.txt", texts, from_vocab.max_length)
  for key in a:
    np.testing.assert_array_equal(a[key], b[key])
    np.testing.assert_array_equal(a[key], want[key])
