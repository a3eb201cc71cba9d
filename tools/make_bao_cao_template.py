"""Write bot/templates/bao_cao.docx, the Word template of the summary report (báo cáo), with python-docx.

A one-off developer tool, kept out of the installed package. From the repository root:

    python tools/make_bao_cao_template.py                  # rewrites bot/templates/bao_cao.docx
    python tools/make_bao_cao_template.py /tmp/check.docx  # writes elsewhere, to compare

The result is committed; the department may open it in Word and change the wording, the layout and
the fixed lines (Nơi nhận, signature block) as long as the {{ ... }} and {% ... %} tags stay whole.
bot/summary/docx_report.py fills it with docxtpl (Jinja2 inside Word, values escaped). The layout follows
the administrative style of Nghị định 30/2020/NĐ-CP: Times New Roman, a two-column header (issuing body
and number on the left, the national motto, place and date on the right), the title centred, sections
numbered I, II, III, "Nơi nhận" bottom left and the signature block bottom right.

Context keys (every value is text already formatted the Vietnamese way: 1.234.567, 12,5%, dd/mm/yyyy):

    issuer_parent          the body above the issuer, upper case, usual abbreviations ("TỔNG LĐLĐ VIỆT NAM"), may be
                           empty
    issuer                 the organisation that receives the reports and issues this one, upper case
                           ("LIÊN ĐOÀN LAO ĐỘNG TỈNH ĐẮK LẮK")
    issuer_name            the same in normal case ("Liên đoàn Lao động tỉnh Đắk Lắk")
    parent_issuer_name     issuer_parent in normal case, may be empty
    signing_body           who signs for the issuer, upper case ("BAN THƯỜNG VỤ")
    number_suffix          the letters after "BC-" in the document number ("LĐLĐ")
    department             the department that compiles the reports (campaign contact)
    place, day, month, year   the place-and-date line ("Đắk Lắk", "20", "8", "2024")
    campaign_title, period_name, plan_title, plan_number, plan_date, plan_issuer
    reports_to             the plan's words for where reports go
    scope_name             whose units the summary covers
    as_of, as_of_date      when the figures were taken ("09:00 20/08/2024", "20/08/2024")
    due_date               the period's due date ("trước ngày <due_date>")
    expected, reported, on_time, late, missing, completeness
    waiting, returned, approved, approved_only   (counts by review state; figures from approved reports only)
    uppers                 rows: name, expected, reported, on_time, late, missing, percent, waiting, returned, approved
    uppers_total           the same for all units (name is empty)
    missing_groups         rows: upper, count, names (the units that have not reported, per upper level)
    totals                 rows: no, label, unit, answered, value
    narratives             rows: unit, upper (empty when an upper-level union quotes itself), text: highlights
                           quoted from the units' own words (at most NARRATIVES_IN_REPORT of bot/summary/docx_report.py)
    narratives_more        how many more there are and where to read them (empty when every one is shown)
    (totals rows of a choice question's answers have an empty "no" and a label starting with "- ")
    targets                rows: label, text, value, threshold, verdict, units
    targets_met, targets_total
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

OUT = Path(__file__).resolve().parent.parent / "bot" / "templates" / "bao_cao.docx"
FONT = "Times New Roman"
CENTER, LEFT, JUSTIFY = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.JUSTIFY

# The elements that come after w:pBdr inside w:pPr (Word insists on the schema's order).
AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
              "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
              "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
              "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
              "w:rPr", "w:sectPr", "w:pPrChange")
Run = tuple[str, str]  # (text, style letters: b bold, i italic, u underline)


def _fonts(rpr: OxmlElement) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _fresh_paragraph(container) -> Paragraph:
    """A new paragraph; a new table cell's own empty paragraph is used first."""
    ps = getattr(container, "paragraphs", [])
    if hasattr(container, "vertical_alignment") and len(ps) == 1 and not ps[0].runs and not ps[0].text:
        return ps[0]
    return container.add_paragraph()


def para(container, runs: list[Run] | str, *, align=JUSTIFY, size: float = 14, first_line: float | None = None,
         before: float = 0, after: float = 6, keep_next: bool = False) -> Paragraph:
    p = _fresh_paragraph(container)
    fmt = p.paragraph_format
    fmt.alignment = align
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.keep_with_next = keep_next
    if first_line is not None:
        fmt.first_line_indent = Cm(first_line)
    for text, style in [(runs, "")] if isinstance(runs, str) else runs:
        r = p.add_run(text)
        r.font.size = Pt(size)
        r.font.name = FONT
        _fonts(r._r.get_or_add_rPr())
        r.bold = "b" in style or None
        r.italic = "i" in style or None
        r.underline = "u" in style or None
    return p


def body(container, runs: list[Run] | str, **kw) -> Paragraph:
    """A body paragraph: justified, first line indented, as the decree asks."""
    return para(container, runs, first_line=1.0, **kw)


def tag(container, text: str) -> Paragraph:
    """A paragraph holding only a docxtpl {%p ... %} tag: removed when rendered."""
    return para(container, text, after=0)


def short_rule(p: Paragraph, left_cm: float, right_cm: float) -> None:
    """A short line under a heading (the rule under the issuer and under the national motto)."""
    ppr = p._p.get_or_add_pPr()
    bdr = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
        bottom.set(qn(k), v)
    bdr.append(bottom)
    ppr.insert_element_before(bdr, *AFTER_PBDR)
    p.paragraph_format.left_indent = Cm(left_cm)
    p.paragraph_format.right_indent = Cm(right_cm)


def cell_para(cell, runs: list[Run] | str, *, align=CENTER, size: float = 13, after: float = 0) -> Paragraph:
    return para(cell, runs, align=align, size=size, after=after)


def widths(table: Table, cms: list[float]) -> None:
    """Column widths, both in the grid (LibreOffice reads it) and on every cell (Word reads those)."""
    table.autofit = False
    for column, w in zip(table.columns, cms, strict=True):
        column.width = Cm(w)
    for row in table.rows:
        for cell, w in zip(row.cells, cms, strict=True):
            cell.width = Cm(w)


def _tbl_pr_insert(table: Table, el, *successors: str) -> None:
    table._tbl.tblPr.insert_element_before(el, *successors)


def outdent(table: Table, cm: float, cell_margin_cm: float) -> None:
    """Let a borderless layout table reach into the left margin, with narrow cell margins, so that the
    header lines (names in capitals) fit on as few lines as possible."""
    jc = table._tbl.tblPr.find(qn("w:jc"))
    if jc is not None:
        table._tbl.tblPr.remove(jc)
    ind = OxmlElement("w:tblInd")
    ind.set(qn("w:w"), str(int(cm * 567)))
    ind.set(qn("w:type"), "dxa")
    _tbl_pr_insert(table, ind, "w:tblBorders", "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")
    mar = OxmlElement("w:tblCellMar")
    for side in ("w:left", "w:right"):
        el = OxmlElement(side)
        el.set(qn("w:w"), str(int(cell_margin_cm * 567)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    _tbl_pr_insert(table, mar, "w:tblLook")


def repeat_header(table: Table) -> None:
    trpr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def keep_rows_whole(table: Table) -> None:
    """A row is not split across two pages."""
    for row in table.rows:
        trpr = row._tr.get_or_add_trPr()
        el = OxmlElement("w:cantSplit")
        el.set(qn("w:val"), "true")
        trpr.insert(0, el)


def data_table(doc, header: list[str], loop: str, cells: list[tuple[str, object]], cms: list[float],
               total: list[tuple[str, object]] | None = None) -> Table:
    """A grid table: a header row, one row per item of `loop` ({%tr for %}), and an optional total row."""
    rows = 4 + (1 if total else 0)
    t = doc.add_table(rows=rows, cols=len(header))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for c, text in zip(t.rows[0].cells, header, strict=True):
        cell_para(c, [(text, "b")], size=12)
    cell_para(t.rows[1].cells[0], "{%tr for " + loop + " %}", size=12)
    for c, (text, align) in zip(t.rows[2].cells, cells, strict=True):
        cell_para(c, text, align=align, size=12)
    cell_para(t.rows[3].cells[0], "{%tr endfor %}", size=12)
    if total:
        for c, (text, align) in zip(t.rows[4].cells, total, strict=True):
            cell_para(c, [(text, "b")], align=align, size=12)
    widths(t, cms)
    keep_rows_whole(t)
    repeat_header(t)
    return t


def build() -> Document:
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(2.0)
    section.left_margin, section.right_margin = Cm(3.0), Cm(1.5)

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(14)
    _fonts(normal.element.get_or_add_rPr())
    normal.paragraph_format.line_spacing = 1.1
    for name in ("Table Grid",):
        style = doc.styles[name]
        style.font.name = FONT
        _fonts(style.element.get_or_add_rPr())

    # --- header: issuing body and number | national motto, place and date --------------------------------
    head = doc.add_table(rows=2, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    cell_para(left, "{{ issuer_parent }}", size=12)
    cell_para(left, [("{{ issuer }}", "b")], size=12)
    short_rule(cell_para(left, "", size=4), 2.0, 2.0)
    cell_para(right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "b")], size=12)
    cell_para(right, [("Độc lập - Tự do - Hạnh phúc", "b")], size=13)
    short_rule(cell_para(right, "", size=4), 2.2, 2.2)
    number, place = head.rows[1].cells
    cell_para(number, "Số:        /BC-{{ number_suffix }}", size=13).paragraph_format.space_before = Pt(6)
    p = cell_para(place, [("{{ place }}, ngày {{ day }} tháng {{ month }} năm {{ year }}", "i")], size=14)
    p.paragraph_format.space_before = Pt(6)
    widths(head, [8.5, 9.2])
    outdent(head, -1.0, 0.05)

    # --- title ------------------------------------------------------------------------------------------
    para(doc, [("BÁO CÁO", "b")], align=CENTER, before=18, after=0)
    para(doc, [("Kết quả thực hiện {{ campaign_title }} — {{ period_name }}", "b")], align=CENTER, after=0)
    short_rule(para(doc, "", align=CENTER, size=4, after=12), 6.0, 6.0)

    body(doc, "Thực hiện {{ plan_title }}{% if plan_number %} (số {{ plan_number }}{% if plan_date %}, ngày "
              "{{ plan_date }}{% endif %}){% endif %} của {{ plan_issuer }}; trên cơ sở báo cáo của các đơn vị "
              "gửi qua hệ thống (số liệu tính đến {{ as_of }}, phạm vi: {{ scope_name }}), {{ issuer_name }} "
              "báo cáo kết quả thực hiện {{ period_name }} như sau:")

    # --- I ----------------------------------------------------------------------------------------------
    para(doc, [("I. KẾT QUẢ THỰC HIỆN", "b")], align=LEFT, before=6, keep_next=True)
    body(doc, [("1. Tình hình báo cáo", "b")], keep_next=True)
    body(doc, "Tổng số đơn vị phải báo cáo: {{ expected }}; đã báo cáo: {{ reported }} đơn vị, đạt "
              "{{ completeness }} (đúng hạn {{ on_time }}, chậm hạn {{ late }}); chưa báo cáo: {{ missing }} đơn vị. "
              "Tình hình duyệt: {{ waiting }} báo cáo chờ duyệt, {{ returned }} báo cáo trả lại để chỉnh sửa, "
              "{{ approved }} báo cáo đã duyệt{% if approved_only %} (số liệu tổng hợp dưới đây chỉ tính các báo cáo "
              "đã duyệt){% endif %}. Chi tiết theo công đoàn cấp trên trực tiếp cơ sở:", keep_next=True)
    data_table(
        doc,
        ["TT", "Công đoàn cấp trên trực tiếp cơ sở", "Phải báo cáo", "Đã báo cáo", "Đúng hạn", "Chậm hạn",
         "Chưa báo cáo", "Tỷ lệ đã báo cáo"],
        "u in uppers",
        [("{{ loop.index }}", CENTER), ("{{ u.name }}", LEFT), ("{{ u.expected }}", CENTER),
         ("{{ u.reported }}", CENTER), ("{{ u.on_time }}", CENTER), ("{{ u.late }}", CENTER),
         ("{{ u.missing }}", CENTER), ("{{ u.percent }}", CENTER)],
        [1.1, 5.0, 1.73, 1.73, 1.73, 1.73, 1.73, 1.75],
        total=[("", CENTER), ("Cộng", CENTER), ("{{ uppers_total.expected }}", CENTER),
               ("{{ uppers_total.reported }}", CENTER), ("{{ uppers_total.on_time }}", CENTER),
               ("{{ uppers_total.late }}", CENTER), ("{{ uppers_total.missing }}", CENTER),
               ("{{ uppers_total.percent }}", CENTER)],
    )
    tag(doc, "{%p if missing_groups %}")
    body(doc, "Các đơn vị chưa báo cáo:", before=6, keep_next=True)
    tag(doc, "{%p for g in missing_groups %}")
    body(doc, [("- {{ g.upper }} ({{ g.count }}): ", "i"), ("{{ g.names }}.", "")])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")

    body(doc, [("2. Kết quả các hoạt động", "b")], before=6, keep_next=True)
    body(doc, "Tổng hợp số liệu các đơn vị đã báo cáo:", keep_next=True)
    data_table(
        doc,
        ["TT", "Nội dung", "Đơn vị tính", "Số báo cáo tổng hợp", "Kết quả"],
        "r in totals",
        [("{{ r.no }}", CENTER), ("{{ r.label }}", LEFT), ("{{ r.unit }}", CENTER), ("{{ r.answered }}", CENTER),
         ("{{ r.value }}", CENTER)],
        [1.0, 7.9, 2.3, 2.2, 3.1],
    )
    body(doc, [("(Công đoàn cấp trên đã nộp báo cáo của cấp mình thì số liệu đó được tính thay cho các CĐCS trực "
                "thuộc, không cộng hai lần.)", "i")], size=12, before=3)

    body(doc, [("3. Mô hình hay, cách làm hiệu quả", "b")], before=6, keep_next=True)
    tag(doc, "{%p for n in narratives %}")
    body(doc, [("- {{ n.unit }}{% if n.upper %} ({{ n.upper }}){% endif %}: ", "b"), ("“{{ n.text }}”", "i")])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if narratives_more %}")
    body(doc, [("{{ narratives_more }}", "i")])
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not narratives %}")
    body(doc, [("(Chưa có đơn vị nêu mô hình, cách làm hay.)", "i")])
    tag(doc, "{%p endif %}")

    # --- II ---------------------------------------------------------------------------------------------
    para(doc, [("II. ĐÁNH GIÁ CHUNG", "b")], align=LEFT, before=6, keep_next=True)
    body(doc, "Đến {{ as_of }}, {{ reported }}/{{ expected }} đơn vị đã báo cáo (đạt {{ completeness }}); "
              "{{ late }} đơn vị báo cáo sau thời hạn (trước ngày {{ due_date }}); {{ missing }} đơn vị chưa báo cáo.")
    tag(doc, "{%p if targets %}")
    body(doc, "Về các chỉ tiêu của kế hoạch: đạt {{ targets_met }}/{{ targets_total }} chỉ tiêu, cụ thể:",
         keep_next=True)
    tag(doc, "{%p for g in targets %}")
    body(doc, [("- {{ g.label }}: {{ g.value }} (chỉ tiêu {{ g.threshold }}{% if g.units %}; {{ g.units }}"
                "{% endif %}) — ", ""), ("{{ g.verdict }}", "b"), (".", "")])
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p endif %}")
    tag(doc, "{%p if not targets %}")
    body(doc, "Kế hoạch không đặt chỉ tiêu định lượng cho đợt báo cáo này.")
    tag(doc, "{%p endif %}")
    body(doc, [("(Bổ sung nhận xét: ưu điểm, hạn chế, nguyên nhân)", "i")])

    # --- III --------------------------------------------------------------------------------------------
    para(doc, [("III. KIẾN NGHỊ, ĐỀ XUẤT", "b")], align=LEFT, before=6, keep_next=True)
    body(doc, [("(Ban Tuyên giáo – Nữ công bổ sung)", "i")])
    body(doc, "Trên đây là báo cáo kết quả thực hiện {{ campaign_title }} — {{ period_name }} "
              "của {{ issuer_name }}./.")

    # --- Nơi nhận | signature ---------------------------------------------------------------------------
    foot = doc.add_table(rows=1, cols=2)
    foot.alignment = WD_TABLE_ALIGNMENT.CENTER
    recipients, signature = foot.rows[0].cells
    cell_para(recipients, [("Nơi nhận:", "bi")], align=LEFT, size=12).paragraph_format.space_before = Pt(12)
    for line in ("{%p if parent_issuer_name %}", "- {{ parent_issuer_name }} (để b/c);", "{%p endif %}",
                 "- Thường trực {{ issuer_name }} (để b/c);",
                 "- Các công đoàn cấp trên trực tiếp cơ sở;",
                 "- Lưu: VT."):
        cell_para(recipients, line, align=LEFT, size=11)
    cell_para(signature, [("TM. {{ signing_body }}", "b")], size=14).paragraph_format.space_before = Pt(12)
    cell_para(signature, [("(Ký, ghi rõ họ tên)", "i")], size=13)
    for _ in range(4):
        cell_para(signature, "", size=14)
    widths(foot, [8.0, 8.5])
    outdent(foot, -0.2, 0.05)
    return doc


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else OUT
    build().save(out)
    print(f"written {out}")  # a developer tool: not translated


if __name__ == "__main__":
    main(sys.argv[1:])
