"""Keeping peak memory at the working set on glibc (no-ops elsewhere)."""

from __future__ import annotations

import ctypes
import functools

_M_MMAP_THRESHOLD = -3


@functools.lru_cache(maxsize=None)
def _libc():
  try:
    return ctypes.CDLL("libc.so.6")
  except OSError:
    return None


def use_mmap_for_large_buffers(threshold: int = 16 << 20) -> None:
  """Serve buffers of `threshold` bytes and more by mmap, so freeing returns them.

  glibc otherwise raises its mmap threshold as buffers are freed, and later
  buffers of that size stay in the heap after use. Smaller buffers stay in the
  heap, where reusing them is fast.
  """
  libc = _libc()
  if libc is not None and hasattr(libc, "mallopt"):
    libc.mallopt(_M_MMAP_THRESHOLD, threshold)


def release_free_memory() -> None:
  """Hands freed heap pages back to the OS (glibc's malloc_trim)."""
  libc = _libc()
  if libc is not None and hasattr(libc, "malloc_trim"):
    libc.malloc_trim(0)
