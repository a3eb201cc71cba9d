"""Pausing Python's cyclic garbage collector around work that creates hundreds of thousands of objects.

Building a summary or a workbook for 10,000 units makes so many small objects that the collector runs
hundreds of times, each time walking every object of the process: the cost grows faster than the work.
Reference counting still frees everything as usual; the few cycles are collected once collection is back
on. It is switched back on afterwards, unless it was off before.

`return_free_memory()` hands the memory such work freed back to the system. The C allocator keeps freed
blocks (the answers' JSON, a document's XML) inside its heap, where the process's size never shrinks: at
50,000 units that is ~85 MB the next file would stack its own peak on (issue 13, bench/summary.py).
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where there is none (musl, macOS, Windows). Looked up on first use."""
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def return_free_memory() -> None:
    """Give the heap's free pages back to the system (every thread's heap); nothing to do without glibc."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
