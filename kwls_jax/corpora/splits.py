"""tfds-style split specs (`train`, `test[:75%]`, `train+test[:10%]`) for local files.

Parsing and rounding follow `tensorflow_datasets/core/splits.py` (4.9):
percent bounds use the default 'closest' rounding,
`int(round(pct * n / 100.0))` (Python's round, halves to even), and
absolute bounds beyond the split size are errors. tfds is not imported here.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import numpy as np

from kwls_jax.corpora.errors import CorpusError

# Same patterns as tfds: <split_name>[<selector>], <val><unit>, ` + `.
_SUB_SPEC_RE = re.compile(
    r"^(?P<split_name>[\w-]+)(\[(?P<split_selector>[\d\w%:.-]+)\])?$")
_SLICE_RE = re.compile(r"^((?P<val>-?[\d_.]+)(?P<unit>(?:%|shard))?)?$")
_ADDITION_SEP_RE = re.compile(r"\s*\+\s*")
_FORMAT_HINT = ("expected e.g. 'train', 'test[:75%]', 'train[10%:20%]', "
                "'train[-500:]', 'train+test[:10%]'")


class SplitPart(NamedTuple):
  """One `+` term of a spec: rows [from_:to) of `split_name` in `unit`."""
  split_name: str
  from_: int | float | None
  to: int | float | None
  unit: str  # "abs", "%" or "shard"


def _error(spec: str, why: str) -> CorpusError:
  return CorpusError(f"bad split {spec!r}: {why}; {_FORMAT_HINT}")


def _parse_part(spec: str, part: str) -> SplitPart:
  """Parses one `name[selector]` term (tfds `_str_to_relative_instruction`)."""
  res = _SUB_SPEC_RE.match(part)
  if not res:
    raise _error(spec, f"unrecognized term {part!r}")
  name, selector = res.group("split_name"), res.group("split_selector")
  if name == "all" and selector:
    raise _error(spec, "'all' cannot be sliced")
  if selector is None:
    return SplitPart(name, None, None, "abs")
  slices = [_SLICE_RE.match(x) for x in selector.split(":")]
  if not all(slices) or not any(m.group(0) for m in slices):
    raise _error(spec, f"bad slice [{selector}]")
  if len(slices) == 1:  # Only `train[3shard]` has a single bound.
    if slices[0]["unit"] != "shard":
      raise _error(spec, f"[{selector}] is not a slice, use [from:to]")
    from_ = _number(spec, slices[0]["val"], int)
    return SplitPart(name, from_, from_ + 1, "shard")
  if len(slices) != 2:
    raise _error(spec, f"bad slice [{selector}]")
  unit = slices[0]["unit"] or slices[1]["unit"] or "abs"
  cast = float if unit == "%" else int
  from_, to = (None if m["val"] is None else _number(spec, m["val"], cast)
               for m in slices)
  if unit == "%" and (abs(from_ or 0) > 100 or abs(to or 0) > 100):
    raise _error(spec, "percent bounds must be in [-100, 100]")
  return SplitPart(name, from_, to, unit)


def _number(spec: str, text: str, cast) -> int | float:
  try:
    return cast(text)
  except ValueError:
    raise _error(spec, f"{text!r} is not a valid {cast.__name__}") from None


def parse_split(spec: str) -> list[SplitPart]:
  """Parses a spec into its `+` terms: [(split_name, from_, to, unit), ...]."""
  if not isinstance(spec, str):
    raise CorpusError(f"split spec must be a string, got {spec!r}")
  return [_parse_part(spec, s) for s in _ADDITION_SEP_RE.split(spec)]


def _pct_to_abs(boundary: float, n: int) -> int:
  return int(round(boundary * n / 100.0))  # tfds `_pct_to_abs_closest`.


def absolute_bounds(part: SplitPart, n: int) -> tuple[int, int]:
  """[start, stop) rows of a split of `n` rows (tfds `_rel_to_abs_instr`)."""
  name, from_, to, unit = part
  if unit == "%":
    from_ = 0 if from_ is None else _pct_to_abs(from_, n)
    to = n if to is None else _pct_to_abs(to, n)
  elif unit == "abs":
    from_ = 0 if from_ is None else from_
    to = n if to is None else to
  else:
    raise CorpusError(
        f"split {name!r}: unit {unit!r} needs tfds shards; local files only "
        "support absolute and percent slices")
  if abs(from_) > n or abs(to) > n:
    raise CorpusError(
        f"split {name!r}: slice [{from_}:{to}] incompatible with {n} examples")
  if from_ < 0:
    from_ += n
  if to < 0:
    to += n
  return from_, max(from_, to)


def slice_indices(part: SplitPart | tuple | str, n: int) -> np.ndarray:
  """Row indices (int64, increasing) that one spec term selects of `n` rows."""
  if isinstance(part, str):
    parts = parse_split(part)
    if len(parts) != 1:
      raise CorpusError(f"slice_indices takes one term, got {part!r}")
    part = parts[0]
  start, stop = absolute_bounds(SplitPart(*part), n)
  return np.arange(start, stop, dtype=np.int64)


def _bound(x: int | float | None, unit: str) -> str:
  if x is None:
    return ""
  return f"{x!r}{'' if unit == 'abs' else unit}"


def format_split(parts: list[SplitPart]) -> str:
  """A spec string of parsed terms: `parse_split(format_split(p)) == p`."""
  out = []
  for name, from_, to, unit in parts:
    if from_ is None and to is None:
      out.append(name)
    elif unit == "shard" and to == from_ + 1:
      out.append(f"{name}[{from_}shard]")
    else:
      out.append(f"{name}[{_bound(from_, unit)}:{_bound(to, unit)}]")
  return "+".join(out)
