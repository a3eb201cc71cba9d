"""Write a summary in any of its formats; one place that knows the file names."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.gc_pause import return_free_memory
from bot.i18n import Translator
from bot.summary.model import Summary
from bot.summary.text import summary_text

FORMATS = ("text", "xlsx", "docx", "png")


def file_stem(summary: Summary) -> str:
    # The campaign's local time, as in the contents: a file made at 08:00 in Hà Nội is not named 0100.
    stamp = summary.as_of.astimezone(summary.campaign.zone).strftime("%Y%m%d-%H%M")
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"tong-hop_{summary.campaign.id}_{summary.period.key}_{stamp}")


def write(summary: Summary, fmt: str, out_dir: Path, t: Translator, zone: ZoneInfo) -> Path:
    try:
        return _write(summary, fmt, out_dir, t, zone)
    finally:
        # A document's XML and a workbook's rows are freed by now: handed back, so that the next file's
        # peak does not stack on this one's (bot/gc_pause.py).
        return_free_memory()


def _write(summary: Summary, fmt: str, out_dir: Path, t: Translator, zone: ZoneInfo) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = file_stem(summary)
    if fmt == "text":
        path = out_dir / f"{stem}.txt"
        path.write_text(summary_text(summary, t, zone) + "\n", encoding="utf-8")
    elif fmt == "xlsx":
        from bot.summary.xlsx import write_summary_xlsx

        path = out_dir / f"{stem}.xlsx"
        write_summary_xlsx(path, summary, t, zone)
    elif fmt == "docx":
        from bot.summary.docx_report import write_summary_docx

        path = out_dir / f"{stem}.docx"
        write_summary_docx(path, summary, t, zone)
    elif fmt == "png":
        from bot.summary.chart import write_summary_png

        path = out_dir / f"{stem}.png"
        write_summary_png(path, summary, t, zone)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return path
