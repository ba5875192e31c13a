"""Errors raised by the corpora stage."""


class CorpusError(ValueError):
  """A corpus file, split spec or name is malformed.

  Errors about a line of a file start with `"{path}:{line_number}: "`.
  """


class CorpusUnavailableError(CorpusError):
  """A corpus is neither available locally nor downloadable right now."""
