"""Benchmark: the summary (/tonghop) of a large campaign, from the database to the text and the files.

    python bench/summary.py [--units 10000] [--fields 30] [--also 20000]   # ~2 minutes on 2 cores
    python bench/summary.py --units 2000 --also 0              # a quick run (~15 s)
    python bench/summary.py --profile                          # also cProfile each step at --units
    python bench/summary.py --tracemalloc all|first|off        # where to run the traced pass (first)
    python bench/summary.py --keep                             # keep the databases and files
    python bench/summary.py --repeat 5                         # 5 timed passes, the median shown (default 3)
    python -m bench.summary ...

Everything runs in a temp folder (deleted at the end unless --keep): no network, nothing written to
the repository. For each size N (--units, then --also; 0 skips the second one), in a fresh database:

setup    A config like tests/conftest.py's and prepare(load_sample=False) with a campaigns folder that
         holds one synthetic campaign, "bench-summary": --fields questions (30: 16 integers, 7 money,
         2 yes/no, 2 select_one, 1 date, 2 long_text narratives), 2 periods ("dot-1", "dot-2") and
         4 targets (2 share_of_units, 1 ratio, 1 total), audience the grassroots unions.
         A province, ~N/30 upper-level unions of uneven size and N grassroots unions are imported
         with storage.units.apply_import (timed). Chairs (92% of units, most with a Telegram or Zalo
         identity, a few blocked) and officers, then submissions for ~85% of the grassroots unions
         in each period (12% late, 10% with a second revision whose answers differ) are written with
         bulk SQL in one transaction into people / identities / memberships / submissions /
         submission_revisions / answers (timed). Narratives are Vietnamese text of 70-450 characters.
measure  In a child process (so that ru_maxrss is that of the summary, not of the data build), with
         every renderer imported beforehand, the summary of "dot-2" for the whole organisation
         (scope_roots=None), as the department would ask for it on 10/01/2025:
           build_summary   one real call, split into unit_rows (bot.summary.service: the queries) and
                           compute_summary (pure) by timing wrappers put around both in the child
           text            summary_text
           xlsx, docx, png bot.summary.files.write(summary, fmt, ...), each on its own
         A small summary is rendered once before the timed renders (not counted: fonts, the Word
         template, matplotlib's caches); its cost is printed as the one-off first render.
         Memory: the process's peak RSS during each step (VmHWM, reset before the step through
         /proc/self/clear_refs; C allocations of SQLite, lxml and Agg included) and ru_maxrss; then
         a second pass under tracemalloc gives the Python peak of each step. That pass costs ~4x the
         timed one (xlsx ~5x), so by default it runs at the first N only. --profile adds a cProfile
         pass at the first N and prints the top entries of each step.

Printed: a table per step with the seconds at each N and the ratio of the second N to the first (and the
CPU seconds of the text summary, every thread counted: the computing runs in a worker thread),
the checks against the issue's targets (at 10,000 units on a 2-core machine: text summary, i.e.
build_summary + summary_text, <= 0.5 s; all files <= 5 s; 2x the units <= 2.1x the time; peak
memory <= 400 MB), the row counts, the database size and the file sizes. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a file: python bench/summary.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import write_config
from bot.app import open_database, prepare
from bot.config import Config, load_config
from bot.domain import UnitKind
from storage import units as unit_store
from storage.timefmt import to_db
from storage.units import UnitRow

REPO = Path(__file__).resolve().parent.parent
VN = ZoneInfo("Asia/Ho_Chi_Minh")
SETUP_AT = datetime(2024, 6, 1, 8, 0, tzinfo=VN)
AS_OF = datetime(2025, 1, 10, 9, 30, tzinfo=VN)  # after dot-2 is due: on time, late and missing units
CAMPAIGN_ID = "bench-summary"
PERIOD = "dot-2"
ROOT_CODE = "BT"
ROOT_NAME = "Liên đoàn Lao động tỉnh Bình Thuận (thử tải)"
SEED = 20250110
REPORTED_SHARE = 0.85
LATE_SHARE = 0.12
REVISED_SHARE = 0.10
CHAIR_SHARE = 0.92
CHUNK = 1000  # submissions per executemany batch, so the build never holds the whole data set
GRASSROOTS = (UnitKind.ENTERPRISE_PRIVATE, UnitKind.ENTERPRISE_STATE, UnitKind.PUBLIC_AGENCY)

TARGETS = {  # the targets, at 10,000 units
    "text": 0.5,  # build_summary + summary_text, seconds
    "files": 5.0,  # xlsx + docx + png, seconds
    "ratio": 2.1,  # time at 2N / time at N (issue 13)
    "memory_mb": 400.0,
}

# --- the synthetic campaign ------------------------------------------------------------------------------------

# (name, label, unit, low, high): answers are drawn in [low, high], scaled by the unit's size for some.
INTEGERS: list[tuple[str, str, str, int, int]] = [
    ("members_total", "Tổng số đoàn viên công đoàn của đơn vị?", "người", 15, 2500),
    ("members_female", "Trong đó, số đoàn viên nữ?", "người", 0, 0),
    ("workers_total", "Tổng số người lao động tại đơn vị?", "người", 0, 0),
    ("new_members", "Số đoàn viên được kết nạp mới trong đợt?", "người", 0, 60),
    ("propaganda_sessions", "Số buổi tuyên truyền, phổ biến pháp luật đã tổ chức?", "buổi", 0, 12),
    ("propaganda_participants", "Số lượt đoàn viên, người lao động tham dự tuyên truyền?", "lượt người", 0, 0),
    ("contest_participants", "Số đoàn viên tham gia cuộc thi trực tuyến?", "người", 0, 0),
    ("news_items", "Số tin, bài đã gửi đăng trên trang thông tin Công đoàn?", "tin, bài", 0, 6),
    ("dialogues", "Số cuộc đối thoại tại nơi làm việc?", "cuộc", 0, 4),
    ("dialogue_participants", "Số người lao động tham gia đối thoại?", "người", 0, 0),
    ("care_activities", "Số hoạt động chăm lo lợi ích đoàn viên, người lao động?", "hoạt động", 0, 6),
    ("gifts_people", "Số đoàn viên, người lao động khó khăn được tặng quà?", "người", 0, 80),
    ("mai_am_houses", "Số nhà “Mái ấm Công đoàn” được hỗ trợ xây mới, sửa chữa?", "căn", 0, 2),
    ("ao_dai_given", "Số bộ áo dài được tặng nữ đoàn viên?", "bộ", 0, 25),
    ("members_to_party", "Số đoàn viên ưu tú giới thiệu cho Đảng xem xét kết nạp?", "người", 0, 5),
    ("initiatives", "Số sáng kiến, cải tiến kỹ thuật được công nhận?", "sáng kiến", 0, 10),
    ("agreements_expiring", "Số bản thỏa ước lao động tập thể hết hạn trong đợt?", "bản", 0, 2),
    ("agreements_resigned", "Số bản thỏa ước được sửa đổi, ký lại, ký mới?", "bản", 0, 0),
    ("accidents", "Số vụ tai nạn lao động xảy ra trong đợt?", "vụ", 0, 2),
    ("safety_checks", "Số cuộc kiểm tra an toàn, vệ sinh lao động có công đoàn tham gia?", "cuộc", 0, 6),
]
MONEY: list[tuple[str, str, int, int]] = [
    ("gifts_money", "Tổng giá trị quà tặng đoàn viên, người lao động (đồng)?", 0, 60_000_000),
    ("meal_money", "Kinh phí tổ chức “Bữa cơm công đoàn” (đồng)?", 0, 25_000_000),
    ("mai_am_money", "Kinh phí hỗ trợ “Mái ấm Công đoàn” (đồng)?", 0, 80_000_000),
    ("budget_spent", "Tổng kinh phí công đoàn đã chi cho các hoạt động (đồng)?", 500_000, 150_000_000),
    ("sponsor_money", "Kinh phí vận động xã hội hóa (đồng)?", 0, 40_000_000),
    ("bonus_money", "Tiền thưởng cho đoàn viên, người lao động (đồng)?", 0, 30_000_000),
    ("welfare_money", "Kinh phí trợ cấp đoàn viên ốm đau, khó khăn (đồng)?", 0, 20_000_000),
]
FIXED_FIELDS = 7  # 2 yes/no, 2 select_one, 1 date, 2 long_text
# The indicators' short names in the summaries (the questions above are what the dialog asks).
REPORT_LABELS = {
    "members_total": "Tổng số đoàn viên",
    "members_female": "Số đoàn viên nữ",
    "workers_total": "Tổng số người lao động",
    "new_members": "Số đoàn viên kết nạp mới",
    "propaganda_sessions": "Số buổi tuyên truyền",
    "propaganda_participants": "Số lượt người dự tuyên truyền",
    "contest_participants": "Số đoàn viên dự thi trực tuyến",
    "news_items": "Số tin, bài gửi đăng",
    "dialogues": "Số cuộc đối thoại",
    "dialogue_participants": "Số người lao động dự đối thoại",
    "care_activities": "Số hoạt động chăm lo",
    "gifts_people": "Số người khó khăn được tặng quà",
    "mai_am_houses": "Số nhà “Mái ấm Công đoàn”",
    "ao_dai_given": "Số bộ áo dài được tặng",
    "members_to_party": "Số đoàn viên ưu tú giới thiệu cho Đảng",
    "initiatives": "Số sáng kiến được công nhận",
    "agreements_expiring": "Số TƯLĐTT hết hạn",
    "agreements_resigned": "Số TƯLĐTT sửa đổi, ký lại, ký mới",
    "accidents": "Số vụ tai nạn lao động",
    "safety_checks": "Số cuộc kiểm tra ATVSLĐ",
    "gifts_money": "Giá trị quà tặng",
    "meal_money": "Kinh phí “Bữa cơm công đoàn”",
    "mai_am_money": "Kinh phí “Mái ấm Công đoàn”",
    "budget_spent": "Tổng kinh phí đã chi",
    "sponsor_money": "Kinh phí xã hội hóa",
    "bonus_money": "Tiền thưởng",
    "welfare_money": "Kinh phí trợ cấp",
}


def report_label(name: str, question: str) -> str:
    return REPORT_LABELS.get(name) or question.rstrip("?").removesuffix(" (đồng)")


def field_plan(n_fields: int) -> tuple[list[tuple[str, str, str, int, int]], list[tuple[str, str, int, int]]]:
    """The integer and money questions of a form of n_fields questions (the other 7 are fixed)."""
    numeric = max(n_fields - FIXED_FIELDS, 4)
    n_money = max(1, round(numeric * 0.3))
    n_int = numeric - n_money
    ints = list(INTEGERS[:n_int])
    for i in range(len(ints), n_int):
        ints.append((f"extra_count_{i:02d}", f"Chỉ tiêu bổ sung số {i}?", "lượt", 0, 40))
    money = list(MONEY[:n_money])
    for i in range(len(money), n_money):
        money.append((f"extra_money_{i:02d}", f"Khoản kinh phí bổ sung số {i} (đồng)?", 0, 10_000_000))
    return ints, money


def _toml_text(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a TOML basic string is a JSON string for this text


def campaign_toml(n_fields: int) -> str:
    ints, money = field_plan(n_fields)
    out = [f"""\
id = "{CAMPAIGN_ID}"
title = {{ vi = "Báo cáo kết quả Tháng Công nhân và chăm lo đoàn viên năm 2024 (thử tải)", en = "Load test" }}
timezone = "Asia/Ho_Chi_Minh"

[plan]
issuer = "Ban Thường vụ {ROOT_NAME}"
parent_issuer = "Tổng Liên đoàn Lao động Việt Nam"
number = "99/KH-LĐLĐ"
date = 2024-03-15
place = "Phan Thiết"
title = "Kế hoạch thử tải: tổng hợp báo cáo hai đợt năm 2024"

[audience]
scope = {{ kinds = ["grassroots"] }}
reports_to = "LĐLĐ tỉnh (qua Ban Tuyên giáo – Nữ công)"

[contact]
department = "Ban Tuyên giáo – Nữ công, {ROOT_NAME}"
name = "Nguyễn Thị Thử"
phone = "0912.345.678"

[[periods]]
key = "dot-1"
name = {{ vi = "Đợt 1 (01/01–30/06/2024)", en = "Round 1 (Jan–Jun 2024)" }}
covers = {{ start = 2024-01-01, end = 2024-06-30 }}
due = {{ date = 2024-07-05, wording = "before", text = "đợt 1 trước ngày 5/7/2024" }}

[[periods]]
key = "dot-2"
name = {{ vi = "Đợt 2 (01/07–31/12/2024)", en = "Round 2 (Jul–Dec 2024)" }}
covers = {{ start = 2024-07-01, end = 2024-12-31 }}
due = {{ date = 2025-01-05, wording = "before", text = "đợt 2 trước ngày 5/01/2025" }}
"""]
    for name, label, unit, _lo, _hi in ints:
        out.append(f"""
[[fields]]
name = "{name}"
type = "integer"
label = {{ vi = {_toml_text(label)} }}
report_label = {{ vi = {_toml_text(report_label(name, label))} }}
unit = {{ vi = {_toml_text(unit)} }}
constraint = ". >= 0"
constraint_message = {{ vi = "Nhập số từ 0 trở lên" }}
""")
    for name, label, _lo, _hi in money:
        out.append(f"""
[[fields]]
name = "{name}"
type = "money"
label = {{ vi = {_toml_text(label)} }}
report_label = {{ vi = {_toml_text(report_label(name, label))} }}
""")
    out.append("""
[[fields]]
name = "union_meal_held"
type = "yes_no"
label = { vi = "Đơn vị có tổ chức “Bữa cơm công đoàn” không?" }
report_label = { vi = "Tổ chức “Bữa cơm công đoàn”" }

[[fields]]
name = "held_dialogue"
type = "yes_no"
label = { vi = "Đơn vị có tổ chức đối thoại định kỳ với người sử dụng lao động không?" }
report_label = { vi = "Đối thoại định kỳ" }

[[fields]]
name = "agreement_status"
type = "select_one"
label = { vi = "Thỏa ước lao động tập thể của đơn vị?" }
report_label = { vi = "Thỏa ước lao động tập thể" }
choices = [
  { value = "signed", label = { vi = "Đã ký, còn hiệu lực" } },
  { value = "renewing", label = { vi = "Đang sửa đổi, ký lại" } },
  { value = "none", label = { vi = "Chưa có" } },
]

[[fields]]
name = "safety_rating"
type = "select_one"
label = { vi = "Tự đánh giá công tác an toàn, vệ sinh lao động?" }
report_label = { vi = "Tự đánh giá an toàn, vệ sinh lao động" }
choices = [
  { value = "good", label = { vi = "Tốt" } },
  { value = "fair", label = { vi = "Khá" } },
  { value = "weak", label = { vi = "Cần cố gắng" } },
]

[[fields]]
name = "main_event_date"
type = "date"
label = { vi = "Ngày tổ chức hoạt động chính của đợt?" }
report_label = { vi = "Ngày tổ chức hoạt động chính" }

[[fields]]
name = "highlights"
type = "long_text"
label = { vi = "Kết quả nổi bật, cách làm hay của đơn vị" }
report_label = { vi = "Kết quả nổi bật, cách làm hay" }

[[fields]]
name = "proposals"
type = "long_text"
label = { vi = "Khó khăn, vướng mắc và kiến nghị, đề xuất" }
report_label = { vi = "Khó khăn, kiến nghị" }
required = false

[[targets]]
key = "cham-lo-moi-cdcs"
text = "Mỗi CĐCS tổ chức ít nhất 01 hoạt động chăm lo lợi ích cho đoàn viên, người lao động"
label = { vi = "CĐCS có ít nhất 01 hoạt động chăm lo" }
measure = "share_of_units"
condition = "${care_activities} >= 1"
threshold = 100

[[targets]]
key = "bua-com-70"
text = "Phấn đấu 70% CĐCS tổ chức “Bữa cơm công đoàn”"
label = { vi = "CĐCS tổ chức “Bữa cơm công đoàn”" }
measure = "share_of_units"
condition = "${union_meal_held} = true"
threshold = 70

[[targets]]
key = "thi-truc-tuyen-50"
text = "Có ít nhất 50% đoàn viên tham gia cuộc thi trực tuyến"
label = { vi = "Tỷ lệ đoàn viên dự thi trực tuyến" }
measure = "ratio"
numerator = "contest_participants"
denominator = "members_total"
threshold = 50

[[targets]]
key = "tin-bai"
text = "Toàn tỉnh có ít nhất 20.000 tin, bài về hoạt động công đoàn"
label = { vi = "Tin, bài về hoạt động công đoàn" }
measure = "total"
field = "news_items"
threshold = 20000
unit = "count"
""")
    return "".join(out)


# --- believable names and answers ------------------------------------------------------------------------------

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Đức", "Hoài")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Lan", "Linh", "Long", "Mai", "Nam",
         "Nga", "Phương", "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Vân", "Yến")
PLACES = ("Phan Thiết", "La Gi", "Tuy Phong", "Bắc Bình", "Hàm Thuận Bắc", "Hàm Thuận Nam", "Tánh Linh", "Đức Linh",
          "Hàm Tân", "Phú Quý", "Mũi Né", "Phú Long", "Chợ Lầu", "Liên Hương", "Võ Xu", "Lạc Tánh")
COMPANIES = ("TNHH May mặc", "CP Thủy sản", "TNHH Chế biến Hải sản", "CP Xây dựng", "TNHH Điện gió", "CP Du lịch",
             "TNHH Giày da", "CP Cao su", "TNHH Gỗ", "CP Thanh Long", "TNHH Cơ khí", "CP Vận tải")
AGENCIES = ("Trường Tiểu học", "Trường THCS", "Trường THPT", "Trường Mầm non", "Trạm Y tế", "Bệnh viện",
            "Chi cục Thuế", "Kho bạc Nhà nước", "Phòng Giáo dục và Đào tạo", "Ủy ban nhân dân xã")
HIGHLIGHT_OPEN = (
    "Trong đợt, Ban Chấp hành công đoàn cơ sở đã phối hợp với chuyên môn",
    "Công đoàn cơ sở chủ động tham mưu với người sử dụng lao động",
    "Đơn vị đã triển khai đầy đủ kế hoạch của công đoàn cấp trên,",
    "Bám sát chỉ đạo của Liên đoàn Lao động tỉnh, công đoàn cơ sở",
    "Nổi bật trong đợt là việc công đoàn cơ sở",
)
HIGHLIGHT_BODY = (
    "tổ chức thành công chương trình “Bữa cơm công đoàn” cho {n} đoàn viên, người lao động",
    "tổ chức hội thao công nhân với {n} vận động viên tham gia ở 5 môn thi đấu",
    "thăm hỏi, tặng quà {n} đoàn viên có hoàn cảnh khó khăn, ốm đau dài ngày",
    "tổ chức đối thoại định kỳ, giải quyết dứt điểm {n} kiến nghị của người lao động về tiền lương, ca kíp",
    "phát động phong trào thi đua lao động giỏi, lao động sáng tạo, có {n} sáng kiến được đăng ký",
    "tuyên truyền Bộ luật Lao động, Luật Công đoàn năm 2024 đến {n} lượt đoàn viên",
    "phối hợp khám sức khỏe định kỳ miễn phí cho {n} nữ đoàn viên",
    "vận động xây dựng, sửa chữa nhà “Mái ấm Công đoàn” cho đoàn viên khó khăn về nhà ở",
)
HIGHLIGHT_CLOSE = (
    "Hoạt động được đoàn viên, người lao động đồng tình hưởng ứng, góp phần ổn định quan hệ lao động.",
    "Qua đó nâng cao vai trò đại diện, bảo vệ quyền lợi hợp pháp, chính đáng của đoàn viên.",
    "Kết quả được chính quyền địa phương và doanh nghiệp ghi nhận.",
    "Đơn vị sẽ tiếp tục duy trì mô hình trong năm 2025.",
)
PROPOSALS = (
    "Kinh phí công đoàn cơ sở được giữ lại còn hạn chế, đề nghị công đoàn cấp trên hỗ trợ thêm kinh phí tổ chức "
    "các hoạt động chăm lo dịp Tết Nguyên đán.",
    "Người lao động làm theo ca, khó bố trí thời gian sinh hoạt tập trung; đề nghị có thêm tài liệu tuyên truyền "
    "ngắn gọn qua mạng xã hội.",
    "Doanh nghiệp gặp khó khăn về đơn hàng, một số người lao động bị giảm giờ làm; kiến nghị có chính sách hỗ trợ.",
    "Đề nghị Liên đoàn Lao động tỉnh tổ chức tập huấn nghiệp vụ cho cán bộ công đoàn cơ sở mới được bầu.",
    "Đề nghị đơn giản hóa mẫu báo cáo, gộp các đợt báo cáo trùng nội dung.",
)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def grassroots_name(rng: random.Random, kind: UnitKind, i: int) -> str:
    place = rng.choice(PLACES)
    if kind is UnitKind.PUBLIC_AGENCY:
        return f"Công đoàn {rng.choice(AGENCIES)} {place} số {i}"
    return f"Công đoàn cơ sở Công ty {rng.choice(COMPANIES)} {place} {i}"


def highlight_text(rng: random.Random, members: int) -> str:
    parts = [rng.choice(HIGHLIGHT_OPEN)]
    for body in rng.sample(HIGHLIGHT_BODY, rng.randint(1, 3)):
        parts.append(body.format(n=rng.randint(10, max(11, members))) + ";")
    parts[-1] = parts[-1].rstrip(";") + "."
    parts.append(rng.choice(HIGHLIGHT_CLOSE))
    return " ".join(parts)


def answers_for(rng: random.Random, ints: list[tuple[str, str, str, int, int]],
                money: list[tuple[str, str, int, int]], period_start: datetime) -> dict[str, Any]:
    members = int(rng.lognormvariate(4.3, 1.0)) + 10
    members = min(members, 6000)
    a: dict[str, Any] = {}
    for name, _label, _unit, lo, hi in ints:
        if name == "members_total":
            a[name] = members
        elif name == "members_female":
            a[name] = int(members * rng.uniform(0.25, 0.8))
        elif name == "workers_total":
            a[name] = members + rng.randint(0, members // 5 + 1)
        elif name == "propaganda_participants":
            a[name] = rng.randint(0, members * 2)
        elif name == "contest_participants":
            a[name] = int(members * rng.uniform(0.1, 0.9))
        elif name == "dialogue_participants":
            a[name] = rng.randint(0, members)
        elif name == "agreements_resigned":
            a[name] = rng.randint(0, a.get("agreements_expiring", 1))
        else:
            a[name] = rng.randint(lo, hi) if rng.random() < 0.8 else 0
    for name, _label, lo, hi in money:
        a[name] = (rng.randint(lo, hi) // 10_000) * 10_000 if rng.random() < 0.75 else 0
    a["union_meal_held"] = rng.random() < 0.72
    a["held_dialogue"] = rng.random() < 0.6
    a["agreement_status"] = rng.choices(("signed", "renewing", "none"), (70, 10, 20))[0]
    a["safety_rating"] = rng.choices(("good", "fair", "weak"), (60, 32, 8))[0]
    a["main_event_date"] = (period_start + timedelta(days=rng.randint(0, 180))).date().isoformat()
    a["highlights"] = highlight_text(rng, members)
    if rng.random() < 0.55:
        a["proposals"] = " ".join(rng.sample(PROPOSALS, rng.randint(1, 2)))
    return a


_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def reference(n: int) -> str:
    chars = []
    for _ in range(6):
        n, r = divmod(n, len(_REF_ALPHABET))
        chars.append(_REF_ALPHABET[r])
    return "BC-" + "".join(reversed(chars))


# --- setup -----------------------------------------------------------------------------------------------------


def write_bench_files(tmp: Path, n_fields: int) -> Path:
    campaigns = tmp / "campaigns"
    campaigns.mkdir(parents=True)
    (campaigns / f"{CAMPAIGN_ID}.toml").write_text(campaign_toml(n_fields), encoding="utf-8")
    return write_config(tmp, campaigns)


def org_rows(n: int, rng: random.Random) -> tuple[list[UnitRow], int]:
    """A province, ~n/30 upper-level unions of uneven size, n grassroots unions."""
    n_upper = max(1, round(n / 30))
    rows = [UnitRow(ROOT_CODE, ROOT_NAME, UnitKind.PROVINCE, None)]
    uppers = []
    for u in range(n_upper):
        code = f"{ROOT_CODE}-{u + 1:03d}"
        place = PLACES[u % len(PLACES)]
        sector = rng.choice(("Giáo dục", "Y tế", "Công thương", "Xây dựng", "Giao thông"))
        name = f"Liên đoàn Lao động huyện {place} ({u + 1})" if u % 4 else f"Công đoàn ngành {sector} ({u + 1})"
        rows.append(UnitRow(code, name, UnitKind.UPPER, ROOT_CODE))
        uppers.append(code)
    weights = [rng.uniform(0.3, 1.7) for _ in uppers]  # 10 to 50 grassroots unions under each, about
    for i in range(n):
        parent = rng.choices(uppers, weights)[0]
        kind = GRASSROOTS[rng.randrange(3)]
        rows.append(UnitRow(f"{parent}-{i + 1:05d}", grassroots_name(rng, kind, i + 1), kind, parent))
    return rows, n_upper


async def build_dataset(tmp: Path, n: int, n_fields: int) -> dict[str, Any]:
    rng = random.Random(SEED + n)
    config_path = write_bench_files(tmp, n_fields)
    config = load_config(config_path, environ={})
    info: dict[str, Any] = {"config": str(config_path)}
    t0 = time.perf_counter()
    prepared = await prepare(config, SETUP_AT, load_sample=False)
    db = prepared.db
    info["prepare_s"] = time.perf_counter() - t0
    try:
        rows, n_upper = org_rows(n, rng)
        t0 = time.perf_counter()
        result = await unit_store.apply_import(db, rows, actor="bench", now=SETUP_AT)
        info["import_s"] = time.perf_counter() - t0
        info["units_imported"] = result.created
        info["uppers"] = n_upper
        t0 = time.perf_counter()
        counts = await fill(db, rng, n_fields)
        info["fill_s"] = time.perf_counter() - t0
        info.update(counts)
        await db.fetchall("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await db.close()
    info["db_mb"] = config.db_path.stat().st_size / 1e6
    return info


async def fill(db: Any, rng: random.Random, n_fields: int) -> dict[str, int]:
    """People, identities, memberships, submissions, revisions, answers: bulk SQL in one transaction."""
    ints, money = field_plan(n_fields)
    stamp = to_db(SETUP_AT)
    units = await db.fetchall("SELECT id, kind FROM units WHERE active = 1 ORDER BY id")
    periods = {r["key"]: r for r in await db.fetchall(
        "SELECT id, key, covers_start, due_at FROM periods WHERE campaign_id = ?", (CAMPAIGN_ID,))}
    grassroots = [r["id"] for r in units if UnitKind(r["kind"]).is_grassroots]
    uppers = [r["id"] for r in units if r["kind"] == UnitKind.UPPER.value]
    counts = {"people": 0, "identities": 0, "submissions": 0, "revisions": 0, "answers": 0}
    async with db.transaction() as tx:
        # Chairs and officers: who the missing-units sheet names, and whom the bot can reach.
        people, identities, memberships = [], [], []
        chair_of: dict[int, int] = {}
        pid = 0
        who = [*((u, "chair", CHAIR_SHARE) for u in grassroots), *((u, "officer", 1.0) for u in uppers)]
        for uid, role, share in who:
            if rng.random() >= share:
                continue
            pid += 1
            people.append((pid, person_name(rng), "vi", stamp))
            memberships.append((pid, uid, role, stamp))
            chair_of[uid] = pid
            r = rng.random()
            if r < 0.80:
                blocked = stamp if rng.random() < 0.03 else None
                identities.append((pid, "telegram", str(900_000_000 + pid), str(900_000_000 + pid), blocked, stamp))
            elif r < 0.92:
                identities.append((pid, "zalo", f"z{pid:09d}", f"z{pid:09d}", None, stamp))
            # the rest were registered by an officer and have not opened the bot yet
        await tx.executemany("INSERT INTO people(id, full_name, locale, created_at) VALUES (?, ?, ?, ?)", people)
        await tx.executemany(
            "INSERT INTO identities(person_id, channel, external_id, chat_id, blocked_at, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", identities)
        await tx.executemany("INSERT INTO memberships(person_id, unit_id, role, granted_at) VALUES (?, ?, ?, ?)",
                             memberships)
        counts["people"], counts["identities"] = len(people), len(identities)
        del people, identities, memberships

        sub_id = rev_id = 0
        for key in ("dot-1", "dot-2"):
            p = periods[key]
            start = datetime.fromisoformat(p["covers_start"]).replace(tzinfo=VN)
            due = datetime.fromisoformat(p["due_at"])
            reporting = [u for u in grassroots if rng.random() < REPORTED_SHARE]
            for i in range(0, len(reporting), CHUNK):
                subs, revs, answers = [], [], []
                for uid in reporting[i:i + CHUNK]:
                    sub_id += 1
                    late = rng.random() < LATE_SHARE
                    first = (due + timedelta(hours=rng.uniform(1, 120)) if late
                             else due - timedelta(hours=rng.uniform(1, 24 * 20)))
                    n_rev = 2 if rng.random() < REVISED_SHARE else 1
                    last = first + timedelta(hours=rng.uniform(1, 48)) if n_rev == 2 else first
                    values = answers_for(rng, ints, money, start)
                    person = chair_of.get(uid)
                    channel = "telegram" if rng.random() < 0.85 else "zalo"
                    for rev in range(1, n_rev + 1):
                        rev_id += 1
                        at = first if rev == 1 else last
                        revs.append((rev_id, sub_id, rev, to_db(at), person, channel, int(late)))
                        if rev == 2:  # a correction: a few figures change
                            values = dict(values)
                            for name, *_ in rng.sample(ints, 3):
                                values[name] = values[name] + rng.randint(0, 5)
                        answers.extend((rev_id, k, json.dumps(v, ensure_ascii=False)) for k, v in values.items())
                    # As storage.submissions.record keeps it: the latest revision's answers on the submission.
                    subs.append((sub_id, p["id"], uid, reference(sub_id), n_rev, to_db(first), to_db(last), int(late),
                                 json.dumps(values, ensure_ascii=False, sort_keys=True)))
                await tx.executemany(
                    "INSERT INTO submissions(id, period_id, unit_id, reference, revision, first_submitted_at, "
                    "last_submitted_at, late, latest_answers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", subs)
                await tx.executemany(
                    "INSERT INTO submission_revisions(id, submission_id, revision, submitted_at, submitted_by, "
                    "channel, late) VALUES (?, ?, ?, ?, ?, ?, ?)", revs)
                await tx.executemany("INSERT INTO answers(revision_id, field, value) VALUES (?, ?, ?)", answers)
                counts["submissions"] += len(subs)
                counts["revisions"] += len(revs)
                counts["answers"] += len(answers)
            counts[f"reported_{key}"] = len(reporting)
    return counts


# --- measure (child process) -----------------------------------------------------------------------------------


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB on Linux


def hwm_mb() -> float | None:
    """The process's peak RSS since the last reset_hwm() (Linux VmHWM), C allocations included."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return None


def reset_hwm() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def _profile_top(prof: cProfile.Profile, n: int = 12) -> str:
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("tottime").print_stats(n)
    text = buf.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text.rstrip()


async def measure(config_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    # Everything a /tonghop needs is imported first: the bot has it loaded long before.
    import matplotlib  # noqa: F401
    from docxtpl import DocxTemplate  # noqa: F401
    from openpyxl import Workbook  # noqa: F401

    import bot.summary.service as service
    from bot.i18n import translator
    from bot.summary import chart, docx_report, xlsx  # noqa: F401
    from bot.summary.files import write
    from bot.summary.text import summary_text

    # build_summary's two parts, timed inside the real call: service reads both through names that are
    # looked up at call time (service.unit_rows, service.compute_summary).
    split: dict[str, float] = {}
    unit_rows, compute_summary = service.unit_rows, service.compute_summary

    async def timed_rows(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await unit_rows(*a, **k)
        finally:
            split["unit_rows"] = time.perf_counter() - t0

    def timed_compute(*a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return compute_summary(*a, **k)
        finally:
            split["compute"] = time.perf_counter() - t0

    service.unit_rows = timed_rows  # type: ignore[assignment]
    service.compute_summary = timed_compute  # type: ignore[assignment]

    config: Config = load_config(config_path, environ={})
    zone = config.app.zone
    t = translator(config.app.language, config.locales_dir)
    out_root = config_path.parent / "out"
    res: dict[str, Any] = {"rss_after_imports_mb": rss_mb()}
    peaks: dict[str, float | None] = {}
    db = await open_database(config)

    async def build() -> Any:
        return await service.build_summary(db, CAMPAIGN_ID, PERIOD, scope_roots=None, scope_name=ROOT_NAME,
                                           now=AS_OF)

    try:
        # The measured pass: the SQLite cache of this connection is cold, the OS cache is not.
        reset_hwm()
        t0, c0 = time.perf_counter(), time.process_time()
        summary = await build()
        res["build_summary"] = time.perf_counter() - t0
        res["build_summary_cpu"] = time.process_time() - c0  # every thread's: the computing runs in a worker
        res.update(split)
        peaks["build_summary"] = hwm_mb()
        res["expected"], res["reported"], res["late"] = summary.expected, summary.reported, summary.late
        res["uppers_in_summary"], res["narratives"] = len(summary.uppers), len(summary.narratives)
        res["rss_with_summary_mb"] = rss_mb()

        # One-off costs of a first render (matplotlib fonts, the Word template), on a small summary.
        t0 = time.perf_counter()
        small = compute_summary(campaign=summary.campaign, period=summary.period, period_id=summary.period_id,
                                due_at=summary.due_at, closes_at=summary.closes_at, as_of=AS_OF,
                                scope_name=ROOT_NAME, units=summary.units[:60])
        for fmt in ("text", "xlsx", "docx", "png"):
            write(small, fmt, out_root / "warmup", t, zone)
        res["warmup"] = time.perf_counter() - t0
        del small

        reset_hwm()
        t0, c0 = time.perf_counter(), time.process_time()
        text = summary_text(summary, t, zone)
        res["text"] = time.perf_counter() - t0
        res["text_cpu"] = time.process_time() - c0
        peaks["text"] = hwm_mb()
        res["text_chars"] = len(text)
        files: dict[str, float] = {}
        for fmt in ("xlsx", "docx", "png"):
            reset_hwm()
            t0, c0 = time.perf_counter(), time.process_time()
            path = write(summary, fmt, out_root / "timed", t, zone)
            res[fmt] = time.perf_counter() - t0
            res[f"{fmt}_cpu"] = time.process_time() - c0
            peaks[fmt] = hwm_mb()
            files[fmt] = path.stat().st_size / 1e6
        res["file_mb"] = files
        res["hwm_mb"] = peaks
        res["maxrss_mb"] = max_rss_mb()  # the peak of this process so far: imports + the untraced pass
        del summary, text
        await repeat_timed(res, args.repeat - 1, build, lambda s: summary_text(s, t, zone),
                           lambda s, fmt: write(s, fmt, out_root / "timed", t, zone))
        res["text_total_cpu"] = res["build_summary_cpu"] + res["text_cpu"]

        if args.tracemalloc != "off":
            traced: dict[str, float] = {}
            tracemalloc.start()
            t0 = time.perf_counter()
            s = await build()
            traced["build_summary"] = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.reset_peak()
            summary_text(s, t, zone)
            traced["text"] = tracemalloc.get_traced_memory()[1] / 1e6
            for fmt in ("xlsx", "docx", "png"):
                tracemalloc.reset_peak()
                write(s, fmt, out_root / "traced", t, zone)
                traced[fmt] = tracemalloc.get_traced_memory()[1] / 1e6
            res["traced_s"] = time.perf_counter() - t0
            tracemalloc.stop()
            res["tracemalloc_mb"] = traced
            del s

        if args.profile_here:
            profiles: dict[str, str] = {}
            prof = cProfile.Profile()
            prof.enable()
            s = await build()
            prof.disable()
            profiles["build_summary"] = _profile_top(prof)
            steps: list[tuple[str, Callable[[], Any]]] = [("text", lambda: summary_text(s, t, zone))]
            steps += [(fmt, lambda fmt=fmt: write(s, fmt, out_root / "profiled", t, zone))
                      for fmt in ("xlsx", "docx", "png")]
            for name, step in steps:
                prof = cProfile.Profile()
                prof.enable()
                step()
                prof.disable()
                profiles[name] = _profile_top(prof)
            res["profiles"] = profiles
    finally:
        await db.close()
    return res


TIMED = ("build_summary", "text", "xlsx", "docx", "png")


async def repeat_timed(res: dict[str, Any], more: int, build: Callable[[], Any], text: Callable[[Any], Any],
                       write: Callable[[Any, str], Any]) -> None:
    """`more` passes of the timed steps after the first, each step's seconds and CPU seconds replaced by their
    median over every pass: on a machine shared with other work one pass says more about the load than about
    the code. Memory stays the first pass's."""
    if more <= 0:
        return
    runs = {k: [res[k]] for k in TIMED} | {f"{k}_cpu": [res[f"{k}_cpu"]] for k in TIMED}

    def timed(key: str, step: Callable[[], Any]) -> Any:
        t0, c0 = time.perf_counter(), time.process_time()
        out = step()
        runs[key].append(time.perf_counter() - t0)
        runs[f"{key}_cpu"].append(time.process_time() - c0)
        return out

    for _ in range(more):
        t0, c0 = time.perf_counter(), time.process_time()
        summary = await build()
        runs["build_summary"].append(time.perf_counter() - t0)
        runs["build_summary_cpu"].append(time.process_time() - c0)
        timed("text", lambda s=summary: text(s))
        for fmt in ("xlsx", "docx", "png"):
            timed(fmt, lambda fmt=fmt, s=summary: write(s, fmt))
        del summary
    for key, values in runs.items():
        res[key] = statistics.median(values)
    res["passes"] = more + 1


# --- the parent: build, measure in a child, print --------------------------------------------------------------


STEPS = [
    ("unit_rows", "build: unit_rows (queries)"),
    ("compute", "build: compute_summary"),
    ("build_summary", "build_summary (whole call)"),
    ("text", "text: summary_text"),
    ("text_total", "text summary (build + text)"),
    ("text_total_cpu", "text summary CPU (build + text)"),
    ("xlsx", "file: xlsx"),
    ("docx", "file: docx"),
    ("png", "file: png"),
    ("files_total", "all files (xlsx+docx+png)"),
    ("all_total", "summary + text + all files"),
    ("xlsx_cpu", "CPU: xlsx"),
    ("docx_cpu", "CPU: docx"),
    ("png_cpu", "CPU: png"),
    ("files_total_cpu", "CPU: all files"),
]
MEMORY_STEPS = ("build_summary", "text", "xlsx", "docx", "png")
W = 36  # label column
C = 14  # value columns


def run_child(config_path: Path, args: argparse.Namespace, *, traced: bool, profile: bool) -> dict[str, Any]:
    out = config_path.parent / "measure.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(config_path), "--result", str(out),
           "--tracemalloc", "all" if traced else "off", "--repeat", str(args.repeat)]
    if profile:
        cmd.append("--profile-here")
    subprocess.run(cmd, check=True, cwd=REPO)
    res = json.loads(out.read_text(encoding="utf-8"))
    res["text_total"] = res["build_summary"] + res["text"]
    res["files_total"] = res["xlsx"] + res["docx"] + res["png"]
    res["files_total_cpu"] = res["xlsx_cpu"] + res["docx_cpu"] + res["png_cpu"]
    res["all_total"] = res["text_total"] + res["files_total"]
    return res


def mark(ok: bool) -> str:
    return "ok  " if ok else "MISS"


def _row(label: str, vals: list[float | None], fmt: str, *, ratio: bool = True, limit: float | None = None) -> str:
    cells = "".join(f"{'—':>{C}}" if v is None else f"{v:>{C}{fmt}}" for v in vals)
    tail = ""
    if ratio and len(vals) == 2 and vals[0] and vals[1] is not None:
        q = vals[1] / vals[0]
        tail = f"{q:>8.2f}x" + (f" (> {limit})" if limit is not None and q > limit else "")
    return f"{label:{W}}{cells}{tail}"


def report(sizes: list[int], builds: list[dict[str, Any]], results: list[dict[str, Any]], n_fields: int) -> None:
    print()
    print(f"== bench/summary.py: cpus={os.cpu_count()}  Python {platform.python_version()} "
          f"({platform.machine()}, {platform.system()})  fields={n_fields}  period={PERIOD}")
    head = f"{'':{W}}" + "".join(f"{f'N={n:,}':>{C}}" for n in sizes) + (f"{'2nd/1st':>9}" if len(sizes) == 2 else "")
    print("\n-- data set")
    print(head)
    for key, label, fmt in (("units_imported", "units imported (all levels)", ","),
                            ("uppers", "upper-level unions", ","),
                            ("people", "people (chairs, officers)", ","),
                            ("submissions", "submissions (2 periods)", ","), ("revisions", "revisions", ","),
                            ("answers", "answer rows", ","), ("import_s", "apply_import (s)", ".2f"),
                            ("fill_s", "bulk SQL, one transaction (s)", ".2f"),
                            ("total_s", "data set total (s)", ".2f"), ("db_mb", "database file (MB)", ".1f")):
        print(_row(label, [b[key] for b in builds], fmt))
    print("\n-- the summary of one period for the whole organisation (seconds)")
    print(head)
    for key, label in STEPS:
        print(_row(label, [r[key] for r in results], ".3f", limit=TARGETS["ratio"]))
    print(_row("one-off first render (not counted)", [r["warmup"] for r in results], ".3f", ratio=False))
    print("\n-- memory (MB = 10^6 bytes)")
    print(head)
    print(_row("RSS after imports", [r["rss_after_imports_mb"] for r in results], ".1f"))
    print(_row("RSS holding the summary", [r["rss_with_summary_mb"] for r in results], ".1f"))
    for step in MEMORY_STEPS:
        print(_row(f"peak RSS during {step}", [r["hwm_mb"].get(step) for r in results], ".1f"))
    print(_row("ru_maxrss (imports + timed pass)", [r["maxrss_mb"] for r in results], ".1f"))
    if any("tracemalloc_mb" in r for r in results):
        for step in MEMORY_STEPS:
            print(_row(f"tracemalloc peak: {step}", [r.get("tracemalloc_mb", {}).get(step) for r in results], ".1f"))
        print(_row("tracemalloc peak: summary+renders",
                   [max(r["tracemalloc_mb"].values()) if "tracemalloc_mb" in r else None for r in results], ".1f"))
    print("\n-- what came out")
    print(head)
    for label, get in (("units expected", lambda r: f"{r['expected']:,}"),
                       ("reported / of which late", lambda r: f"{r['reported']:,}/{r['late']:,}"),
                       ("upper levels, narratives", lambda r: f"{r['uppers_in_summary']:,}, {r['narratives']:,}"),
                       ("text (characters)", lambda r: f"{r['text_chars']:,}"),
                       ("xlsx file (MB)", lambda r: f"{r['file_mb']['xlsx']:.2f}"),
                       ("docx file (MB)", lambda r: f"{r['file_mb']['docx']:.2f}"),
                       ("png file (MB)", lambda r: f"{r['file_mb']['png']:.2f}")):
        print(f"{label:{W}}" + "".join(f"{get(r):>{C}}" for r in results))

    print(f"(median of {results[0].get('passes', 1)} passes; CPU: time.process_time, every thread; "
          f"load average {os.getloadavg()[0]:.2f} at the end)")
    print(f"\n-- targets (from the issue, at 10,000 units on 2 cores; here N={sizes[0]:,}, cpus={os.cpu_count()})")
    first = results[0]
    print(f"  [{mark(first['text_total'] <= TARGETS['text'])}] text summary (build_summary + summary_text) "
          f"<= {TARGETS['text']} s: {first['text_total']:.3f} s")
    print(f"  [{mark(first['text_total_cpu'] <= TARGETS['text'])}] text summary CPU (all threads) "
          f"<= {TARGETS['text']} s: {first['text_total_cpu']:.3f} s")
    print(f"  [{mark(first['files_total'] <= TARGETS['files'])}] all files (xlsx + docx + png) "
          f"<= {TARGETS['files']} s: {first['files_total']:.3f} s (CPU {first['files_total_cpu']:.3f} s)")
    if len(results) == 2:
        for what, keys in (("seconds", [k for k, _ in STEPS if "cpu" not in k]),
                           ("CPU", [k for k, _ in STEPS if "cpu" in k])):
            over = [(results[1][k] / results[0][k], k) for k in keys if results[0][k] > 0.05]
            worst = max(over)
            print(f"  [{mark(worst[0] <= TARGETS['ratio'])}] {sizes[1]:,} vs {sizes[0]:,} units <= "
                  f"{TARGETS['ratio']}x the {what} (steps over 0.05 s): worst {worst[1]} {worst[0]:.2f}x")
    for n, r in zip(sizes, results, strict=True):
        traced = max(r["tracemalloc_mb"].values()) if "tracemalloc_mb" in r else None
        # Resetting VmHWM resets ru_maxrss too (clear_refs): the run's peak is the highest step's.
        steps_peak = max((v for v in r["hwm_mb"].values() if v is not None), default=0.0)
        peak = max(r["maxrss_mb"], steps_peak, traced or 0.0)
        print(f"  [{mark(peak <= TARGETS['memory_mb'])}] peak memory <= {TARGETS['memory_mb']:.0f} MB at N={n:,}: "
              f"highest step {steps_peak:.0f} MB, ru_maxrss {r['maxrss_mb']:.0f} MB, tracemalloc "
              + (f"{traced:.0f} MB" if traced is not None else "not run"))
    for n, r in zip(sizes, results, strict=True):
        for name, text in r.get("profiles", {}).items():
            print(f"\n-- cProfile N={n:,} {name}: top 12 by own time")
            print(text)


def main(args: argparse.Namespace) -> int:
    sizes = [args.units] + ([args.also] if args.also else [])
    base = Path(tempfile.mkdtemp(prefix="bench-summary-"))
    builds, results = [], []
    started = time.perf_counter()
    try:
        for i, n in enumerate(sizes):
            tmp = base / f"n{n}"
            t0 = time.perf_counter()
            info = asyncio.run(build_dataset(tmp, n, args.fields))
            info["total_s"] = time.perf_counter() - t0
            print(f"N={n:,}: data set built in {info['total_s']:.1f} s (apply_import {info['import_s']:.1f} s, "
                  f"bulk SQL {info['fill_s']:.1f} s); {info['answers']:,} answer rows, {info['db_mb']:.0f} MB",
                  flush=True)
            t0 = time.perf_counter()
            traced = args.tracemalloc == "all" or (args.tracemalloc == "first" and i == 0)
            res = run_child(Path(info["config"]), args, traced=traced, profile=args.profile and i == 0)
            print(f"N={n:,}: measured in {time.perf_counter() - t0:.1f} s (child process"
                  + (f"; traced pass {res['traced_s']:.1f} s" if "traced_s" in res else "") + ")", flush=True)
            builds.append(info)
            results.append(res)
            if not args.keep:
                shutil.rmtree(tmp, ignore_errors=True)
        report(sizes, builds, results, args.fields)
        print(f"\nwhole run {time.perf_counter() - started:.0f} s")
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--units", type=int, default=10_000, help="grassroots unions in the first data set")
    p.add_argument("--also", type=int, default=20_000, help="grassroots unions in the second data set (0: none)")
    p.add_argument("--fields", type=int, default=30, help="questions in the form (at least 11)")
    p.add_argument("--tracemalloc", choices=("first", "all", "off"), default="first",
                   help="a second pass under tracemalloc for the Python peak of each step: at the first N only "
                        "(default; it costs ~4x the timed pass, xlsx ~5x), at every N, or none")
    p.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_const", const="off",
                   help="the same as --tracemalloc off")
    p.add_argument("--repeat", type=int, default=3,
                   help="timed passes at each N; the median of each step is shown (memory: the first pass)")
    p.add_argument("--profile", action="store_true", help="cProfile each step at --units and print the top entries")
    p.add_argument("--keep", action="store_true", help="keep the temp folder (databases and files)")
    p.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: the child's config path
    p.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--profile-here", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.fields < FIXED_FIELDS + 4:
        p.error(f"--fields must be at least {FIXED_FIELDS + 4}")
    return args


def cli(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        res = asyncio.run(measure(args.measure, args))
        args.result.write_text(json.dumps(res), encoding="utf-8")
        return 0
    return main(args)


if __name__ == "__main__":
    sys.exit(cli())
