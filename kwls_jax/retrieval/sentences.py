"""Sentence spans of a paragraph, the ReQA candidates (Ahmad et al., 2019).

pysbd (the Golden Rules segmenter) splits; each sentence is then located in
the paragraph, so spans are character offsets into the unchanged text, with
no leading or trailing whitespace, in order, and every non-space character
belongs to exactly one span. In SQuAD a newline between a letter and a digit
is a lost subscript ("O\\n2"): pysbd reads it as "_", which joins; other
newlines as spaces.
"""

from __future__ import annotations

import functools
import re

_REGEX_BREAK = re.compile(r"(?<=[.?!])\s+")
_SUBSCRIPT = re.compile(r"(?<=[^\W\d_])\n(?=\d)")  # O\n2, CO\n2, CH\n3


@functools.cache
def _segmenter():
  import pysbd  # pylint: disable=g-import-not-at-top
  return pysbd.Segmenter(language="en", clean=False)


def _locate(text: str, sentences: list[str]) -> list[tuple[int, int]]:
  """(start, end) of each sentence in `text`; only whitespace may lie between."""
  spans, pos = [], 0
  for s in sentences:
    s = s.strip()
    if not s:
      continue
    start = text.find(s, pos)
    if start < 0 or text[pos:start].strip():
      raise RuntimeError(
          f"sentence {s[:40]!r} not found after offset {pos} of {text[:60]!r}")
    spans.append((start, start + len(s)))
    pos = start + len(s)
  if text[pos:].strip():
    raise RuntimeError(f"text after offset {pos} in no sentence: {text[:60]!r}")
  return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
  """Sentences of `text` by pysbd, as (start, end) offsets."""
  flat = _SUBSCRIPT.sub("_", text).replace("\n", " ").replace("\r", " ")
  return _locate(flat, _segmenter().segment(flat))  # same offsets as text


def regex_spans(text: str) -> list[tuple[int, int]]:
  """Sentences broken after every `.`, `?` or `!` before whitespace."""
  return _locate(text, _REGEX_BREAK.split(text))
