"""Drafting a campaign from the plan document itself (issue 7).

The five seed plans must give what the hand-written campaigns in campaigns/ say (deadlines as
instants, rounds, targets); plans written here in the same style carry the traps: anniversary
ranges, dates of cited documents, a blank day, targets of the district itself vs of each
grassroots union, "chậm nhất" and "đến hết ngày", a deadline in a .docx table row, a text PDF.
Bad files are refused with a clear message and nothing is written.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from datetime import date
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter
from typer.testing import CliRunner

from bot.campaign_model import Scope
from bot.campaigns import campaign_to_json, load_campaign_bytes, load_campaign_file
from bot.cli.common import state
from bot.cli.plans_cmd import app as plans_app
from bot.plans.draft import NoReportingDutyError, check_draft, draft_campaign
from bot.plans.extract import PlanProposal, extract_plan, fold
from bot.plans.limits import (
    BinaryPlanError,
    EmptyPlanError,
    EncodingPlanError,
    ImagePlanError,
    OldWordPlanError,
    PlanError,
    ScannedPdfError,
    UnreadablePlanError,
)
from bot.plans.questions import report_label_of
from bot.plans.text import plan_text_from_bytes, read_plan_file

REPO = Path(__file__).resolve().parent.parent
PLANS = Path(__file__).parent / "plans"
CAMPAIGNS = REPO / "campaigns"
SEEDS = Path(os.environ.get("PLAN_SEEDS_DIR") or REPO.parent / "shared" / "seeds")

SEED_CAMPAIGNS = {
    "000_044f61df670c68cc.txt": "daklak-95-nam-cdvn-2024",
    "001_8edeef17f52461e8.txt": "daklak-chuyen-de-hcm-2024",
    "002_c377689abc922281.txt": "phongtho-thang-cong-nhan-2024",
    "003_3f04ff847d295fd6.txt": "duongminhchau-thi-dua-2024",
    "004_909121b1e75ffbb8.txt": "binhdinh-cdvc-thang-cong-nhan-2021",
}
# The seed plans live beside the clone (../shared/seeds, as in CI); a folder without all of them is not enough.
needs_seeds = pytest.mark.skipif(
    not all((SEEDS / name).is_file() for name in SEED_CAMPAIGNS),
    reason=f"the seed plans {', '.join(SEED_CAMPAIGNS)} are not all in {SEEDS} "
           "(put the project's shared/seeds beside the clone, or set PLAN_SEEDS_DIR)")
TAN_BIEN = PLANS / "tanbien_thang_cong_nhan_2024.txt"
NO_DUTY = PLANS / "cdvc_hoi_thao_2024_khong_bao_cao.txt"


def seed(name: str) -> PlanProposal:
    return extract_plan(read_plan_file(SEEDS / name).text)


def hand_written(campaign_id: str) -> dict:
    return campaign_to_json(load_campaign_file(CAMPAIGNS / f"{campaign_id}.toml").campaign)


def norm(text: str) -> str:
    return " ".join(fold(text).split()).strip(" .;")


def kinds(groups: list[str] | tuple[str, ...]) -> frozenset[str]:
    return frozenset(k.value for k in Scope(kinds=list(groups)).kinds)


def target_tuple(t: dict, audience: frozenset[str]) -> tuple:
    scope = kinds(t["scope"]["kinds"]) if t.get("scope") else audience
    return t["measure"], t.get("comparator", ">="), float(t["threshold"]), scope


# ================================================================ the five seeds
@needs_seeds
@pytest.mark.parametrize(("seed_name", "campaign_id"), sorted(SEED_CAMPAIGNS.items()))
def test_seed_plan_gives_what_the_hand_written_campaign_says(seed_name: str, campaign_id: str) -> None:
    hand = hand_written(campaign_id)
    got = seed(seed_name).to_json()

    # Rounds and deadlines: same periods, same coverage; a date written in the plan gives the same
    # instant and wording; a date the department set is "no date in the plan" and a proposal.
    assert len(got["periods"]) == len(hand["periods"]), [p["name"] for p in got["periods"]]
    plan_deadlines = set()
    for h, g in zip(hand["periods"], got["periods"], strict=True):
        assert (g["covers"]["start"], g["covers"]["end"]) == (h["covers"]["start"], h["covers"]["end"]), h["key"]
        if h["due"]["source"] == "plan":
            assert g["due_at"] == h["due_at"], h["key"]
            assert g["due"]["wording"] == h["due"]["wording"]
            assert g["due"]["source"] == "plan"
            assert not g["proposed"]
            assert norm(g["due"]["text"]) in norm(h["due"]["text"])
            assert norm(g["due"]["text"]) in norm(g["sentence"])
            plan_deadlines.add(h["due_at"])
        else:
            assert g["proposed"]
            assert g["no_date_in_plan"]
            assert g["due"]["source"] == "department"
            assert "đề xuất" in g["due"]["text"]
    assert {d["due_at"] for d in got["deadlines"]} == plan_deadlines

    # Targets: each hand-written one is proposed from the sentence that states it, with the same
    # measure, comparator, threshold and scope; and nothing is proposed that is not in the plan.
    audience_got = kinds(got["audience"]["kinds"])
    audience_hand = kinds(hand["audience"]["scope"]["kinds"])
    assert audience_got == audience_hand
    for h in hand["targets"]:
        assert any(
            norm(h["text"]) in norm(g["sentence"]) and target_tuple(g, audience_got) == target_tuple(h, audience_hand)
            for g in got["targets"]
        ), h["key"]
    for g in got["targets"]:
        assert any(
            norm(h["text"]) in norm(g["sentence"]) and target_tuple(g, audience_got) == target_tuple(h, audience_hand)
            for h in hand["targets"]
        ), g["key"]
        assert isinstance(g["threshold"], float)


@needs_seeds
def test_seed_000_two_rounds_before_5_8_and_25_11_with_the_recipient_and_contact() -> None:
    p = seed("000_044f61df670c68cc.txt")
    assert [(d.round, d.wording, d.due_at.isoformat()) for d in p.deadlines] == [
        (1, "before", "2024-08-05T00:00:00+07:00"),
        (2, "before", "2024-11-25T00:00:00+07:00"),
    ]
    first, second = p.deadlines
    assert first.covers
    assert (first.covers.start, first.covers.end) == (date(2024, 1, 1), date(2024, 7, 31))
    assert first.covers.text == "từ đầu năm đến 31/7/2024"
    assert second.covers is None
    assert second.covers_note == "kết quả các hoạt động kỷ niệm theo kế hoạch"
    assert first.recipient == "LĐLĐ tỉnh (qua Ban Tuyên giáo – Nữ công)"
    assert first.via == "Ban Tuyên giáo – Nữ công"
    assert first.sender_kinds == ("upper",)
    assert p.contact.name == "Trần Quốc Diễn"
    assert p.contact.phone == "0914.075.879"
    assert p.contact.position == "Trưởng ban Tuyên giáo – Nữ công"
    # The áo dài programme's "03 đợt" and the anniversaries are not rounds or deadlines.
    assert p.rounds == ()
    assert {d.date for d in p.deadlines} == {date(2024, 8, 5), date(2024, 11, 25)}


@needs_seeds
def test_seed_identity_number_place_date_issuer_title() -> None:
    hcm = seed("001_8edeef17f52461e8.txt").identity
    assert (hcm.number, hcm.place, hcm.date) == ("26/KH-LĐLĐ", "Đắk Lắk", date(2024, 2, 22))
    assert hcm.issuer == "Liên đoàn Lao động tỉnh Đắk Lắk"
    assert hcm.parent_issuer == "Tổng Liên đoàn Lao động Việt Nam"
    assert hcm.title
    assert hcm.title.startswith("Kế hoạch tổ chức học tập, quán triệt")
    bd = seed("004_909121b1e75ffbb8.txt").identity
    assert (bd.number, bd.place, bd.date) == ("14/KH-CĐVC", "Bình Định", date(2021, 3, 15))
    assert (bd.issuer, bd.parent_issuer) == ("Công đoàn Viên chức tỉnh Bình Định", "Liên đoàn Lao động tỉnh Bình Định")
    assert bd.title == "Kế hoạch tổ chức Tháng Công nhân năm 2021"
    assert bd.basis == (
        "Kế hoạch số 110/KH-LĐLĐ ngày 02/03/2021 của Liên đoàn Lao động tỉnh về tổ chức Tháng Công nhân năm 2021",
    )


@needs_seeds
def test_seed_003_blank_day_keeps_month_and_year_and_rounds_have_no_deadline() -> None:
    p = seed("003_3f04ff847d295fd6.txt")
    ident = p.identity
    assert ident.date is None
    assert (ident.blank_day_month, ident.blank_day_year, ident.place) == (3, 2024, "Huyện DMC")
    assert ident.number == "25/KH-LĐLĐ"  # written "25/KH - LĐLĐ"
    assert [(r.number, r.start, r.end) for r in p.rounds] == [
        (1, date(2024, 1, 1), date(2024, 7, 31)),
        (2, date(2024, 8, 1), date(2024, 12, 31)),
    ]
    assert p.deadlines == ()
    assert all(period.proposed and period.due_source == "department" for period in p.periods)
    assert "Đợt 1 (từ tháng 01/2024 đến 31/7/2024)" in p.rounds[0].evidence.sentence


@needs_seeds
def test_seed_rhythms_without_dates_are_reported_and_proposed() -> None:
    hcm = seed("001_8edeef17f52461e8.txt")
    assert [d.rhythm for d in hcm.duties] == ["half_and_year"]
    assert hcm.duties[0].rhythm_text == "6 tháng, năm"
    assert [p.key for p in hcm.periods] == ["6-thang", "nam"]
    pt = seed("002_c377689abc922281.txt")
    assert [d.rhythm for d in pt.duties] == ["half_year"]
    assert pt.duties[0].recipient == "LĐLĐ huyện"
    assert pt.duties[0].sender_kinds == ("grassroots",)
    # "kết quả ... Tháng Công nhân năm 2024": the Workers' Month, May.
    assert pt.periods[0].covers.how == "named_period"


@needs_seeds
def test_seed_004_two_duties_plan_first_then_results_with_the_email() -> None:
    p = seed("004_909121b1e75ffbb8.txt")
    assert [(d.kind, d.date, d.wording) for d in p.deadlines] == [
        ("plan", date(2021, 4, 15), "before"),
        ("results", date(2021, 5, 30), "before"),
    ]
    assert p.deadlines[1].channels == ("cdvcbinhdinh@gmail.com",)
    assert p.deadlines[1].recipient == "Công đoàn Viên chức tỉnh"
    assert p.activity_window
    assert p.activity_window.text == "Thời gian thực hiện: Từ tháng 3 đến hết tháng 5 năm 2021"
    assert p.contact.email == "cdvcbinhdinh@gmail.com"
    assert set(p.audience.kinds) == {"public_agency"}


@needs_seeds
@pytest.mark.parametrize("seed_name", sorted(SEED_CAMPAIGNS))
def test_every_proposal_carries_the_sentence_it_came_from(seed_name: str) -> None:
    text = unicodedata.normalize("NFC", (SEEDS / seed_name).read_text(encoding="utf-8"))
    flat = norm(text)
    p = seed(seed_name)
    for item in (*p.duties, *p.rounds, *p.targets, *p.periods):
        assert item.evidence.sentence
        assert norm(item.evidence.sentence) in flat
        assert item.evidence.line >= 1
    for t in p.targets:
        assert norm(t.text) in norm(t.evidence.sentence)
    for d in p.deadlines:
        assert d.wording_text
        assert norm(d.wording_text) in norm(d.evidence.sentence)


# ================================================================ plans written here, with traps
def test_tan_bien_deadlines_on_or_before_with_years_from_the_blank_day_date() -> None:
    p = extract_plan(read_plan_file(TAN_BIEN).text)
    assert p.identity.date is None
    assert (p.identity.blank_day_month, p.identity.blank_day_year) == (3, 2024)
    assert p.identity.place == "Huyện Tân Biên"
    assert [(d.wording, d.wording_text, d.due_at.isoformat()) for d in p.deadlines] == [
        ("on_or_before", "đến hết ngày 27/5/2024", "2024-05-28T00:00:00+07:00"),
        # "10/12" has no year: the plan's own (March 2024) gives 2024.
        ("on_or_before", "chậm nhất ngày 10/12", "2024-12-11T00:00:00+07:00"),
    ]
    quick, final = p.deadlines
    assert quick.covers
    assert (quick.covers.start, quick.covers.end) == (date(2024, 5, 1), date(2024, 5, 25))
    assert quick.recipient == "LĐLĐ huyện (qua Văn phòng)"
    assert quick.channels == ("ldldtanbien@gmail.com",)
    assert final.recipient == "LĐLĐ huyện"
    assert quick.sender_kinds == final.sender_kinds == ("grassroots",)


def test_tan_bien_anniversaries_cited_documents_and_other_tasks_are_not_deadlines() -> None:
    p = extract_plan(read_plan_file(TAN_BIEN).text)
    dates = {d.date for d in p.duties}
    # 28/7/2024 ends an anniversary range and is also the date of a task without a report
    # ("hoàn thành việc gắn biển ... trước ngày 28/7/2024"); 05/02/2024 dates a cited plan, even
    # inside the duty sentence; 01/5/2024 and 07/5/2024 end anniversary ranges.
    assert dates == {date(2024, 5, 27), date(2024, 12, 10)}
    assert p.rounds == ()


def test_tan_bien_targets_of_the_district_itself_and_of_each_grassroots_union() -> None:
    p = extract_plan(read_plan_file(TAN_BIEN).text)
    got = {(t.measure, t.comparator, float(t.threshold), t.unit, t.scope) for t in p.targets}
    assert got == {
        ("total", ">=", 3.0, "count", ("upper",)),  # "Liên đoàn Lao động huyện có ít nhất 03 tin, bài"
        ("share_of_units", ">=", 100.0, "%", ("grassroots",)),  # "Mỗi CĐCS có ít nhất 01 tin, bài"
        ("share_of_units", ">=", 60.0, "%", ("enterprise_private",)),  # "60% trở lên CĐCS khối DN ngoài nhà nước"
        ("share_of_units", ">=", 100.0, "%", ("public_agency",)),  # "100% CĐCS cơ quan hành chính, ĐVSN"
    }
    district = next(t for t in p.targets if t.measure == "total")
    assert district.needs[0].type == "integer"
    assert district.needs[0].unit == "tin, bài"
    each = next(t for t in p.targets if t.scope == ("grassroots",))
    assert each.count_at_least == 1
    assert set(p.audience.kinds) == {"upper", "grassroots"}
    assert (p.contact.name, p.contact.position, p.contact.phone) == (
        "Nguyễn Văn An", "Phó Chủ tịch LĐLĐ huyện", "0276.3861.234")


YEAR_END_PLAN = """LIÊN ĐOÀN LAO ĐỘNG HUYỆN A LƯỚI
Số: 52/KH-LĐLĐ
A Lưới, ngày 20 tháng 12 năm 2024
KẾ HOẠCH
Tổ chức chăm lo Tết Nguyên đán Ất Tỵ năm 2025 cho đoàn viên, người lao động
III. TỔ CHỨC THỰC HIỆN
2. Các Công đoàn cơ sở
- Báo cáo kết quả chăm lo Tết về LĐLĐ huyện chậm nhất ngày 15/01 để tổng hợp.
"""


def test_a_day_month_deadline_before_the_plans_own_date_is_in_the_next_year() -> None:
    p = extract_plan(YEAR_END_PLAN)
    assert [d.due_at.isoformat() for d in p.deadlines] == ["2025-01-16T00:00:00+07:00"]
    assert p.identity.date == date(2024, 12, 20)


DUTY_000 = (
    "Tổng hợp kết quả báo cáo về LĐLĐ tỉnh (qua Ban Tuyên giáo – Nữ công) vào 2 đợt: đợt 1 - trước ngày 5/8/2024 "
    "(kết quả hoạt động từ đầu năm đến 31/7/2024); đợt 2- trước ngày 25/11/2024 (kết quả các hoạt động kỷ niệm).\n"
)


@pytest.mark.parametrize(
    "variant",
    [
        DUTY_000,
        unicodedata.normalize("NFD", DUTY_000),  # accents typed as combining marks
        DUTY_000.replace("đợt", "ĐỢT").replace(" - ", " – "),
        DUTY_000.replace("  ", " ").replace("ngày 5/8", "ngày  05 / 08").replace("2- ", "2 – "),
        "Tong hop ket qua bao cao ve LDLD tinh vao 2 dot: dot 1 - truoc ngay 5/8/2024 (ket qua hoat dong tu dau nam"
        " den 31/7/2024); dot 2 - truoc ngay 25/11/2024.\n",  # typed without accents
    ],
)
def test_typing_variance_gives_the_same_deadlines(variant: str) -> None:
    from bot.plans.text import normalise

    p = extract_plan(normalise(variant))
    assert [(d.round, d.due_at.isoformat()) for d in p.deadlines] == [
        (1, "2024-08-05T00:00:00+07:00"),
        (2, "2024-11-25T00:00:00+07:00"),
    ]
    first = p.deadlines[0]
    assert first.covers
    assert (first.covers.start, first.covers.end) == (date(2024, 1, 1), date(2024, 7, 31))


def test_a_range_ending_den_het_ngay_is_a_period_not_a_deadline() -> None:
    text = (
        "Các CĐCS báo cáo kết quả thi đua (từ 01/8/2024 đến hết ngày 31/12/2024) về LĐLĐ huyện trước ngày "
        "10/01/2025.\n"
    )
    p = extract_plan(text)
    assert [(d.wording, d.date) for d in p.deadlines] == [("before", date(2025, 1, 10))]
    assert p.deadlines[0].covers
    assert p.deadlines[0].covers.end == date(2024, 12, 31)


# ================================================================ .docx and .pdf
def make_docx() -> bytes:
    d = docx.Document()
    header = d.add_table(rows=2, cols=2)
    header.cell(0, 0).text = "LIÊN ĐOÀN LAO ĐỘNG TỈNH THỪA THIÊN HUẾ"
    header.cell(0, 0).add_paragraph("LIÊN ĐOÀN LAO ĐỘNG HUYỆN PHÚ LỘC")
    header.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    header.cell(0, 1).add_paragraph("Độc lập - Tự do - Hạnh phúc")
    header.cell(1, 0).text = "Số: 31/KH-LĐLĐ"
    header.cell(1, 1).text = "Phú Lộc, ngày 05 tháng 4 năm 2024"
    for line in (
        "KẾ HOẠCH",
        "Sơ kết phong trào thi đua yêu nước năm 2024",
        "Căn cứ Kế hoạch số 49/KH-LĐLĐ, ngày 29/02/2024 của Ban Thường vụ LĐLĐ tỉnh về phát động phong trào thi đua"
        " năm 2024 và kỷ niệm 95 năm Ngày thành lập Công đoàn Việt Nam (28/7/1929 - 28/7/2024);",
        "I. CHỈ TIÊU",
        "- 100% CĐCS xây dựng kế hoạch hưởng ứng phong trào thi đua.",
        "II. TỔ CHỨC THỰC HIỆN",
        "Các Công đoàn cơ sở báo cáo theo bảng sau:",
    ):
        d.add_paragraph(line)
    table = d.add_table(rows=3, cols=3)
    rows = [
        ("Đợt", "Nội dung báo cáo", "Thời hạn"),
        ("Đợt 1", "Báo cáo kết quả từ 01/01/2024 đến 30/6/2024 gửi về LĐLĐ huyện", "Trước ngày 05/7/2024"),
        ("Đợt 2", "Báo cáo kết quả từ 01/7/2024 đến 30/11/2024 gửi về LĐLĐ huyện", "Chậm nhất ngày 10/12/2024"),
    ]
    for r, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(r.cells, values, strict=True):
            cell.text = value
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_with_the_deadlines_in_table_rows() -> None:
    plan = plan_text_from_bytes(make_docx(), "ke-hoach.docx")
    assert plan.kind == "docx"
    p = extract_plan(plan.text)
    assert (p.identity.issuer, p.identity.parent_issuer) == ("Liên đoàn Lao động huyện Phú Lộc",
                                                             "Liên đoàn Lao động tỉnh Thừa Thiên Huế")
    assert (p.identity.number, p.identity.place, p.identity.date) == ("31/KH-LĐLĐ", "Phú Lộc", date(2024, 4, 5))
    assert [(d.round, d.wording, d.due_at.isoformat(), d.recipient) for d in p.deadlines] == [
        (1, "before", "2024-07-05T00:00:00+07:00", "LĐLĐ huyện"),
        (2, "on_or_before", "2024-12-11T00:00:00+07:00", "LĐLĐ huyện"),
    ]
    assert [(x.covers.start, x.covers.end) for x in p.periods] == [
        (date(2024, 1, 1), date(2024, 6, 30)),
        (date(2024, 7, 1), date(2024, 11, 30)),
    ]
    assert "Trước ngày 05/7/2024" in p.deadlines[0].evidence.sentence
    assert [(t.measure, float(t.threshold)) for t in p.targets] == [("share_of_units", 100.0)]


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds `lines` (a Type0 font with a ToUnicode map, so any
    Vietnamese letter is extractable; no font program is needed to extract text)."""
    chars = sorted({c for line in lines for c in line})
    blocks = []
    for i in range(0, len(chars), 100):
        chunk = chars[i : i + 100]
        pairs = "\n".join(f"<{ord(c):04X}> <{ord(c):04X}>" for c in chunk)
        blocks.append(f"{len(chunk)} beginbfchar\n{pairs}\nendbfchar")
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    )
    content = "BT /F1 10 Tf 14 TL 40 800 Td\n" + "".join(
        "<" + "".join(f"{ord(c):04X}" for c in line) + "> Tj T*\n" for line in lines
    ) + "ET"
    objects: list[str | None] = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type0 /BaseFont /PlanFont /Encoding /Identity-H /DescendantFonts [6 0 R] "
        "/ToUnicode 7 0 R >>",
        None,
        "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /PlanFont /CIDSystemInfo << /Registry (Adobe) "
        "/Ordering (Identity) /Supplement 0 >> /FontDescriptor 8 0 R /DW 500 >>",
        None,
        "<< /Type /FontDescriptor /FontName /PlanFont /Flags 32 /FontBBox [0 -200 1000 800] /ItalicAngle 0 "
        "/Ascent 800 /Descent -200 /CapHeight 700 /StemV 80 >>",
    ]
    streams = {5: content.encode("latin-1"), 7: cmap.encode("latin-1")}
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        if obj is None:
            data = streams[i]
            out += f"{i} 0 obj\n<< /Length {len(data)} >>\nstream\n".encode() + data + b"\nendstream\nendobj\n"
        else:
            out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


PDF_LINES = [
    "LIÊN ĐOÀN LAO ĐỘNG HUYỆN PHÚ LỘC",
    "Số: 40/KH-LĐLĐ",
    "Phú Lộc, ngày 02 tháng 10 năm 2024",
    "KẾ HOẠCH",
    "Tổ chức Tháng cao điểm phát triển đoàn viên năm 2024",
    "III. TỔ CHỨC THỰC HIỆN",
    "2. Các Công đoàn cơ sở",
    # A sentence wrapped over two lines, as PDF text comes out.
    "- Tổng hợp kết quả kết nạp đoàn viên (từ 01/10/2024 đến 30/11/2024) báo cáo về LĐLĐ huyện",
    "chậm nhất ngày 05/12/2024, gửi qua thư điện tử ldldphuloc@gmail.com.",
]


def test_text_pdf_is_read_and_wrapped_lines_are_joined() -> None:
    plan = plan_text_from_bytes(text_pdf(PDF_LINES), "ke-hoach.pdf")
    assert plan.kind == "pdf"
    p = extract_plan(plan.text)
    assert p.identity.number == "40/KH-LĐLĐ"
    assert p.identity.date == date(2024, 10, 2)
    assert [(d.wording, d.due_at.isoformat()) for d in p.deadlines] == [
        ("on_or_before", "2024-12-06T00:00:00+07:00")]
    d = p.deadlines[0]
    assert d.covers
    assert (d.covers.start, d.covers.end) == (date(2024, 10, 1), date(2024, 11, 30))
    assert d.recipient == "LĐLĐ huyện"
    assert d.channels == ("ldldphuloc@gmail.com",)
    assert d.sender_kinds == ("grassroots",)


# ================================================================ bad files
def scanned_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


BAD_FILES = [
    ("empty.txt", b"", EmptyPlanError),
    ("blank.txt", b" \n\t\n  ", EmptyPlanError),
    ("random.bin", bytes(range(256)) * 8, BinaryPlanError),
    ("nul.txt", "Kế hoạch".encode() + b"\x00\x01\x02" * 50, BinaryPlanError),
    ("tcvn3.txt", "KÕ ho¹ch tæ chøc Th¸ng C«ng nh©n n¨m 2024 b¸o c¸o tr­íc ngµy 5/8".encode("latin-1"), EncodingPlanError),
    ("broken.pdf", b"%PDF-1.4\ngarbage\n", UnreadablePlanError),
    ("scan.pdf", scanned_pdf(), ScannedPdfError),
    ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, OldWordPlanError),
    ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64, ImagePlanError),
]


@pytest.mark.parametrize(("name", "data", "error"), BAD_FILES)
def test_a_bad_file_is_refused_with_a_named_error(name: str, data: bytes, error: type[PlanError]) -> None:
    with pytest.raises(error) as caught:
        plan_text_from_bytes(data, name)
    assert name in str(caught.value)
    assert caught.value.msgid.format(**caught.value.params) == str(caught.value)


def test_a_plan_without_a_reporting_duty_is_refused() -> None:
    p = extract_plan(read_plan_file(NO_DUTY).text)
    # It has dates: a cited plan, an anniversary, an event day, a registration deadline.
    assert p.duties == ()
    assert p.periods == ()  # what draft_campaign refuses on
    with pytest.raises(NoReportingDutyError, match="no reporting duty"):
        draft_campaign(p, name=NO_DUTY.name)


# ================================================================ drafts
@pytest.mark.parametrize(("question", "label"), [
    ("Đơn vị có bao nhiêu hoạt động chăm lo?", "Số hoạt động chăm lo"),
    ("Đơn vị hiện có bao nhiêu đoàn viên?", "Tổng số đoàn viên"),
    ("Bao nhiêu đoàn viên của đơn vị tham gia cuộc thi trực tuyến?", "Số đoàn viên tham gia cuộc thi trực tuyến"),
    ("Trong đó, số CĐCS đã ký thỏa ước?", "Số CĐCS đã ký thỏa ước"),
    ("Số CĐCS trực thuộc?", "Số CĐCS trực thuộc"),
    ("Đơn vị đã xây dựng kế hoạch chưa?", "Đã xây dựng kế hoạch"),
    ("Gửi file báo cáo của đơn vị (nếu có)", "File báo cáo"),
])
def test_a_proposed_question_gets_a_short_report_label(question: str, label: str) -> None:
    assert report_label_of(question) == label


def test_a_long_proposed_question_gets_a_label_within_the_limit() -> None:
    label = report_label_of("Đơn vị có bao nhiêu " + "hoạt động chăm lo đời sống " * 6 + "?")
    assert label.startswith("Số hoạt động chăm lo")
    assert len(label) <= 60
    assert not label.endswith("?")


@needs_seeds
@pytest.mark.parametrize(("seed_name", "campaign_id"), sorted(SEED_CAMPAIGNS.items()))
def test_the_draft_of_every_seed_loads_and_lists_what_to_confirm(seed_name: str, campaign_id: str) -> None:
    p = seed(seed_name)
    draft = draft_campaign(p, campaign_id="draft-" + campaign_id[:30], source=seed_name)
    assert check_draft(draft) == []
    assert draft.to_fill == ()
    proposed = [x for x in p.periods if x.proposed]
    confirm_keys = {i.key for i in draft.to_confirm}
    for i, x in enumerate(p.periods):
        assert (f"periods[{i}].due" in confirm_keys) == x.proposed
    assert draft.toml.count('source = "department"') == len(proposed)
    assert draft.toml.count("PROPOSED due date") == len(proposed)
    # The form: what the targets need, and the free text for good models.
    labels = [f.label for f in draft.fields]
    assert "Mô hình hay, cách làm hiệu quả của đơn vị (nếu có)?" in labels
    # Every proposed question has a short indicator name for the summaries, never the question itself.
    campaign = load_campaign_bytes(draft.toml.encode(), Path(f"{draft.campaign_id}.toml"))
    assert [f.report_label for f in campaign.fields if f.report_label is None] == []
    assert not any(f.indicator("vi").endswith("?") for f in campaign.fields)


@needs_seeds
def test_the_binh_dinh_draft_loads_without_edits_and_asks_for_the_denominators(tmp_path: Path) -> None:
    p = seed("004_909121b1e75ffbb8.txt")
    draft = draft_campaign(p, campaign_id="binhdinh-draft", source="004_909121b1e75ffbb8.txt")
    path = tmp_path / "binhdinh-draft.toml"
    path.write_text(draft.toml, encoding="utf-8")
    campaign = load_campaign_file(path).campaign
    hand = hand_written("binhdinh-cdvc-thang-cong-nhan-2021")
    got = campaign_to_json(campaign)
    assert [x["due_at"] for x in got["periods"]] == [x["due_at"] for x in hand["periods"]]
    assert [x["covers"] for x in got["periods"]] == [x["covers"] for x in hand["periods"]]
    ratio = [t for t in campaign.targets if t.measure == "ratio"]
    assert {(float(t.threshold), t.denominator) for t in ratio} == {(50.0, "tong_so_doan_vien"),
                                                                     (10.0, "tong_so_doan_vien")}
    members = next(f for f in campaign.fields if f.name == "tong_so_doan_vien")
    assert members.label.vi == "Đơn vị hiện có bao nhiêu đoàn viên?"
    # Units send their plan in the first period; the results questions come in the second.
    assert {f.name for f in campaign.fields_for("ke-hoach")} == {"da_xay_dung_ke_hoach", "file_ke_hoach"}
    assert all(t.periods == ("ket-qua",) for t in campaign.targets)


def test_a_draft_with_an_unknown_issuer_says_what_to_fill_in() -> None:
    text = "- Các CĐCS báo cáo kết quả về LĐLĐ huyện trước ngày 15/6/2024.\n"
    p = extract_plan(text)
    draft = draft_campaign(p, campaign_id="thieu-thong-tin")
    assert {i.key for i in draft.to_fill} == {"plan.issuer", "title"}
    problems = check_draft(draft)
    assert any(x.startswith("plan.issuer") for x in problems)
    assert any(x.startswith("title.vi") or x.startswith("plan.title") for x in problems)


# ================================================================ the command line
@pytest.fixture
def cli(config_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(state, "config_path", config_path)
    monkeypatch.setenv("BOT__APP__LANGUAGE", "en")  # these tests read the English wording
    return CliRunner()


@needs_seeds
def test_cli_json_has_identity_deadlines_rounds_targets_with_their_sentences(cli: CliRunner) -> None:
    result = cli.invoke(plans_app, ["import", str(SEEDS / "000_044f61df670c68cc.txt"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"identity", "deadlines", "rounds", "periods", "targets", "audience", "contact", "form", "draft"} <= data.keys()
    assert data["identity"]["title"].startswith("Kế hoạch tổ chức các hoạt động kỷ niệm 95 năm")
    first = data["deadlines"][0]
    assert first["due_at"] == "2024-08-05T00:00:00+07:00"
    assert first["wording"] == "before"
    assert first["wording_text"] == "trước ngày 5/8/2024"
    assert first["covers"] == {"start": "2024-01-01", "end": "2024-07-31", "how": "plan",
                               "text": "từ đầu năm đến 31/7/2024"}
    assert "vào 2 đợt" in first["sentence"]
    target = data["targets"][0]
    assert (target["measure"], target["comparator"], target["threshold"], target["scope"]) == (
        "share_of_units", ">=", 100.0, {"kinds": ["grassroots"]})
    assert target["sentence"].startswith("Mỗi CĐCS tham mưu")
    assert data["draft"]["loads"] is True
    assert data["draft"]["path"] is None

    rounds = cli.invoke(plans_app, ["import", str(SEEDS / "003_3f04ff847d295fd6.txt"), "--json"])
    data = json.loads(rounds.stdout)
    assert [(r["number"], r["start"], r["end"]) for r in data["rounds"]] == [
        (1, "2024-01-01", "2024-07-31"), (2, "2024-08-01", "2024-12-31")]
    assert data["identity"]["date"] is None
    assert data["identity"]["date_blank_day"] == {"month": 3, "year": 2024}
    assert all(p["no_date_in_plan"] and p["due"]["source"] == "department" for p in data["periods"])


@needs_seeds
def test_cli_out_writes_a_draft_that_passes_campaigns_check(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "campaigns" / "binhdinh-thang-cong-nhan.toml"
    result = cli.invoke(plans_app, ["import", str(SEEDS / "004_909121b1e75ffbb8.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.exists()
    loaded = load_campaign_file(out).campaign
    assert loaded.id == "binhdinh-thang-cong-nhan"
    assert "trước ngày 30/5/2021" in result.stdout
    assert "from line 88" in result.stdout
    assert "Draft written to" in result.stdout
    assert "passes campaigns check" in result.stdout

    again = cli.invoke(plans_app, ["import", str(SEEDS / "004_909121b1e75ffbb8.txt"), "--out", str(out)])
    assert again.exit_code == 1
    assert "already exists" in again.stderr


@needs_seeds
def test_cli_draft_without_a_date_carries_the_proposal_and_lists_it(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "chuyen-de-2024.toml"
    result = cli.invoke(plans_app, ["import", str(SEEDS / "001_8edeef17f52461e8.txt"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    campaign = load_campaign_file(out).campaign
    assert [p.due.source for p in campaign.periods] == ["department", "department"]
    assert "To confirm:" in result.stdout
    assert result.stdout.count("the plan gives no date; proposed due before") == 2


@pytest.mark.parametrize(("name", "data", "error"), BAD_FILES)
def test_cli_bad_file_exits_non_zero_and_writes_nothing(
    cli: CliRunner, tmp_path: Path, name: str, data: bytes, error: type[PlanError]
) -> None:
    plan = tmp_path / name
    plan.write_bytes(data)
    out = tmp_path / "out" / "x.toml"
    result = cli.invoke(plans_app, ["import", str(plan), "--out", str(out), "--json"])
    assert result.exit_code == 1
    assert name in result.stderr
    assert result.stdout == ""
    assert not out.exists()
    assert not out.parent.exists()


def test_cli_plan_without_a_reporting_duty_exits_non_zero_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "hoi-thao.toml"
    result = cli.invoke(plans_app, ["import", str(NO_DUTY), "--out", str(out)])
    assert result.exit_code == 1
    assert "no reporting duty" in result.stderr
    assert not out.exists()


def test_cli_refuses_an_out_name_that_is_not_a_campaign_id(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "Kế hoạch.toml"
    result = cli.invoke(plans_app, ["import", str(TAN_BIEN), "--out", str(out)])
    assert result.exit_code == 1
    assert "campaign id" in result.stderr
    assert not out.exists()


def test_cli_tan_bien_text_report(cli: CliRunner) -> None:
    result = cli.invoke(plans_app, ["import", str(TAN_BIEN)])
    assert result.exit_code == 0, result.output
    assert "chậm nhất ngày 10/12: due at 2024-12-11T00:00:00+07:00" in result.stdout
    assert "Nothing written." in result.stdout


# ================================================================ a plan sent in chat
async def test_a_plan_sent_in_chat_is_reviewed_edited_and_published(config, clock, tmp_path: Path) -> None:
    """Department staff send the plan; the bot answers what it found; an edit; publish makes it live."""
    from datetime import timedelta

    from bot.app import prepare
    from bot.conversation import Command, Conversation, PlanFile, Press, Sender
    from bot.dialog.model import TextInput
    from bot.domain import Channel, Role
    from bot.invites import issue_invite
    from storage import campaigns as campaign_store
    from storage import units as unit_store
    from tests.conftest import VN

    prepared = await prepare(config, clock.now())
    db = prepared.db
    try:
        campaigns_dir = tmp_path / "campaigns"
        conv = Conversation(db, clock, VN, config.locales_dir, campaigns_dir=campaigns_dir)
        province = await unit_store.by_code(db, "DL")
        assert province is not None
        invite = await issue_invite(db, unit=province, role=Role.DEPARTMENT, lifetime=timedelta(days=1),
                                    created_by="t", now=clock.now(), bot_username="X")
        staff = Sender(Channel.TELEGRAM, "901", "901", "Ban TG-NC", None, "vi")
        await conv.handle(staff, Command("start", invite.code))
        assert await conv.accepts_plan(staff)
        data = (SEEDS / "004_909121b1e75ffbb8.txt").read_bytes() if (SEEDS / "004_909121b1e75ffbb8.txt").is_file() else (
            PLANS / "tanbien_thang_cong_nhan_2024.txt").read_bytes()
        review = await conv.handle(staff, PlanFile("ke-hoach.txt", data))
        text = "\n".join(r.text for r in review.replies)
        assert "Các đợt của bản nháp" in text
        key = review.replies[-1].choices[0].action
        assert key == "plan:publish"
        period_key = re.search(r"• ([a-z0-9-]+): ", text)
        assert period_key is not None
        edited = await conv.handle(staff, TextInput(f"hạn {period_key.group(1)} 20/5/2021"))
        assert "Đã sửa" in "\n".join(r.text for r in edited.replies)
        bad = await conv.handle(staff, TextInput("đổi cái gì đó"))
        assert "ví dụ" in "\n".join(r.text for r in bad.replies)
        done = await conv.handle(staff, Press(bad.version, "plan:publish"))
        assert "Đã công bố" in "\n".join(r.text for r in done.replies)
        files = list(campaigns_dir.glob("*.toml"))
        assert len(files) == 1
        live = {c.id for c in await campaign_store.live_campaigns(db)}
        assert files[0].stem in live
        # A chair sending a file gets no draft.
        chair = Sender(Channel.TELEGRAM, "902", "902", "Chủ tịch", None, "vi")
        unit = await unit_store.by_code(db, "DL-BMT-001")
        assert unit is not None
        chair_invite = await issue_invite(db, unit=unit, role=Role.CHAIR, lifetime=timedelta(days=1), created_by="t",
                                          now=clock.now(), bot_username="X")
        await conv.handle(chair, Command("start", chair_invite.code))
        assert not await conv.accepts_plan(chair)
        refused = await conv.handle(chair, PlanFile("ke-hoach.txt", data))
        assert "chưa cần tệp" in "\n".join(r.text for r in refused.replies)
    finally:
        await db.close()
