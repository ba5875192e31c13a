"""WordPiece tokenisation for BERT with our own truncation and padding."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Sequence

import numpy as np
import tokenizers
from tokenizers import implementations

DEFAULT_MAX_LENGTH = 160


class WordPieceTokenizer:
  """[CLS] text [SEP] [PAD]... as int32 arrays of a fixed length."""

  def __init__(self, tokenizer: tokenizers.Tokenizer, *,
               max_length: int = DEFAULT_MAX_LENGTH, cls_token: str = "[CLS]",
               sep_token: str = "[SEP]", pad_token: str = "[PAD]"):
    # Whatever a tokenizer.json carries is switched off: encode() below is
    # the one place where sequences are cut and padded.
    tokenizer.no_truncation()
    tokenizer.no_padding()
    self.tokenizer = tokenizer
    self.max_length = max_length
    ids = [tokenizer.token_to_id(t) for t in (cls_token, sep_token, pad_token)]
    if None in ids:
      raise ValueError(
          f"vocabulary lacks one of {cls_token}, {sep_token}, {pad_token}")
    self.cls_id, self.sep_id, self.pad_id = ids

  @classmethod
  def from_vocab(cls, vocab_path: str | os.PathLike, *, lowercase: bool = True,
                 strip_accents: bool | None = None,
                 handle_chinese_chars: bool = True,
                 max_length: int = DEFAULT_MAX_LENGTH) -> "WordPieceTokenizer":
    """BERT WordPiece from a vocab.txt, lowercasing as the model was trained."""
    wrapper = implementations.BertWordPieceTokenizer(
        str(vocab_path), lowercase=lowercase, strip_accents=strip_accents,
        handle_chinese_chars=handle_chinese_chars, clean_text=True)
    return cls(wrapper._tokenizer, max_length=max_length)  # pylint: disable=protected-access

  @classmethod
  def from_dir(cls, path: str | os.PathLike, *, lowercase: bool | None = None,
               max_length: int = DEFAULT_MAX_LENGTH) -> "WordPieceTokenizer":
    """From a checkpoint folder's vocab.txt, else its tokenizer.json."""
    path = pathlib.Path(path)
    settings = {}
    if (path / "tokenizer_config.json").exists():
      settings = json.loads((path / "tokenizer_config.json").read_text())
    if (path / "vocab.txt").exists():
      if lowercase is None:
        lowercase = bool(settings.get("do_lower_case", True))
      return cls.from_vocab(
          path / "vocab.txt", lowercase=lowercase,
          strip_accents=settings.get("strip_accents"),
          handle_chinese_chars=settings.get("tokenize_chinese_chars", True),
          max_length=max_length)
    if (path / "tokenizer.json").exists():
      if lowercase is not None:
        raise ValueError("lowercase is fixed by tokenizer.json; use vocab.txt")
      tok = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
      return cls(tok, max_length=max_length)
    raise FileNotFoundError(f"{path} has neither vocab.txt nor tokenizer.json")

  @property
  def vocab_size(self) -> int:
    return self.tokenizer.get_vocab_size()

  def tokenize(self, text: str) -> list[str]:
    """WordPiece tokens of one text, without special tokens."""
    return self.tokenizer.encode(text, add_special_tokens=False).tokens

  def encode(self, texts: Sequence[str],
             max_length: int | None = None) -> dict[str, np.ndarray]:
    """input_ids, attention_mask, token_type_ids as int32 [N, max_length]."""
    length = self.max_length if max_length is None else max_length
    if length < 2:
      raise ValueError("max_length must leave room for [CLS] and [SEP]")
    pieces = [e.ids[:length - 2] for e in self.tokenizer.encode_batch(
        list(texts), add_special_tokens=False)]
    n = len(pieces)
    lengths = np.fromiter((len(p) for p in pieces), np.int64, count=n)
    flat = np.fromiter((i for p in pieces for i in p), np.int32,
                       count=int(lengths.sum()))
    ids = np.full((n, length), self.pad_id, np.int32)
    ids[:, 0] = self.cls_id
    rows = np.repeat(np.arange(n), lengths)
    cols = 1 + np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths,
                                                lengths)
    ids[rows, cols] = flat
    ids[np.arange(n), lengths + 1] = self.sep_id
    mask = (np.arange(length)[None, :] < (lengths + 2)[:, None])
    return {
        "input_ids": ids,
        "attention_mask": mask.astype(np.int32),
        "token_type_ids": np.zeros((n, length), np.int32),
    }
