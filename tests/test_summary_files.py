"""The summary as files: the Excel workbook, the Word báo cáo and the chart, read back from a fixed data set
(golden values), with hostile text (a formula, markup, a control character) kept harmless; and all three
written from the demo database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib.util
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from bot.app import prepare
from bot.campaign_model import Campaign
from bot.campaigns import load_campaign_file
from bot.config import Config
from bot.demo import fill_demo
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.summary.chart import write_summary_png
from bot.summary.compute import compute_summary
from bot.summary.docx_report import (
    DEFAULT_TEMPLATE,
    NARRATIVES_IN_REPORT,
    administrative_date,
    report_context,
    write_summary_docx,
)
from bot.summary.model import Narrative, Summary, UnitRow
from bot.summary.service import build_summary
from bot.summary.xlsx import write_summary_xlsx
from bot.summary.xlsx_cells import sheet_name
from tests.conftest import VN

AS_OF = datetime(2024, 8, 12, 9, 30, tzinfo=VN)
HYPERLINK = '=HYPERLINK("http://x","y")'
ODD_NAME = "<Công ty A&B>"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def daklak(repo: Path) -> Campaign:
    return load_campaign_file(repo / "campaigns" / "daklak-95-nam-cdvn-2024.toml").campaign


def unit(uid: int, code: str, name: str, kind: UnitKind, upper: str, status: str, answers: dict | None = None,
         *, reachable: bool = True, contacts: tuple[str, ...] = ("Nguyễn Văn An",)) -> UnitRow:
    uppers = {"DL-A": "Liên đoàn Lao động huyện Ea Súp", "DL-B": "Công đoàn ngành Giáo dục & Đào tạo"}
    day = {"on_time": datetime(2024, 8, 2, 14, 5, tzinfo=VN), "late": datetime(2024, 8, 7, 8, 0, tzinfo=VN)}
    return UnitRow(uid, code, name, kind, upper, uppers[upper], status, day.get(status), 0 if status == "missing" else 1,
                   None if status == "missing" else f"BC-{code}", answers or {}, reachable, contacts)


def base(**extra: object) -> dict:
    answers: dict = {"propaganda_sessions": 0, "contest_resolution_participants": 10, "contest_history_participants": 5,
                     "members_admitted": 0, "members_to_party": 1, "works_plaqued": 0, "ao_dai_given": 2,
                     "gifts_people": 0, "mai_am_houses": 0, "union_meal_held": False, "dialogues": 1,
                     "care_activities": 1}
    answers.update(extra)
    return answers


def fixed_summary(repo: Path, campaign: Campaign | None = None) -> Summary:
    """Two upper levels, six grassroots unions: three on time, two late, one missing."""
    campaign = campaign or daklak(repo)
    period = campaign.period("dot-1")
    units = [
        unit(1, "DL-A-001", "Công đoàn Công ty Cà phê Ea Pốk", UnitKind.ENTERPRISE_STATE, "DL-A", "on_time",
             base(members_admitted=1000, propaganda_sessions=2, propaganda_participants=150, care_activities=3,
                  highlights="Bữa cơm công đoàn cho 300 công nhân.")),
        unit(2, "DL-A-002", ODD_NAME, UnitKind.ENTERPRISE_PRIVATE, "DL-A", "late",
             base(members_admitted=234, works_plaqued=1, works_names=HYPERLINK, care_activities=0,
                  highlights="Đối thoại <định kỳ> & hiệu quả.")),
        unit(3, "DL-A-003", "Công đoàn Trường Tiểu học Ea Lê", UnitKind.PUBLIC_AGENCY, "DL-A", "missing",
             reachable=False, contacts=("Trần Thị Bình", "Lê Văn Châu")),
        unit(4, "DL-B-001", "Công đoàn Trường THPT Buôn Ma Thuột", UnitKind.ENTERPRISE_PRIVATE, "DL-B", "on_time",
             base(gifts_people=5, gifts_money=12_500_000, union_meal_held=True, union_meal_people=300,
                  propaganda_forms=["meeting", "social"], photos=[11, 12])),
        unit(5, "DL-B-002", "Công đoàn Trường THCS Phan Chu Trinh", UnitKind.PUBLIC_AGENCY, "DL-B", "late",
             base(care_activities=0, report_file=[7])),
        unit(6, "DL-B-003", "Công đoàn Trường Mầm non Hoa Sen", UnitKind.PUBLIC_AGENCY, "DL-B", "on_time",
             base(works_plaqued=1, works_names="Sân\x0bbóng", highlights="Mô hình\x0b “Tủ sách” hay.")),
    ]
    return compute_summary(campaign=campaign, period=period, period_id=1, due_at=period.due_at(VN),
                           closes_at=period.closes_at(VN), as_of=AS_OF, scope_name="LĐLĐ tỉnh Đắk Lắk", units=units)


@pytest.fixture
def en(repo: Path) -> Translator:
    return Translator("en", repo / "locales")


@pytest.fixture
def vi(repo: Path) -> Translator:
    return Translator("vi", repo / "locales")


def cells(sheet: Worksheet) -> Iterator:
    for row in sheet.iter_rows():
        yield from row


def row_of(sheet: Worksheet, first: object) -> list:
    """The values of the first row whose first cell is `first`."""
    for row in sheet.iter_rows(values_only=True):
        if row and row[0] == first:
            return list(row)
    raise AssertionError(f"no row starting with {first!r} in {sheet.title}")


# --- Excel -------------------------------------------------------------------------------------------------------


@pytest.fixture
def workbook(repo: Path, tmp_path: Path, en: Translator):
    path = tmp_path / "tong-hop.xlsx"
    write_summary_xlsx(path, fixed_summary(repo), en, VN)
    return load_workbook(path)


def test_the_workbook_has_the_summary_the_period_and_the_missing_units(workbook) -> None:
    assert workbook.sheetnames == ["Summary", "dot-1", "Not reported"]


def test_the_summary_sheet_has_header_completeness_breakdown_totals_and_targets(workbook) -> None:
    s = workbook["Summary"]
    assert s["A1"].value == "95 years of Vietnam Trade Union & 120 years of Đắk Lắk"
    assert row_of(s, "Period")[1] == "Round 1 (1 Jan – 31 Jul 2024)"
    assert row_of(s, "Due")[1] == "before 05/08/2024"
    assert row_of(s, "As of")[1] == "09:30 12/08/2024"
    assert row_of(s, "Units expected to report")[1] == 6
    assert row_of(s, "Reported on time")[1] == 3
    assert row_of(s, "Reported late")[1] == 2
    assert row_of(s, "Not reported")[1] == 1
    assert row_of(s, "Reported (%)")[1] == pytest.approx(83.3)
    # Per upper level: expected, reported, on time, late, not reported, %.
    assert row_of(s, "Liên đoàn Lao động huyện Ea Súp")[1:7] == [3, 2, 1, 1, 1, pytest.approx(66.7)]
    assert row_of(s, "Công đoàn ngành Giáo dục & Đào tạo")[1:7] == [3, 3, 2, 1, 0, 100]
    # Totals: label, counted in, reports counted, sum, average, min, max.
    members = row_of(s, "New members admitted")
    assert members[1:7] == ["members", 5, 1234, pytest.approx(246.8), 0, 1000]
    assert row_of(s, "Value of visits and gifts")[1:4] == ["VND", 1, 12_500_000]
    # Yes/no and choices are counted.
    meal = [r for r in s.iter_rows(values_only=True) if r[0] == "Held a “Trade Union Meal”"]
    assert [r[1:4] for r in meal] == [("Yes", 1, 5), ("No", 4, 5)]
    # The target: 3 of the 6 grassroots unions in scope had a welfare activity: 50% against "≥ 100%".
    target = row_of(s, "Grassroots unions with at least 1 welfare activity")
    assert target[1].startswith("Mỗi CĐCS tham mưu")
    assert target[2] == 50
    assert target[3:8] == ["≥ 100%", "Not met", 3, 6, 5]
    assert next(c for c in cells(s) if c.value == 1234).number_format == "#,##0"
    # Each table of the sheet is an Excel table with its own filter buttons.
    assert set(s.tables) == {"ByUpper", "Totals", "Answers", "Targets"}


def test_the_period_sheet_has_one_typed_row_per_unit(workbook) -> None:
    sheet = workbook["dot-1"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["Unit code", "Unit", "Upper level", "Status", "Submitted at", "Revision", "Receipt number"]
    col = {name: i for i, name in enumerate(header)}
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    assert list(rows) == ["DL-A-001", "DL-A-002", "DL-A-003", "DL-B-001", "DL-B-002", "DL-B-003"]
    first = rows["DL-A-001"]
    assert first[col["Status"]].value == "On time"
    assert first[col["Submitted at"]].value == datetime(2024, 8, 2, 14, 5)
    assert first[col["Submitted at"]].number_format == "dd/mm/yyyy hh:mm"
    assert first[col["Revision"]].value == 1
    assert first[col["Receipt number"]].value == "BC-DL-A-001"
    members = first[col["New members admitted"]]
    assert (members.value, members.data_type, members.number_format) == (1000, "n", "#,##0")
    odd = rows["DL-A-002"]
    assert odd[col["Unit"]].value == ODD_NAME
    assert odd[col["Status"]].value == "Late"
    works = odd[col["Names of the works with a plaque"]]
    assert (works.value, works.data_type) == (HYPERLINK, "s")  # exactly as typed, a string: never a formula
    b1 = rows["DL-B-001"]
    money = b1[col["Value of visits and gifts"]]
    assert (money.value, money.number_format) == (12_500_000, "#,##0")
    assert b1[col["Held a “Trade Union Meal”"]].value == "Yes"
    assert b1[col["Forms of awareness-raising"]].value == (
        "Meetings, talks, Social networks (Facebook, Fanpage, Zalo)")
    assert b1[col["Activity photos"]].value == "2 photos"
    assert rows["DL-B-002"][col["Unit's report file"]].value == "1 file"
    assert rows["DL-B-003"][col["Names of the works with a plaque"]].value == "Sânbóng"  # no control character
    missing = rows["DL-A-003"]
    assert missing[col["Status"]].value == "Not reported"
    assert missing[col["Submitted at"]].value is None
    assert sheet.freeze_panes == "C2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}7"


def test_the_not_reported_sheet_says_whom_to_call(workbook) -> None:
    sheet = workbook["Not reported"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Unit code", "Unit", "Upper level", "People reporting", "Reachable by the bot")
    assert rows[1:] == [("DL-A-003", "Công đoàn Trường Tiểu học Ea Lê", "Liên đoàn Lao động huyện Ea Súp",
                         "Trần Thị Bình, Lê Văn Châu", "No")]


def test_no_cell_of_the_workbook_can_run_as_a_formula(workbook) -> None:
    for sheet in workbook.worksheets:
        for c in cells(sheet):
            assert c.data_type != "f", (sheet.title, c.coordinate, c.value)


FORMULA_LIKE = ["+84 912 345 678", "-2+3", "=1+1", "@SUM(A1)"]


def test_formula_like_text_is_kept_exactly_as_a_string_cell(repo: Path, tmp_path: Path, en: Translator) -> None:
    summary = fixed_summary(repo)
    units = [dataclasses.replace(u, name=value, answers={**u.answers, "works_names": value})
             for u, value in zip(summary.units, FORMULA_LIKE, strict=False)]
    path = tmp_path / "exact.xlsx"
    write_summary_xlsx(path, dataclasses.replace(summary, units=units + summary.units[len(units):]), en, VN)

    sheet = load_workbook(path)["dot-1"]
    header = [c.value for c in sheet[1]]
    works = header.index("Names of the works with a plaque")
    rows = list(sheet.iter_rows(min_row=2, max_row=len(FORMULA_LIKE) + 1))
    for row, value in zip(rows, FORMULA_LIKE, strict=True):
        for cell in (row[1], row[works]):  # the unit's name and a typed answer
            assert (cell.value, cell.data_type) == (value, "s")


def test_decimals_percentages_and_dates_are_typed_cells(repo: Path, tmp_path: Path, en: Translator) -> None:
    data = daklak(repo).model_dump(mode="json")
    data["fields"] += [
        {"name": "share_women", "type": "percent", "label": {"vi": "Tỷ lệ nữ?"}},
        {"name": "hours", "type": "decimal", "label": {"vi": "Số giờ?"}},
        {"name": "held_on", "type": "date", "label": {"vi": "Ngày tổ chức?"}},
        {"name": "level", "type": "select_one", "label": {"vi": "Quy mô?"},
         "choices": [{"value": "small", "label": {"vi": "Nhỏ", "en": "Small"}},
                     {"value": "big", "label": {"vi": "Lớn", "en": "Big"}}]},
    ]
    campaign = Campaign.model_validate(data)
    summary = fixed_summary(repo, campaign)
    first = summary.units[0]
    answers = {**first.answers, "share_women": "12.5", "hours": "2.5", "held_on": "2024-07-28", "level": "big"}
    units = [dataclasses.replace(first, answers=answers), *summary.units[1:]]
    summary = compute_summary(campaign=campaign, period=summary.period, period_id=1, due_at=summary.due_at,
                              closes_at=summary.closes_at, as_of=AS_OF, scope_name="x", units=units)
    path = tmp_path / "typed.xlsx"
    write_summary_xlsx(path, summary, en, VN)
    sheet = load_workbook(path)["dot-1"]
    header = [c.value for c in sheet[1]]
    row = {header[i]: c for i, c in enumerate(sheet[2])}
    assert (row["Tỷ lệ nữ"].value, row["Tỷ lệ nữ"].number_format) == (12.5, '0.0"%"')
    assert (row["Số giờ"].value, row["Số giờ"].number_format) == (2.5, "0.0")
    assert row["Ngày tổ chức"].value == datetime(2024, 7, 28)
    assert row["Ngày tổ chức"].number_format == "dd/mm/yyyy"
    assert row["Quy mô"].value == "Big"


def test_only_true_and_false_read_as_yes_and_no(repo: Path, tmp_path: Path, en: Translator) -> None:
    summary = fixed_summary(repo)
    first = summary.units[0]
    units = [dataclasses.replace(first, answers={**first.answers, "union_meal_held": 1}), *summary.units[1:]]
    path = tmp_path / "one.xlsx"
    write_summary_xlsx(path, dataclasses.replace(summary, units=units), en, VN)
    sheet = load_workbook(path)["dot-1"]
    header = [c.value for c in sheet[1]]
    meal = header.index("Held a “Trade Union Meal”")
    assert [r[meal].value for r in sheet.iter_rows(min_row=2, max_row=5)] == ["1", "No", None, "Yes"]


def test_a_percentage_total_is_its_average_in_every_format(repo: Path, tmp_path: Path, vi: Translator) -> None:
    from bot.summary.text import summary_text

    data = daklak(repo).model_dump(mode="json")
    data["fields"].append({"name": "share_women", "type": "percent", "label": {"vi": "Tỷ lệ nữ?"}})
    campaign = Campaign.model_validate(data)
    summary = fixed_summary(repo, campaign)
    units = [dataclasses.replace(u, answers={**u.answers, "share_women": share})
             for u, share in zip(summary.units, ("12.5", 40.5, None, None, None, None), strict=True)]
    summary = compute_summary(campaign=campaign, period=summary.period, period_id=1, due_at=summary.due_at,
                              closes_at=summary.closes_at, as_of=AS_OF, scope_name="x", units=units)
    assert "• Tỷ lệ nữ: bình quân 26,5% (2 đơn vị)" in summary_text(summary, vi, VN)
    row = next(r for r in report_context(summary, vi, VN)["totals"] if r["label"] == "Tỷ lệ nữ")
    assert (row["unit"], row["value"]) == ("%", "bình quân 26,5%")
    write_summary_xlsx(tmp_path / "pct.xlsx", summary, vi, VN)
    assert row_of(load_workbook(tmp_path / "pct.xlsx")["Tổng hợp"], "Tỷ lệ nữ")[1:3] == ["%", 2]


def test_sheet_names_are_valid_and_unique() -> None:
    assert sheet_name("Tổng hợp", []) == "Tổng hợp"
    assert sheet_name("summary", ["Summary"]) == "summary (2)"
    assert sheet_name("a/b:c*d?[e]", []) == "a b c d e"
    assert len(sheet_name("x" * 40, [])) == 31


def test_a_large_workbook_holds_one_row_per_unit(repo: Path, tmp_path: Path, vi: Translator) -> None:
    """3,000 units x all the questions of the period: every unit gets its row (how long it takes: bench/workbook.py)."""
    summary = fixed_summary(repo)
    template = summary.units[0]
    rows = [UnitRow(i, f"U{i:05d}", f"Công đoàn cơ sở số {i}", template.kind, f"UP{i % 30:02d}", f"LĐLĐ huyện {i % 30}",
                    template.status, template.submitted_at, 1, f"BC-{i}", template.answers, True) for i in range(3000)]
    big = compute_summary(campaign=summary.campaign, period=summary.period, period_id=1, due_at=summary.due_at,
                          closes_at=summary.closes_at, as_of=AS_OF, scope_name="x", units=rows)
    write_summary_xlsx(tmp_path / "big.xlsx", big, vi, VN)
    book = load_workbook(tmp_path / "big.xlsx", read_only=True)
    assert sum(1 for _row in book["dot-1"].iter_rows(values_only=True)) == 3001
    book.close()



def _sheet_contents(sheet: Worksheet) -> dict[str, object]:
    """What a reader of a sheet sees: every cell's value, type and look, and the sheet's settings."""
    cells = [(c.coordinate, c.value, c.data_type, c.number_format, c.font.b, c.font.sz, c.alignment.wrap_text,
              c.alignment.vertical) for c in cells_of(sheet)]
    return {"cells": cells, "filter": sheet.auto_filter.ref, "panes": sheet.freeze_panes,
            "tables": sorted((t.name, t.ref) for t in sheet.tables.values()),
            "widths": {k: d.width for k, d in sheet.column_dimensions.items()},
            "heights": {k: d.height for k, d in sheet.row_dimensions.items() if d.height}}


def cells_of(sheet: Worksheet) -> Iterator:
    for row in sheet.iter_rows():
        yield from (c for c in row if c.value is not None or c.has_style)


def test_the_streamed_workbook_reads_the_same_as_the_one_held_in_memory(repo: Path, tmp_path: Path,
                                                                        vi: Translator) -> None:
    """The sheets of one row per unit are written row by row in XlsxWriter's constant-memory mode: every cell,
    format, filter, table and width is what the whole-sheet-in-memory writer gave (hostile text included)."""
    summary = fixed_summary(repo)
    more = [dataclasses.replace(u, unit_id=100 + i, code=f"{u.code}-{i}") for i, u in enumerate(summary.units * 5)]
    bigger = compute_summary(campaign=summary.campaign, period=summary.period, period_id=1, due_at=summary.due_at,
                             closes_at=summary.closes_at, as_of=AS_OF, scope_name="x", units=more)
    for s in (summary, bigger):
        write_summary_xlsx(tmp_path / "held.xlsx", s, vi, VN, stream_rows=False)
        write_summary_xlsx(tmp_path / "streamed.xlsx", s, vi, VN)
        held, streamed = load_workbook(tmp_path / "held.xlsx"), load_workbook(tmp_path / "streamed.xlsx")
        assert streamed.sheetnames == held.sheetnames
        for name in held.sheetnames:
            assert _sheet_contents(streamed[name]) == _sheet_contents(held[name]), name
        assert len(list(cells_of(streamed[summary.period.key]))) > 9 * len(s.units)


def test_the_rows_of_the_units_go_to_disk_as_they_are_written(repo: Path, tmp_path: Path, en: Translator) -> None:
    """Memory does not grow with the cells of 50,000 units: the period and missing sheets are written in
    constant-memory mode (text stored in the cell, not in the shared table), the summary sheet keeps its tables."""
    path = tmp_path / "tong-hop.xlsx"
    write_summary_xlsx(path, fixed_summary(repo), en, VN)
    with zipfile.ZipFile(path) as z:
        summary_xml, units_xml, missing_xml = (z.read(f"xl/worksheets/sheet{i}.xml").decode() for i in (1, 2, 3))
        assert len([n for n in z.namelist() if n.startswith("xl/tables/")]) >= 3
    assert 't="inlineStr"' in units_xml
    assert 't="inlineStr"' in missing_xml
    assert 't="inlineStr"' not in summary_xml
    assert "<tableParts" in summary_xml


# --- Word --------------------------------------------------------------------------------------------------------


def docx_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    doc = Document(str(path))
    paragraphs = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return paragraphs, tables


@pytest.fixture
def report(repo: Path, tmp_path: Path, vi: Translator) -> tuple[list[str], list[list[list[str]]]]:
    path = tmp_path / "bao-cao.docx"
    write_summary_docx(path, fixed_summary(repo), vi, VN)
    return docx_text(path)


def test_the_report_has_the_administrative_header_and_title(report) -> None:
    paragraphs, tables = report
    header = "\n".join(c for row in tables[0] for c in row)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in header
    assert "Độc lập - Tự do - Hạnh phúc" in header
    assert "TỔNG LĐLĐ VIỆT NAM" in header
    assert "LIÊN ĐOÀN LAO ĐỘNG TỈNH ĐẮK LẮK" in header
    assert "/BC-LĐLĐ" in header
    assert "Đắk Lắk, ngày 12 tháng 8 năm 2024" in header
    assert "BÁO CÁO" in paragraphs
    assert "Kết quả thực hiện Kỷ niệm 95 năm CĐVN và 120 năm tỉnh Đắk Lắk — Đợt 1 (01/01–31/07/2024)" in paragraphs


def test_the_report_has_its_three_sections_in_order(report) -> None:
    paragraphs, _tables = report
    order = [paragraphs.index(h) for h in ("I. KẾT QUẢ THỰC HIỆN", "II. ĐÁNH GIÁ CHUNG", "III. KIẾN NGHỊ, ĐỀ XUẤT")]
    assert order == sorted(order)
    # Section III is left for the department to write.
    assert paragraphs[order[2] + 1] == "(Ban Tuyên giáo – Nữ công bổ sung)"
    text = "\n".join(paragraphs)
    assert "{{" not in text
    assert "{%" not in text


def test_the_report_gives_completeness_and_the_per_upper_table(report) -> None:
    paragraphs, tables = report
    text = "\n".join(paragraphs)
    assert "Tổng số đơn vị phải báo cáo: 6; đã báo cáo: 5 đơn vị, đạt 83,3% (đúng hạn 3, chậm hạn 2)" in text
    uppers = next(t for t in tables if t[0][1] == "Công đoàn cấp trên trực tiếp cơ sở")
    assert uppers[1] == ["1", "Liên đoàn Lao động huyện Ea Súp", "3", "2", "1", "1", "1", "66,7%"]
    assert uppers[2] == ["2", "Công đoàn ngành Giáo dục & Đào tạo", "3", "3", "2", "1", "0", "100%"]
    assert uppers[3][1:] == ["Cộng", "6", "5", "3", "2", "1", "83,3%"]
    # The missing unit is named under its upper level.
    assert any(p.startswith("- Liên đoàn Lao động huyện Ea Súp (1): Công đoàn Trường Tiểu học Ea Lê") for p in paragraphs)


def test_the_totals_table_is_in_vietnamese_number_format(report) -> None:
    _paragraphs, tables = report
    totals = next(t for t in tables if t[0][1] == "Nội dung")
    by_label = {r[1]: r for r in totals[1:]}
    assert by_label["Số đoàn viên mới kết nạp"][2:] == ["đoàn viên", "5", "1.234"]
    assert by_label["Số tiền thăm hỏi, tặng quà"][4] == "12.500.000"
    meal = by_label["Tổ chức “Bữa cơm công đoàn”"]
    assert meal[4] == "1/5 đơn vị trả lời có"
    # A choice question: the question, then one row per answer.
    assert by_label["- Hội nghị, buổi nói chuyện chuyên đề"][4] == "1"
    assert by_label["- Về nguồn, thăm di tích lịch sử"][4] == "0"


def test_names_and_quotes_come_out_literally(report) -> None:
    paragraphs, _tables = report
    text = "\n".join(paragraphs)
    assert ODD_NAME in text
    assert "“Đối thoại <định kỳ> & hiệu quả.”" in text
    assert "“Bữa cơm công đoàn cho 300 công nhân.”" in text
    assert "Mô hình “Tủ sách” hay." in text  # the control character is gone, the document is readable


@pytest.mark.parametrize("count", [NARRATIVES_IN_REPORT, NARRATIVES_IN_REPORT + 1, 5_001])
def test_the_report_quotes_a_bounded_number_of_good_practices_and_says_where_the_rest_are(
        repo: Path, tmp_path: Path, vi: Translator, count: int) -> None:
    many = [Narrative(f"Công đoàn cơ sở số {i}", "LĐLĐ huyện A", f"Cách làm hay số {i}.") for i in range(count)]
    summary = dataclasses.replace(fixed_summary(repo), narratives=many)
    path = tmp_path / "bao-cao.docx"
    write_summary_docx(path, summary, vi, VN)
    paragraphs, _tables = docx_text(path)
    quoted = [p for p in paragraphs if p.startswith("- Công đoàn cơ sở số ")]
    assert len(quoted) == NARRATIVES_IN_REPORT  # the first ones, in the summary's order
    assert quoted[-1].endswith(f"“Cách làm hay số {NARRATIVES_IN_REPORT - 1}.”")
    more = [p for p in paragraphs if "xem đầy đủ trong tệp Excel" in p]
    rest = count - NARRATIVES_IN_REPORT
    assert more == ([f"(Còn {vi.number(rest)} mô hình, cách làm hay khác của các đơn vị: xem đầy đủ trong tệp Excel "
                     "kèm theo.)"] if rest else [])


def test_the_evaluation_lists_each_target_with_its_value(report) -> None:
    paragraphs, _tables = report
    target = next(p for p in paragraphs if p.startswith("- CĐCS có ít nhất 01 hoạt động chăm lo"))
    assert "50%" in target
    assert "≥ 100%" in target
    assert "3/6" in target
    assert "Đến 09:30 12/08/2024, 5/6 đơn vị đã báo cáo (đạt 83,3%)" in "\n".join(paragraphs)


def test_the_signature_block_and_recipients(report) -> None:
    _paragraphs, tables = report
    foot = "\n".join(tables[-1][0])
    assert "Nơi nhận:" in foot
    assert "TM. BAN THƯỜNG VỤ" in foot
    assert "(Ký, ghi rõ họ tên)" in foot
    assert "- Tổng Liên đoàn Lao động Việt Nam (để b/c);" in foot


def test_the_context_is_text_and_dates_follow_the_decree(repo: Path, vi: Translator) -> None:
    ctx = report_context(fixed_summary(repo), vi, VN)
    assert ctx["issuer"] == "LIÊN ĐOÀN LAO ĐỘNG TỈNH ĐẮK LẮK"
    assert ctx["signing_body"] == "BAN THƯỜNG VỤ"
    assert ctx["number_suffix"] == "LĐLĐ"
    assert ctx["place"] == "Đắk Lắk"
    assert administrative_date(dt.date(2024, 2, 5)) == ("05", "02", "2024")
    assert administrative_date(dt.date(2024, 11, 25)) == ("25", "11", "2024")


def test_a_department_template_is_used_when_given(repo: Path, tmp_path: Path, vi: Translator) -> None:
    custom = tmp_path / "mau.docx"
    doc = Document(str(DEFAULT_TEMPLATE))
    doc.add_paragraph("Mẫu riêng của Ban: {{ expected }} đơn vị")
    doc.save(str(custom))
    out = tmp_path / "rieng.docx"
    write_summary_docx(out, fixed_summary(repo), vi, VN, template=custom)
    assert "Mẫu riêng của Ban: 6 đơn vị" in docx_text(out)[0]


# --- chart -------------------------------------------------------------------------------------------------------


def test_the_chart_is_a_png_of_sensible_size(repo: Path, tmp_path: Path, vi: Translator) -> None:
    import matplotlib.image

    path = tmp_path / "bieu-do.png"
    write_summary_png(path, fixed_summary(repo), vi, VN)
    assert path.read_bytes()[:8] == PNG_MAGIC
    height, width, _channels = matplotlib.image.imread(path).shape
    assert 800 <= width <= 1600
    assert 400 <= height <= 1000


def test_the_chart_copes_with_no_targets_and_many_uppers(repo: Path, tmp_path: Path, en: Translator) -> None:
    import matplotlib.image

    s = fixed_summary(repo)
    many = [UnitRow(i, f"U{i}", f"CĐ {i} 🎉", UnitKind.PUBLIC_AGENCY, f"UP{i % 40:02d}", f"LĐLĐ huyện {i % 40}",
                    "on_time" if i % 3 else "missing", AS_OF, 1, None, {}, True) for i in range(400)]
    campaign = s.campaign.model_copy(update={"targets": ()})
    big = compute_summary(campaign=campaign, period=s.period, period_id=1, due_at=s.due_at, closes_at=s.closes_at,
                          as_of=AS_OF, scope_name="🎉 x", units=many)
    path = tmp_path / "many.png"
    write_summary_png(path, big, en, VN)
    height, width, _channels = matplotlib.image.imread(path).shape
    assert width <= 1600
    assert height <= 1000


def test_the_chart_gives_the_time_in_the_zone_it_is_given(repo: Path, tmp_path: Path, vi: Translator,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from matplotlib.figure import Figure

    captions: list[str] = []
    supxlabel = Figure.supxlabel

    def caption(fig: Figure, text: str, **kwargs: object) -> object:
        captions.append(text)
        return supxlabel(fig, text, **kwargs)

    monkeypatch.setattr(Figure, "supxlabel", caption)
    write_summary_png(tmp_path / "utc.png", fixed_summary(repo), vi, ZoneInfo("UTC"))
    assert "02:30 12/08/2024" in captions[0]  # 09:30 in Việt Nam


# --- from the demo database --------------------------------------------------------------------------------------


async def test_all_three_files_from_the_demo_database(config: Config, tmp_path: Path, vi: Translator) -> None:
    now = datetime(2024, 8, 20, 9, 0, tzinfo=VN)
    prepared = await prepare(config, now)
    try:
        await fill_demo(prepared.db, now, config.locales_dir)
        summary = await build_summary(prepared.db, "daklak-95-nam-cdvn-2024", "dot-1", scope_roots=None,
                                      scope_name="LĐLĐ tỉnh Đắk Lắk", now=now)
    finally:
        await prepared.db.close()
    assert summary.expected == 39
    assert summary.late > 0
    assert summary.missing > 0
    out = tmp_path / "out"
    write_summary_xlsx(out / "tong-hop.xlsx", summary, vi, VN)
    write_summary_docx(out / "bao-cao.docx", summary, vi, VN)
    write_summary_png(out / "bieu-do.png", summary, vi, VN)
    book = load_workbook(out / "tong-hop.xlsx")
    assert book["dot-1"].max_row == summary.expected + 1
    assert book.worksheets[2].max_row == summary.missing + 1
    _paragraphs, tables = docx_text(out / "bao-cao.docx")
    uppers = next(t for t in tables if t[0][1] == "Công đoàn cấp trên trực tiếp cơ sở")
    assert len(uppers) == len(summary.uppers) + 2  # header, one row per upper level, total
    assert (out / "bieu-do.png").read_bytes()[:8] == PNG_MAGIC


def test_the_template_generator_lives_outside_the_package_and_writes_the_shipped_template(
        repo: Path, tmp_path: Path) -> None:
    """The one-off generator is a developer tool in tools/, not shipped code; run, it gives the very template the
    package ships (every part but the file's creation time)."""
    assert not list((repo / "bot" / "templates").glob("*.py"))
    spec = importlib.util.spec_from_file_location("make_bao_cao_template", repo / "tools" / "make_bao_cao_template.py")
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.OUT == DEFAULT_TEMPLATE
    out = tmp_path / "bao_cao.docx"
    generator.main([str(out)])
    with zipfile.ZipFile(out) as made, zipfile.ZipFile(DEFAULT_TEMPLATE) as shipped:
        assert sorted(made.namelist()) == sorted(shipped.namelist())
        differing = [n for n in made.namelist() if n != "docProps/core.xml" and made.read(n) != shipped.read(n)]
    assert differing == []
