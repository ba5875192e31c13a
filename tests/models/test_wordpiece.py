"""Tests for WordPiece encoding with our own truncation and padding."""

import json

import numpy as np
import pytest
import tokenizers

from kwls_jax.models import wordpiece

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
         "on", "mat", "##s", ".", "cafe"]


@pytest.fixture()
def vocab_file(tmp_path):
  path = tmp_path / "vocab.txt"
  path.write_text("\n".join(VOCAB) + "\n")
  return path


def test_encode_pads_truncates_and_masks(vocab_file):
  tok = wordpiece.WordPieceTokenizer.from_vocab(vocab_file, max_length=6)
  enc = tok.encode(["The cats sat on the mat.", "Café", ""])
  np.testing.assert_array_equal(enc["input_ids"], [
      [2, 5, 6, 10, 7, 3],  # Cut to 4 pieces, [SEP] kept.
      [2, 12, 3, 0, 0, 0],  # Lowercased, accent stripped.
      [2, 3, 0, 0, 0, 0],
  ])
  np.testing.assert_array_equal(enc["attention_mask"].sum(-1), [6, 3, 2])
  for v in enc.values():
    assert v.dtype == np.int32 and v.shape == (3, 6)
  assert tok.encode(["the"], max_length=3)["input_ids"].tolist() == [[2, 5, 3]]
  assert wordpiece.DEFAULT_MAX_LENGTH == 160
  assert tok.encode(["mat"] * 2)["input_ids"].shape == (2, 6)


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
  np.testing.assert_array_equal(
      tok.encode(["the cats sat on the mat"])["input_ids"],
      [[2, 5, 6, 10, 7, 8, 5, 9, 3]])


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


def test_matches_hugging_face_on_minilm_vocab(minilm_path):
  texts = ["Hello, World! Zoë's naïve café.", "unaffable tokenization " * 40]
  from_vocab = wordpiece.WordPieceTokenizer.from_dir(minilm_path)
  from_json = wordpiece.WordPieceTokenizer(
      tokenizers.Tokenizer.from_file(str(minilm_path / "tokenizer.json")))
  a, b = from_vocab.encode(texts), from_json.encode(texts)
  for key in a:
    np.testing.assert_array_equal(a[key], b[key])
  assert a["input_ids"].shape == (2, 160)  # tokenizer.json says 128.
  assert a["input_ids"][1, -1] == from_vocab.sep_id
