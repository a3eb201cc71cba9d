"""Reader: who issued the plan, its number, date, place, title and the documents it carries out.

Entry point: `read_identity(doc)`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from bot.plans.extract.dates import DASH, DOCUMENT_KIND, safe_date
from bot.plans.extract.document import Document, Sentence
from bot.plans.extract.folding import clean, fold, vi
from bot.plans.extract.model import Evidence, Identity
from bot.plans.readers import is_capitals

_NUMBER = vi(r"\bsố\s*:\s*(?P<n>\d+[a-z]?\s*/\s*[a-z]+(?:\s*" + DASH + r"\s*[a-z]+)*)")
_PLACE_DATE = vi(
    r"(?P<place>[^\d,:;\t|]{2,40}?(?:\s\d{1,2})?)\s*,\s*ngày\s*(?P<d>\d{1,2})?\s*tháng\s*(?P<m>\d{1,2})\s*năm\s*(?P<y>\d{4})"
)
_COMMA_DAY = re.compile(r",\s*ngay")


def _place_date(folded_line: str) -> re.Match[str] | None:
    """_PLACE_DATE near each ", ngày" only: on a long line a search from every position would be quadratic."""
    for c in _COMMA_DAY.finditer(folded_line):
        if m := _PLACE_DATE.search(folded_line, max(0, c.start() - 60), min(len(folded_line), c.end() + 200)):
            return m
    return None


_NOT_ISSUER = vi(r"cộng\s+hòa|cộng\s+hoà|độc\s+lập|tự\s+do|hạnh\s+phúc|\bsố\s*:|ngày.*tháng.*năm|^[-_*=. ]*$")
_ORG_WORDS = vi(r"công\s+đoàn|liên\s+đoàn|\bban\b|\blđlđ\b|\bcđ")
# The committees that issue a plan in its opening sentence ("Ban Thường vụ LĐLĐ tỉnh ban hành ...").
ISSUING_COMMITTEE = r"ban\s+thường\s+vụ|ban\s+chấp\s+hành"
_PREAMBLE_ISSUER = vi(
    r"(?P<who>" + ISSUING_COMMITTEE + r")\s+(?P<org>(?:liên\s+đoàn|lđlđ|công\s+đoàn|cđ)[^,;.]{2,80}?)\s+"
    r"(?:ban\s+hành|xây\s+dựng|phát\s+động|triển\s+khai)"
)
_TITLE_STOP = vi(r"^(?:thực\s+hiện|căn\s+cứ|nhằm|để|trên\s+cơ\s+sở|[ivx]+\s*\.)")
# Fewer kinds than DOCUMENT_KIND on purpose: a title may carry out a programme or a guide itself
# ("Kế hoạch triển khai thực hiện Chương trình ..."), and there is no "số" to tell a citation.
_TITLE_STOP_INLINE = vi(r"\s(?:thực\s+hiện|căn\s+cứ)\s+(?:kế\s+hoạch|nghị\s+quyết|chỉ\s+thị|công\s+văn|quyết\s+định)")
_PLAN_WORD = re.compile(r"^\s*KẾ\s+HOẠCH\b")
# The kind of document, from the line that names it ("THÔNG BÁO", "GIAO ƯỚC THI ĐUA NĂM 2024").
_KIND_LINE = re.compile(r"^\s*(?P<w>KẾ\s+HOẠCH|THÔNG\s+BÁO|HƯỚNG\s+DẪN|QUYẾT\s+ĐỊNH|CÔNG\s+VĂN|GIAO\s+ƯỚC"
                        r"|CHƯƠNG\s+TRÌNH|CHỈ\s+THỊ|NGHỊ\s+QUYẾT|BÁO\s+CÁO)(?:\s|$)")
_KINDS = {"ke hoach": "ke_hoach", "thong bao": "thong_bao", "huong dan": "huong_dan", "quyet dinh": "quyet_dinh",
          "cong van": "cong_van", "giao uoc": "giao_uoc", "chuong trinh": "chuong_trinh", "chi thi": "chi_thi",
          "nghi quyet": "nghi_quyet", "bao cao": "bao_cao"}
_LETTER = vi(r"^\s*(?:v/v|về\s+việc|kính\s+gửi)\b")  # a công văn: "V/v ...", "Kính gửi: ..."
_BASIS_START = vi(r"^\s*(?:thực\s+hiện|căn\s+cứ)\b")
# "Thực hiện Kế hoạch số 17/KH-TLĐ ...; Nghị quyết số ..., Ban Thường vụ ... ban hành": up to the issuer.
_BASIS_ITEM = vi(DOCUMENT_KIND + r"\s+số\s*[^;]{3,400}?(?=;|\.\s|\.$|$|,\s+(?:" + ISSUING_COMMITTEE + r")\s)")
# Lower-case words inside an organisation's name once the header's capitals are undone.
_NAME_CASE: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\bLiên Đoàn Lao Động\b"), "Liên đoàn Lao động"),
    (re.compile(r"\bCông Đoàn\b"), "Công đoàn"),
    (re.compile(r"\bViên Chức\b"), "Viên chức"),
    (re.compile(r"\b(Tỉnh|Huyện|Thị Xã|Thành Phố|Quận|Ngành|Trường|Tiểu Học|Trung Học Cơ Sở|Trung Học Phổ Thông"
                r"|Trung Học|Mầm Non|Cổ Phần|Các|Số)\b"), lambda m: m.group(1).lower()),
]


def _org_case(upper: str) -> str:
    """'LIÊN ĐOÀN LAO ĐỘNG TỈNH ĐẮK LẮK' -> 'Liên đoàn Lao động tỉnh Đắk Lắk'."""
    words = [w[:1].upper() + w[1:].lower() for w in clean(upper).split(" ")]
    text = " ".join(words)
    for pattern, repl in _NAME_CASE:
        text = pattern.sub(repl, text)
    return text


@dataclass
class _Header:
    """What the lines above "KẾ HOẠCH" say: number, place and date, and the organisations in capitals."""

    evidence: dict[str, Evidence]
    orgs: list[tuple[int, str]] = field(default_factory=list)
    number: str | None = None
    place: str | None = None
    date: date | None = None
    blank_month: int | None = None
    blank_year: int | None = None
    last_line: int = 0  # the last line with text: blank lines of a web copy do not part a name

    def read(self, no: int, line: str) -> None:
        folded_line = fold(line)
        if not line.strip():
            return
        follows_org = bool(self.orgs) and self.orgs[-1][0] == self.last_line
        self.last_line = no
        if self.number is None and (m := _NUMBER.search(folded_line)):
            self.number = re.sub(r"\s+", "", line[m.start("n") : m.end("n")]).replace("–", "-")
            self.evidence["number"] = Evidence(clean(line), no)
        # On the whole line: a blank day is often typed as a run of spaces ("ngày      tháng 3").
        if self.place is None and (m := _place_date(folded_line)):
            self.place = clean(line[m.start("place") : m.end("place")])
            day, month, year = m.group("d"), int(m.group("m")), int(m.group("y"))
            if day:
                self.date = safe_date(year, month, int(day))
            else:
                self.blank_month, self.blank_year = month, year
            self.evidence["date"] = Evidence(clean(line), no)
        for i, piece in enumerate(re.split(r"\t+| {3,}|\s\|\s", line)):
            piece = piece.strip()
            folded = fold(piece)
            # 0.9: a header piece may hold a stray lower-case letter.
            if not piece or not is_capitals(piece, 0.9) or _NOT_ISSUER.search(folded):
                continue
            if _ORG_WORDS.search(folded):
                self.orgs.append((no, piece))
            elif i == 0 and follows_org and not _KIND_LINE.match(piece):
                # "LIÊN ĐOÀN LAO ĐỘNG / THÀNH PHỐ CAO LÃNH": the name goes on on the next line.
                self.orgs[-1] = (no, self.orgs[-1][1] + " " + piece)


# Words kept as written when an ALL-CAPS title is brought to sentence case.
_KEEP_CAPS = re.compile(r"^(?:[IVX]{1,4}|CĐCS|LĐLĐ|CNVCLĐ|CBCCVCLĐ|CBCCVC|NLĐ|THPT|THCS|ATVSLĐ|KCN|TNHH|HĐND|UBND"
                        r"|ĐVCĐ|CĐ|TƯLĐTT|\d\S*)[,.;:]?$")
_PROPER = [(re.compile(r"\b" + w.lower() + r"\b"), w) for w in (
    "Việt Nam", "Hồ Chí Minh", "Công đoàn Việt Nam", "Tổng Liên đoàn Lao động", "Đảng", "Nhà nước", "Tết Nguyên đán",
    "Tháng Công nhân", "Nhà giáo Việt Nam")]


def sentence_case(caps: str) -> str:
    """'HOẠT ĐỘNG CÔNG ĐOÀN NĂM HỌC 2022-2023 CỦA CĐCS' -> 'Hoạt động công đoàn năm học 2022-2023 của CĐCS'."""
    words = [w if _KEEP_CAPS.match(w) else w.lower() for w in caps.split(" ")]
    text = " ".join(words)
    for pattern, proper in _PROPER:
        text = pattern.sub(proper, text)
    return text[:1].upper() + text[1:]


def _title(lines: list[str], plan_line: int, evidence: dict[str, Evidence]) -> tuple[str | None, int]:
    """The lines after "KẾ HOẠCH" (or "HƯỚNG DẪN", "THÔNG BÁO" ...) up to the first sentence of the preamble,
    and the line the preamble starts on."""
    kind_word = _KIND_LINE.match(lines[plan_line])
    word = sentence_case(kind_word.group("w")) if kind_word else "Kế hoạch"
    rest = _KIND_LINE.sub("", lines[plan_line]).strip()
    parts = [rest] if rest else []
    j = plan_line + 1
    while j < len(lines):
        line = lines[j].strip()
        if not line:
            if parts:
                break
        elif _TITLE_STOP.match(fold(line)) and not (not parts and is_capitals(line, 0.9)):
            break  # the preamble ("Thực hiện Kế hoạch số ..."), not a title in capitals ("THỰC HIỆN CÔNG TÁC ...")
        else:
            parts.append(line)
        j += 1
    if not parts:
        return None, j
    joined = clean(" ".join(parts))
    if m := _TITLE_STOP_INLINE.search(fold(joined)):
        joined = joined[: m.start()].strip()
    if is_capitals(joined, 0.9):
        joined = sentence_case(joined)
    evidence["title"] = Evidence(joined, plan_line + 2)
    return (word + " " + joined[:1].lower() + joined[1:] if joined else None), j


def _preamble_issuer(preamble: list[Sentence]) -> tuple[str, Evidence] | None:
    """"Ban Thường vụ LĐLĐ tỉnh ban hành Kế hoạch ...": the issuer named in the preamble."""
    for s in preamble:
        if _BASIS_START.match(s.folded):
            continue  # "Thực hiện Kế hoạch số ... của Ban Thường vụ LĐLĐ tỉnh": the cited document's issuer
        if (m := _PREAMBLE_ISSUER.search(s.folded)) and not re.search(r"\b(?:ve viec|cua)\b", m.group("org")):
            who = "Ban Thường vụ" if m.group("who").startswith("ban thuong") else "Ban Chấp hành"
            return clean(who + " " + s.raw[m.start("org") : m.end("org")]), s.evidence
    return None


def _kind(lines: list[str], header_end: int, has_header: bool) -> tuple[str | None, int | None]:
    """The kind of document and the line that names it: a line in capitals ("THÔNG BÁO"), the first
    line of a text that opens with its kind ("Hướng dẫn tổ chức ..."), a letter (V/v, Kính gửi), or
    a news report (no header at all)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    for i, line in enumerate(lines[:40]):
        m = _KIND_LINE.match(line) or (_KIND_LINE.match(line.upper()) if i == first else None)
        if m:
            return _KINDS[" ".join(fold(m.group("w")).split())], i
    if any(_LETTER.match(fold(line)) for line in lines[:header_end + 10]):
        return "cong_van", None
    return (None if has_header else "bao"), None


def read_identity(doc: Document) -> Identity:
    lines = doc.lines
    plan_line = next((i for i, line in enumerate(lines) if _PLAN_WORD.match(line)), None)
    kind_line = next((i for i, line in enumerate(lines[:40]) if _KIND_LINE.match(line)), None)
    header_end = plan_line if plan_line is not None else kind_line if kind_line is not None else min(len(lines), 15)
    evidence: dict[str, Evidence] = {}

    # Issuer: the capitals above the title, left of the national motto. The last is the issuer,
    # the one above it the body it belongs to ("TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM").
    header = _Header(evidence)
    for i in range(header_end):
        header.read(i + 1, lines[i])
    orgs = header.orgs
    issuer = parent = None
    issuer_from: Literal["header", "preamble"] | None = None
    if orgs:
        issuer, issuer_from = _org_case(orgs[-1][1]), "header"
        evidence["issuer"] = Evidence(clean(orgs[-1][1]), orgs[-1][0])
        if len(orgs) > 1:
            parent = _org_case(orgs[-2][1])

    title_line = plan_line if plan_line is not None else kind_line
    title, basis_from = _title(lines, title_line, evidence) if title_line is not None else (None, 0)

    # The preamble: what comes before section I (or the first lines, in a plan without sections).
    preamble = [s for s in doc.sentences if s.line > basis_from and s.line <= basis_from + 40 and not s.section]
    if issuer is None and (found := _preamble_issuer(preamble)):
        issuer, evidence["issuer"] = found
        issuer_from = "preamble"

    basis: list[str] = []
    for s in preamble:
        if _BASIS_START.match(s.folded):
            basis.extend(clean(s.raw[m.start() : m.end()]).rstrip(",") for m in _BASIS_ITEM.finditer(s.folded))
    kind, _ = _kind(lines, header_end, bool(orgs or header.number or header.place))
    return Identity(
        kind=kind, issuer=issuer, issuer_from=issuer_from, parent_issuer=parent, number=header.number, date=header.date,
        blank_day_month=header.blank_month, blank_day_year=header.blank_year, place=header.place, title=title,
        basis=tuple(dict.fromkeys(basis)), evidence=evidence,
    )
