"""Plan reading and extraction: size of the text -> seconds, for several shapes of text.

    python -m bench.plans                       # 64 KiB .. 1 MiB, every shape
    python -m bench.plans --sizes 64,256 --shape one-line
    python -m bench.plans --profile /tmp/plans.prof --shape seed

A script, not a test: it prints figures and asserts nothing about timing. Shapes:
  seed        the seed plans (tests/plans, ../shared/seeds or $PLAN_SEEDS_DIR if present) repeated
  one-line    the same text with every line end replaced by a space (a PDF without line breaks)
  sentences   short lower-case sentences "báo cáo trước ngày 15/6. " without a line end
  dates       a line of dates and deadline words only
  noise       random letters and punctuation, lines of 200 characters
  headings    numbered lines ("1. ... trước ngày 15/6/2024") without a section heading
  cells       table rows as a .docx gives them ("Đợt 1 | ... | trước ngày ...")
Every text is cut at the size asked for; extract_plan runs on it directly (no upload limit applies).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO
from bot.plans.extract import extract_plan

KIB = 1024


def _seed_text() -> str:
    files = sorted((REPO / "tests" / "plans").glob("*.txt"))
    shared = Path(os.environ.get("PLAN_SEEDS_DIR") or REPO.parent / "shared" / "seeds")  # as tests/test_plan_extract.py
    if shared.is_dir():
        files += sorted(shared.glob("*.txt"))
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _fill(unit: str, size: int) -> str:
    return (unit * (size // max(1, len(unit)) + 1))[:size]


def _noise(size: int) -> str:
    rng = random.Random(7)
    alphabet = "abcdeghiklmnopqrstuvxyđơưăâêôáàảãạ ĐƠƯ.,:;()/-0123456789"
    lines = []
    total = 0
    while total < size:
        line = "".join(rng.choice(alphabet) for _ in range(200))
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines)[:size]


SHAPES: dict[str, Callable[[int], str]] = {
    "seed": lambda size: _fill(_seed_text() + "\n", size),
    "one-line": lambda size: _fill(_seed_text().replace("\n", " ") + " ", size),
    "sentences": lambda size: _fill("các đơn vị báo cáo kết quả trước ngày 15/6/2024. ", size),
    "dates": lambda size: _fill("hạn nộp 15/6/2024 đến 20/7/2024, báo cáo trước ngày 30/9 ", size),
    "noise": _noise,
    "headings": lambda size: _fill("1. Công đoàn cơ sở báo cáo trước ngày 15/6/2024\n", size),
    "cells": lambda size: _fill("Đợt 1 | Báo cáo kết quả | trước ngày 15/6/2024 | CĐCS\n", size),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="64,128,256,512,1024", help="KiB, comma separated")
    parser.add_argument("--shape", action="append", choices=sorted(SHAPES), help="default: every shape")
    parser.add_argument("--profile", type=Path, help="cProfile the runs, save to FILE, print the top 25")
    args = parser.parse_args(argv)
    sizes = [int(s) * KIB for s in args.sizes.split(",")]
    shapes = args.shape or list(SHAPES)
    profiler = cProfile.Profile() if args.profile else None
    print(f"{'shape':<10} " + " ".join(f"{s // KIB:>7} KiB" for s in sizes))
    for shape in shapes:
        cells = []
        for size in sizes:
            text = SHAPES[shape](size)
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            extract_plan(text)
            if profiler:
                profiler.disable()
            cells.append(f"{time.perf_counter() - start:>9.2f} s")
        print(f"{shape:<10} " + " ".join(cells), flush=True)
    if profiler and args.profile:
        profiler.dump_stats(args.profile)
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(25)
        print(stream.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
