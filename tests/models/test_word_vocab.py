"""Tests for the word vocabulary used by TextCNN and the LSTM."""

import numpy as np
import pytest

from kwls_jax.models import word_vocab

TEXTS = ["The cat sat.", "the dog sat", "A cat, a dog; the end"]


def test_build_orders_by_count_then_word():
  vocab = word_vocab.WordVocab.build(TEXTS)
  assert vocab.words[:5] == ["<pad>", "<unk>", "the", "a", "cat"]
  assert len(word_vocab.WordVocab.build(TEXTS, min_count=2)) == 2 + 5
  assert word_vocab.WordVocab.build(TEXTS, max_size=4).words[2:] == ["the", "a"]


def test_encode_pads_truncates_and_maps_unknown():
  vocab = word_vocab.WordVocab.build(TEXTS, min_count=2)
  enc = vocab.encode(["The cat flew.", "", "sat " * 10], max_length=4)
  the, cat, sat = (vocab.index[w] for w in ("the", "cat", "sat"))
  unk = word_vocab.UNK_ID  # "flew" and "." are below min_count.
  np.testing.assert_array_equal(enc["input_ids"], [
      [the, cat, unk, unk], [0, 0, 0, 0], [sat] * 4])
  np.testing.assert_array_equal(enc["attention_mask"],
                                [[1, 1, 1, 1], [0, 0, 0, 0], [1, 1, 1, 1]])
  assert enc["input_ids"].dtype == np.int32


def test_save_load(tmp_path):
  vocab = word_vocab.WordVocab.build(TEXTS, lowercase=False)
  vocab.save(tmp_path / "vocab.json")
  again = word_vocab.WordVocab.load(tmp_path / "vocab.json")
  assert again == vocab and again.index == vocab.index
  with pytest.raises(ValueError):
    word_vocab.WordVocab(["a", "b"])
