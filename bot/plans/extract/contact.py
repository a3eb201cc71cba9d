"""Readers: the person or department to contact, the e-mail and web addresses, the plan's activities.

Entry points: `read_contact(doc, duties, channels)`, `read_channels(doc)`, `read_activities(doc)`."""

from __future__ import annotations

import re
from typing import Literal

from bot.plans.extract.document import NUMBERED, ROMAN, Document
from bot.plans.extract.duties import channels_in
from bot.plans.extract.folding import clean, fold, vi
from bot.plans.extract.model import Channel, ContactProposal, Duty
from bot.plans.extract.targets import cut

_CONTACT = vi(r"\bliên\s+hệ\s*:?\s*(?:với\s+)?")
_PERSON = vi(r"^(?:đ/c|đồng\s+chí|ông|bà|chị|anh)\s+")
_DEPARTMENT = vi(r"^(?:ban|văn\s+phòng|phòng)\b[^,;.()]*?(?=\s+(?:để|theo|qua|số|sđt|đt)\b|[,;.()]|$)")
_PHONE = vi(r"\b(?:sđt|đt|điện\s+thoại|số\s+điện\s+thoại|dđ|di\s+động)\s*[:.]?\s*(?P<phone>\+?\d[\d .]{7,14}\d)")


def _person(after_title: str) -> tuple[str | None, str | None]:
    """"Nguyễn Văn A, Phó Trưởng ban ..., SĐT ...": the name (capitalised words) and the position after it."""
    words = []
    for w in after_title.split():
        word = w.rstrip(",;.")
        if not word[:1].isupper():
            break
        words.append(word)
        if word != w:
            break
    position = None
    after = after_title.split(",", 1)
    if len(after) > 1:
        pos = after[1].split(",")[0]
        if not _PHONE.search(fold(pos)):
            position = clean(pos).rstrip(")") or None
    return " ".join(words) or None, position


def _department(duties: list[Duty], position: str | None) -> str | None:
    """Where the plan names no department to contact: the one reports go through, else the person's own."""
    via = next((d.via for d in duties if d.via), None)
    if via:
        return via
    if position and (dept := re.search(r"(?i)\bban\b.*", position)):
        return "Ban" + dept.group()[3:]
    return None


def read_contact(doc: Document, duties: list[Duty], channels: list[Channel]) -> ContactProposal:
    """The first "liên hệ ..." sentence: a person (with position) or a department, and a phone number."""
    name = position = phone = department = None
    evidence = None
    for s in doc.sentences:
        m = _CONTACT.search(s.folded)
        if not m:
            continue
        rest_f, rest_r = s.folded[m.end() :], s.raw[m.end() :]
        if p := _PERSON.match(rest_f):
            name, position = _person(rest_r[p.end() :])
        elif d := _DEPARTMENT.match(rest_f):
            department = clean(rest_r[: d.end()])
        if ph := _PHONE.search(s.folded):
            phone = clean(s.raw[ph.start("phone") : ph.end("phone")])
        evidence = s.evidence
        break
    if department is None:
        department = _department(duties, position)
    email = next((c for d in duties for c in d.channels if "@" in c), None) or next(
        (c.value for c in channels if c.kind == "email"), None)
    return ContactProposal(department=department, name=name, position=position, phone=phone, email=email,
                           evidence=evidence)


def read_channels(doc: Document) -> list[Channel]:
    found: dict[str, Channel] = {}
    for s in doc.sentences:
        for value in channels_in(s.raw):
            kind: Literal["email", "website"] = "email" if "@" in value else "website"
            found.setdefault(value, Channel(kind, value, s.evidence))
    return list(found.values())


_CONTENT_SECTION = vi(r"nội\s+dung|hoạt\s+động|chủ\s+đề")
_NOT_CONTENT = vi(r"chỉ\s+tiêu|mục\s+đích|yêu\s+cầu|tổ\s+chức\s+thực\s+hiện|thời\s+gian|kinh\s+phí")
_NOT_ACTIVITY = vi(r"chỉ\s+tiêu|^nội\s+dung|^hình\s+thức|^thời\s+gian|^đối\s+tượng|^đối\s+với|^chủ\s+đề")


def read_activities(doc: Document) -> list[str]:
    """The numbered items of the plan's content sections ("II. NỘI DUNG HOẠT ĐỘNG"), shortened."""
    items: list[str] = []
    section = ""
    for line in doc.lines:
        if r := ROMAN.match(line):
            section = fold(r.group("title"))
            continue
        if not _CONTENT_SECTION.search(section) or _NOT_CONTENT.search(section):
            continue
        n = NUMBERED.match(fold(line))
        if not n:
            continue
        title = line[n.start("title") :]
        short = re.split(r"[:;]|\.\s", title, maxsplit=1)[0]
        short = cut(short)
        if len(short) > 160:
            short = short[:157].rsplit(" ", 1)[0] + "…"
        if len(short) >= 8 and not _NOT_ACTIVITY.search(fold(short)):
            items.append(short)
    return list(dict.fromkeys(items))[:15]
