"""Writing a large summary workbook: units -> seconds for write_summary_xlsx.

    python -m bench.workbook                    # 3,000 grassroots unions, every question of the period
    python -m bench.workbook --units 500,3000,10000 --repeat 3

A script, not a test: it prints figures and asserts nothing about timing (tests/test_summary_files.py keeps the
functional check that such a workbook holds one row per unit). A chat user waits for this file, so it should stay
well under the time a person waits (a few seconds at 3,000 units on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import REPO
from bot.campaigns import load_campaign_file
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.summary.compute import compute_summary
from bot.summary.model import Summary, UnitRow
from bot.summary.xlsx import write_summary_xlsx

VN = ZoneInfo("Asia/Ho_Chi_Minh")
AS_OF = datetime(2024, 8, 12, 9, 30, tzinfo=VN)
ANSWERS = {"propaganda_sessions": 2, "propaganda_participants": 150, "contest_resolution_participants": 10,
           "contest_history_participants": 5, "members_admitted": 12, "members_to_party": 1, "works_plaqued": 1,
           "works_names": "Sân bóng", "ao_dai_given": 2, "gifts_people": 5, "gifts_money": 12_500_000,
           "mai_am_houses": 0, "union_meal_held": True, "union_meal_people": 300, "dialogues": 1,
           "care_activities": 3, "propaganda_forms": ["meeting", "social"],
           "highlights": "Bữa cơm công đoàn cho 300 công nhân."}


def big_summary(n: int) -> Summary:
    """n grassroots unions under 30 upper levels, all on time, all with the same answers."""
    campaign = load_campaign_file(REPO / "campaigns" / "daklak-95-nam-cdvn-2024.toml").campaign
    period = campaign.period("dot-1")
    submitted = datetime(2024, 8, 2, 14, 5, tzinfo=VN)
    rows = [UnitRow(i, f"U{i:05d}", f"Công đoàn cơ sở số {i}", UnitKind.ENTERPRISE_STATE, f"UP{i % 30:02d}",
                    f"LĐLĐ huyện {i % 30}", "on_time", submitted, 1, f"BC-{i}", ANSWERS, True) for i in range(n)]
    return compute_summary(campaign=campaign, period=period, period_id=1, due_at=period.due_at(VN),
                           closes_at=period.closes_at(VN), as_of=AS_OF, scope_name="x", units=rows)


def measure(n: int, repeat: int, folder: Path) -> list[float]:
    summary = big_summary(n)
    t = Translator("vi", REPO / "locales")
    seconds = []
    for i in range(repeat):
        started = time.perf_counter()
        write_summary_xlsx(folder / f"big-{n}-{i}.xlsx", summary, t, VN)
        seconds.append(time.perf_counter() - started)
    return seconds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", default="3000", help="comma-separated numbers of grassroots unions (default 3000)")
    p.add_argument("--repeat", type=int, default=3, help="writes per size; the best and the median are printed")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.units.split(",") if s.strip()]
    print(f"{'units':>8} {'best s':>8} {'median s':>9} {'units/s':>9}")
    with tempfile.TemporaryDirectory(prefix="bench-workbook-") as tmp:
        for n in sizes:
            seconds = sorted(measure(n, max(1, args.repeat), Path(tmp)))
            best, median = seconds[0], seconds[len(seconds) // 2]
            print(f"{n:>8} {best:>8.2f} {median:>9.2f} {n / best:>9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
