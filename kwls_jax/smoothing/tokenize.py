"""Vectorised word counting: texts -> per-(instance, word) counts f_{w,x_i}.

Two tokenizers define what a "word" is for the keyword statistics:

* ``word`` (default): ``re.findall(r"\\w+", text.lower())`` -- lowercase, then
  maximal runs of Unicode word characters as Python's ``re`` defines them
  (``str.isalnum()`` or ``_``).
* ``whitespace``: ``text.split()`` -- Python's ``str.split()`` with no
  argument (Unicode whitespace, no lowercasing), as whitespace-tokenised
  corpora expect.

Both are reproduced exactly (the tests compare them with those Python
expressions on real corpora), but without a Python loop over tokens: texts are
joined per chunk into one UTF-8 byte array, token boundaries come from a
per-code-point class table (non-ASCII sequences are decoded vectorised), and
words are mapped to ids by Arrow's hash dictionary encoder over the tokens'
UTF-8 bytes. Memory is bounded by the
chunk size plus the output counts.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import re
import threading
from typing import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kwls_jax import memory

TOKENIZERS = ("word", "whitespace")
# Arrow's default pool (mimalloc) keeps freed chunks mapped; the system
# allocator hands them back, which keeps peak memory at the working set.
_POOL = pa.system_memory_pool()
_SEP = "\n"  # a boundary for both tokenizers (whitespace, and not \w)
_NUM_CODEPOINTS = 0x110000


@dataclasses.dataclass
class WordCounts:
  """Sparse counts in CSR order: instance i owns pairs [doc_ptr[i], doc_ptr[i+1]).

  Within an instance each word appears once (the distinct words of x_i).
  """

  doc_ptr: np.ndarray  # int64 [N + 1]
  word: np.ndarray  # int32 [nnz], ids into `vocab`
  count: np.ndarray  # int32 [nnz], f_{w, x_i} >= 1
  length: np.ndarray  # int64 [N], |x_i| (tokens, with repeats)
  vocab_bytes: pa.Array  # large_binary [V], each word as UTF-8 bytes

  @property
  def num_docs(self) -> int:
    return len(self.length)

  @property
  def vocab_size(self) -> int:
    return len(self.vocab_bytes)

  @property
  def nnz(self) -> int:
    return len(self.word)

  def vocab(self) -> list[str]:
    """The words, in id order (decoded lazily: only explanations need them)."""
    return [b.decode("utf-8", "surrogatepass")
            for b in self.vocab_bytes.to_pylist()]


def reference_tokenize(text: str, tokenizer: str) -> list[str]:
  """The definition the vectorised tokenizer reproduces exactly."""
  if tokenizer == "word":
    return re.findall(r"\w+", text.lower())
  if tokenizer == "whitespace":
    return text.split()
  raise ValueError(f"unknown tokenizer {tokenizer!r}; choose from {TOKENIZERS}")


class _CharClass:
  """Lazily filled table: is code point c part of a token?"""

  def __init__(self, predicate: Callable[[str], bool]):
    self._predicate = predicate
    self._lock = threading.Lock()
    self.table = np.zeros(_NUM_CODEPOINTS, dtype=bool)
    self._known = np.zeros(_NUM_CODEPOINTS, dtype=bool)
    self._known[:128] = True
    self.table[:128] = [predicate(chr(c)) for c in range(128)]
    # The ASCII token characters as runs [lo, hi]: comparing bytes with a few
    # bounds is an order of magnitude faster than a table lookup per byte.
    edges = np.diff(self.table[:128].astype(np.int8), prepend=0, append=0)
    self.ascii_runs = list(zip(np.flatnonzero(edges == 1).tolist(),
                               (np.flatnonzero(edges == -1) - 1).tolist()))

  def __call__(self, cp: np.ndarray) -> np.ndarray:
    new = np.unique(cp)
    new = new[~self._known[new]]
    if new.size:
      with self._lock:  # fill the class before marking it known
        self.table[new] = [self._predicate(chr(c)) for c in new.tolist()]
        self._known[new] = True
    return self.table[cp]

  def classify_utf8(self, buf: np.ndarray) -> np.ndarray:
    """Per byte of valid UTF-8: does the byte belong to a token character?"""
    in_token = np.zeros(len(buf), dtype=bool)
    for lo, hi in self.ascii_runs:  # bytes >= 128 fall outside every run
      in_token |= (buf - np.uint8(lo)) <= np.uint8(hi - lo)
    lead = np.flatnonzero(buf >= 0xC0)
    if lead.size:
      b0 = buf[lead].astype(np.uint32)
      width = 2 + (b0 >= 0xE0) + (b0 >= 0xF0)
      cont = [buf[np.minimum(lead + k, len(buf) - 1)].astype(np.uint32) & 0x3F
              for k in (1, 2, 3)]
      cp = np.where(width == 2, ((b0 & 0x1F) << 6) | cont[0],
                    np.where(width == 3,
                             ((b0 & 0x0F) << 12) | (cont[0] << 6) | cont[1],
                             ((b0 & 0x07) << 18) | (cont[0] << 12)
                             | (cont[1] << 6) | cont[2]))
      cls = self(cp)
      pos = np.repeat(lead, width) + (
          np.arange(width.sum()) - np.repeat(np.cumsum(width) - width, width))
      in_token[pos] = np.repeat(cls, width)
    return in_token


_CLASSES: dict[str, _CharClass] = {}
_CLASSES_LOCK = threading.Lock()


def _char_class(tokenizer: str) -> _CharClass:
  with _CLASSES_LOCK:
    return _char_class_locked(tokenizer)


def _char_class_locked(tokenizer: str) -> _CharClass:
  if tokenizer not in _CLASSES:
    if tokenizer == "word":
      pred = lambda ch: ch.isalnum() or ch == "_"  # Python re's \w for str
    elif tokenizer == "whitespace":
      pred = lambda ch: not ch.isspace()  # str.split() separators
    else:
      raise ValueError(
          f"unknown tokenizer {tokenizer!r}; choose from {TOKENIZERS}")
    _CLASSES[tokenizer] = _CharClass(pred)
  return _CLASSES[tokenizer]


@dataclasses.dataclass
class _Chunk:
  doc_ptr: np.ndarray  # int64, local pair offsets
  word: np.ndarray  # int32, local ids
  count: np.ndarray
  length: np.ndarray
  vocab: pa.Array

  @property
  def num_docs(self) -> int:
    return len(self.length)


def _count_chunk(texts: Sequence[str], tokenizer: str) -> _Chunk:
  """Counts for one chunk of instances, with a chunk-local vocabulary."""
  n = len(texts)
  if n == 0:
    empty = np.zeros(0, dtype=np.int32)
    return _Chunk(np.zeros(1, np.int64), empty, empty, np.zeros(0, np.int64),
                  pa.array([], pa.large_binary()))
  if tokenizer == "word":
    texts = [t.lower() for t in texts]
  # Lone surrogates (valid in JSON strings) pass through as 3-byte sequences.
  buf = np.frombuffer(
      (_SEP.join(texts) + _SEP).encode("utf-8", "surrogatepass"), np.uint8)
  in_token = _char_class(tokenizer).classify_utf8(buf)
  edge = np.diff(in_token.view(np.int8), prepend=np.int8(0))
  # Edges alternate start, end, start, ...; the separator closes every last
  # token.
  bounds = np.flatnonzero(edge)
  starts, ends = bounds[0::2], bounds[1::2]
  offsets = np.zeros(len(starts) + 1, dtype=np.int64)
  np.cumsum(ends - starts, out=offsets[1:])
  tokens = pa.Array.from_buffers(
      pa.large_binary(), len(starts),
      [None, pa.py_buffer(offsets), pa.py_buffer(np.extract(in_token, buf))])
  del edge, ends, offsets, in_token
  encoded = pc.dictionary_encode(tokens, memory_pool=_POOL)
  del tokens
  ids = encoded.indices.to_numpy()
  vocab = encoded.dictionary
  # Tokens are in text order: instance i owns the tokens between separators.
  seps = np.flatnonzero(buf == ord(_SEP))
  doc_end = seps[np.cumsum([t.count(_SEP) + 1 for t in texts]) - 1]
  per_doc = np.diff(np.searchsorted(starts, doc_end), prepend=0)
  length = per_doc.astype(np.int64)
  v = max(len(vocab), 1)
  key_type = np.int32 if n * v < 2**31 else np.int64  # int32 sorts faster
  doc = np.repeat(np.arange(n, dtype=key_type), per_doc)
  # Distinct (instance, word) pairs with their counts, instance-major.
  keys = np.sort(doc * key_type(v) + ids.astype(key_type))
  first = np.flatnonzero(np.diff(keys, prepend=-1))
  count = np.diff(np.append(first, len(keys))).astype(np.int32)
  keys = keys[first]
  doc_ptr = np.zeros(n + 1, dtype=np.int64)
  np.cumsum(np.bincount(keys // key_type(v), minlength=n), out=doc_ptr[1:])
  return _Chunk(doc_ptr, (keys % key_type(v)).astype(np.int32), count, length,
                vocab)


def _chunks(texts: Sequence[str], chunk_chars: int) -> Iterable[slice]:
  lo, size = 0, 0
  for i, t in enumerate(texts):
    size += len(t) + 1
    if size >= chunk_chars:
      yield slice(lo, i + 1)
      lo, size = i + 1, 0
  if lo < len(texts) or not texts:
    yield slice(lo, len(texts))


def count_words(texts: Sequence[str],
                tokenizer: str = "word",
                chunk_chars: int = 1 << 21,
                progress: Callable[[int], None] | None = None,
                workers: int | None = None) -> WordCounts:
  """Tokenise `texts` and count f_{w,x_i} for every distinct word of each x_i.

  Args:
    texts: the instances, in order.
    tokenizer: "word" or "whitespace" (see the module docstring).
    chunk_chars: characters per chunk; bounds the working memory (about 40
      bytes a character for each chunk in flight).
    progress: called with the number of instances done after each chunk.
    workers: chunks counted in parallel threads (numpy and Arrow release the
      GIL); default: the number of CPUs.
  """
  blocks = (texts[sl] for sl in _chunks(texts, chunk_chars))
  return count_word_blocks(blocks, tokenizer, progress, workers)


def count_word_blocks(blocks: Iterable[Sequence[str]],
                      tokenizer: str = "word",
                      progress: Callable[[int], None] | None = None,
                      workers: int | None = None) -> WordCounts:
  """`count_words` over consecutive blocks of texts, e.g. streamed from a file.

  Blocks are counted in worker threads while the caller's iterator produces
  the next ones (at most `workers` + 1 blocks in flight), so reading and
  counting overlap and the texts never need to be in memory all at once.
  """
  _char_class(tokenizer)  # validates the name even for an empty corpus
  workers = workers or os.cpu_count() or 1
  chunks, pending = [], collections.deque()

  def finish_one():
    chunk = pending.popleft().result()
    chunks.append(chunk)
    if progress is not None:
      progress(chunk.num_docs)

  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    for block in blocks:
      pending.append(pool.submit(_count_chunk, block, tokenizer))
      while len(pending) > workers:
        finish_one()
    while pending:
      finish_one()
  if not chunks:
    chunks.append(_count_chunk([], tokenizer))
  return _merge(chunks)


def _merge(chunks: list[_Chunk]) -> WordCounts:
  """One global vocabulary; chunk arrays are moved into the result one by one.

  The chunks' vocabularies are dictionary-encoded together, which maps local
  ids to global ones. Filling preallocated arrays and dropping each chunk as
  it is copied keeps the peak at the result plus one chunk.
  """
  merged = pc.dictionary_encode(
      pa.concat_arrays([c.vocab for c in chunks], memory_pool=_POOL),
      memory_pool=_POOL)
  local_to_global = merged.indices.to_numpy().astype(np.int32)
  nnz = sum(len(c.word) for c in chunks)
  n = sum(c.num_docs for c in chunks)
  word = np.empty(nnz, dtype=np.int32)
  count = np.empty(nnz, dtype=np.int32)
  length = np.empty(n, dtype=np.int64)
  doc_ptr = np.zeros(n + 1, dtype=np.int64)
  vocab_lo = pair_lo = doc_lo = 0
  for i, c in enumerate(chunks):
    pairs, docs = len(c.word), c.num_docs
    np.take(local_to_global[vocab_lo:vocab_lo + len(c.vocab)], c.word,
            out=word[pair_lo:pair_lo + pairs])
    count[pair_lo:pair_lo + pairs] = c.count
    length[doc_lo:doc_lo + docs] = c.length
    doc_ptr[doc_lo + 1:doc_lo + docs + 1] = c.doc_ptr[1:] + pair_lo
    vocab_lo += len(c.vocab)
    pair_lo += pairs
    doc_lo += docs
    chunks[i] = None  # free the chunk now
    if i % 32 == 31:
      memory.release_free_memory()
  memory.release_free_memory()  # the chunks' and threads' heap pages
  return WordCounts(doc_ptr=doc_ptr, word=word, count=count, length=length,
                    vocab_bytes=merged.dictionary)
