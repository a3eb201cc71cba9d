"""Pausing Python's cyclic garbage collector around work that creates hundreds of thousands of objects.

Building a summary or a workbook for 10,000 units makes so many small objects that the collector runs
hundreds of times, each time walking every object of the process: the cost grows faster than the work.
Reference counting still frees everything as usual; the few cycles are collected once collection is back
on. It is switched back on afterwards, unless it was off before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
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
