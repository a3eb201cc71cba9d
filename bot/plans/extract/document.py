"""The plan cut into sentences, each with the headings above it, and the context every reader shares."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.plans.extract.dates import ANNIVERSARY, CITED_DOCUMENT, Years, date_parts
from bot.plans.extract.folding import clean, fold, vi
from bot.plans.extract.model import Evidence


@dataclass(frozen=True, slots=True)
class Sentence:
    raw: str  # the original text
    folded: str  # folded, non-deadline dates blanked; same length as raw
    line: int
    headings: tuple[str, ...]  # headings above it in its section, nearest last
    section: str  # folded roman-numeral section title
    in_targets: bool  # under a heading "chỉ tiêu"

    @property
    def evidence(self) -> Evidence:
        return Evidence(clean(self.raw), self.line)


# A numbered heading: "III. TỔ CHỨC THỰC HIỆN", "2. Công đoàn cấp trên trực tiếp cơ sở", "a. Ban ...".
NUMBERED = re.compile(r"^\s*(?P<mark>\d{1,2}(?:\.\d{1,2}){0,3}|[a-z])\s*[.)]\s*(?P<title>\S.*)$")
ROMAN = re.compile(r"^\s*(?P<mark>[IVX]{1,4})\s*[.)]\s*(?P<title>\S.*)$")
_SENTENCE_END = re.compile(r"[.!?…]+\s+")
_LIST_MARK = re.compile(r"\s*(?:[-+•*]\s*)?(?:[IVX]{1,4}|\d{1,2}(?:\.\d{1,2}){0,3}|[a-zđ])?\s*")
_TARGETS_HEADING = vi(r"chỉ\s+tiêu")
# "Chỉ tiêu:", "... cùng giao ước thực hiện các chỉ tiêu sau:": what follows on the line, or the list
# below it, states targets even without a numbered "chỉ tiêu" heading.
_TARGETS_LEAD = vi(r"^[^:]{0,160}\bchỉ\s+tiêu\b[^:]{0,40}:\s*(?P<rest>.*)$")
_LIST_ITEM = re.compile(r"^\s*(?:[-+•*–]|\d{1,2}(?:\.\d{1,2}){0,3}\s*[.)]|[a-zđ]\s*\))\s*\S")
# The longest sentence of the seed plans has about 900 characters; a longer one is cut (see Document._add).
MAX_SENTENCE = 2000
MAX_HEADINGS = 16  # headings kept above a sentence within its section; the seed plans have at most 7


def _mask(folded: str) -> str:
    """Blank the dates that are never deadlines: anniversary ranges and cited documents."""
    chars = list(folded)
    for m in ANNIVERSARY.finditer(folded):
        a, b = date_parts(m.group("a")), date_parts(m.group("b"))
        if a and b and a.year != b.year:
            chars[m.start() : m.end()] = "#" * (m.end() - m.start())
    for m in CITED_DOCUMENT.finditer(folded):
        chars[m.start("date") : m.end("date")] = "#" * (m.end("date") - m.start("date"))
    return "".join(chars)


def _heading_title(raw_title: str) -> str | None:
    """A numbered line is a heading when it is short, or when what precedes its ":" is."""
    title = raw_title.strip()
    if len(title) <= 120:
        return title
    head = title.split(":", 1)[0]
    return head if len(head) <= 80 and ":" in title else None


class Document:
    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = _mask(fold(text))
        self.lines = text.split("\n")
        self.sentences: list[Sentence] = []
        self.headings: list[tuple[int, str]] = []  # (line, original title)
        offset = 0
        section = ""
        headings: list[str] = []
        in_targets = False
        target_list = False  # in the list that follows a "... chỉ tiêu sau:" line
        for no, line in enumerate(self.lines, start=1):
            folded_line = self.folded[offset : offset + len(line)]
            lead = _TARGETS_LEAD.match(folded_line) if not ROMAN.match(line) else None
            if lead:
                target_list = not lead.group("rest").strip()
            elif not _LIST_ITEM.match(line):
                target_list = False
            line_targets = bool(lead) or (target_list and bool(_LIST_ITEM.match(line)))
            roman = ROMAN.match(line)
            numbered = NUMBERED.match(folded_line) if not roman else None
            if roman:
                section = fold(roman.group("title"))
                headings = []
                in_targets = bool(_TARGETS_HEADING.search(section))
                self.headings.append((no, roman.group("title").strip()))
            elif numbered:
                title = _heading_title(line[numbered.start("title") :])
                if title is not None:
                    # The nearest few are what a sentence looks up; keeping all would copy O(n²) on a plan
                    # of thousands of numbered lines.
                    headings = [*headings[1 - MAX_HEADINGS :], clean(title)]
                    in_targets = bool(_TARGETS_HEADING.search(fold(title)))
                    self.headings.append((no, title))
            start = 0
            for m in _SENTENCE_END.finditer(line):
                nxt = line[m.end() : m.end() + 1]
                # pos/endpos, not a slice: the piece since `start` can grow long on a line of lower-case sentences.
                if _LIST_MARK.fullmatch(line, start, m.start()):
                    continue  # "I. MỤC ĐÍCH", "2.1. Thi đua": a marker, not a sentence
                if (nxt and (nxt.isupper() or nxt in "“\"(")) or m.end() - start >= MAX_SENTENCE:
                    self._add(line[start : m.end()], folded_line[start : m.end()], no, headings, section,
                              in_targets or line_targets)
                    start = m.end()
            self._add(line[start:], folded_line[start:], no, headings, section, in_targets or line_targets)
            offset += len(line) + 1

    def _add(self, raw: str, folded: str, no: int, headings: list[str], section: str, in_targets: bool) -> None:
        # Every sentence is searched several times per deadline it holds: a bound on its length keeps the
        # whole extraction linear in the size of the plan. A longer "sentence" is cut at a space.
        while len(raw) > MAX_SENTENCE:
            cut = raw.rfind(" ", MAX_SENTENCE // 2, MAX_SENTENCE) + 1 or MAX_SENTENCE
            self._add(raw[:cut], folded[:cut], no, headings, section, in_targets)
            raw, folded = raw[cut:], folded[cut:]
        if raw.strip():
            self.sentences.append(Sentence(raw, folded, no, tuple(headings), section, in_targets))


@dataclass(frozen=True, slots=True)
class Context:
    grassroots_kind: str  # "public_agency" in a plan of Công đoàn Viên chức (its CĐCS are all HCSN)
    years: Years
