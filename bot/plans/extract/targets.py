"""Reader: targets (chỉ tiêu), a threshold ("N%", "ít nhất NN <việc>") and the questions that measure it.

Entry point: `read_targets(doc, ctx)`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

from bot.plans.extract.document import Context, Document, Sentence
from bot.plans.extract.folding import clean, fold, slug, vi
from bot.plans.extract.kinds import GRASSROOTS, UPPER, kinds_in
from bot.plans.extract.model import Need, TargetProposal

_PERCENT = re.compile(r"(?<![\d.,])(?P<n>\d{1,3}(?:[.,]\d{1,2})?)\s*%")
_AT_LEAST_BEFORE = vi(r"(?:ít\s+nhất|tối\s+thiểu|không\s+dưới)\s*$")
_AT_MOST_BEFORE = vi(r"(?:tối\s+đa|không\s+quá|không\s+vượt\s+quá)\s*$")
_AND_ABOVE_AFTER = vi(r"^\s*trở\s+lên")
_AND_BELOW_AFTER = vi(r"^\s*trở\s+xuống")
_OF_WHICH = vi(r"\btrong\s+(?:đó|số\s+đó)\s*,?\s*$")
_ARTICLE = vi(r"\s*(?:số\s+)?(?:các\s+)?")
_UNIT_WORD = vi(r"đơn\s+vị")
# People as unions write them: "nữ CBCC", "CBCCVCLĐ", "cán bộ, công chức, viên chức, lao động", "công nhân".
PEOPLE_WORDS = (
    r"(?:nữ\s+)?(?:đoàn\s+viên|người\s+lao\s+động|nlđ|cnvclđ|cbccvclđ|cbccvc|cbcc|ccvclđ"
    r"|cán\s+bộ\s*,\s*công\s+chức(?:\s*,\s*viên\s+chức)?(?:\s*(?:,|và)\s*(?:người\s+)?lao\s+động)?"
    r"|công\s+nhân(?:\s+viên\s+chức)?(?:\s+lao\s+động)?|cán\s+bộ\s+công\s+đoàn|giáo\s+viên|nhà\s+giáo)"
)
_PEOPLE = vi(r"^\s*(?:số\s+)?(?P<who>" + PEOPLE_WORDS + r")\b")
# "Tỷ lệ đoàn viên khối Nhà nước đạt 98%": the measure is named before the number.
_RATE_BEFORE = vi(r"\btỷ\s+lệ\s+(?P<what>[^;%]{2,200}?)\s*(?:đạt|là|phấn\s+đấu)?\s*"
                  r"(?:từ|trên|ít\s+nhất|tối\s+thiểu|không\s+dưới)?\s*$")
_STRIVE = vi(r"\b(?:phấn\s+đấu|giao\s+ước|chỉ\s+tiêu)\b")
_OF_UNIT = vi(r"^\s*(?:của|ở|tại|trong)\s+(?:mỗi\s+|các\s+|từng\s+)?(?=cđcs\b|công\s+đoàn\s+cơ\s+sở|đơn\s+vị)")
_ITEMS = vi(r"^\s*(?:số\s+)?(?:các\s+)?(?P<noun>bản|văn\s+bản|hồ\s+sơ|vụ\s+việc|trường\s+hợp|hợp\s+đồng)\b")
_PASSIVE = vi(r"\s(?:đã\s+)?được\s")
_COUNT_NOUN = (
    r"(?:tin\s*,?\s*bài|hoạt\s+động|việc\s+làm|sáng\s+kiến|công\s+trình|mô\s+hình|sản\s+phẩm|phần\s+việc"
    r"|buổi|cuộc|lớp|bài|tin|đoàn\s+viên|người|lượt)"
)
_COUNT = vi(
    r"(?:(?:\bcó\s+)?(?:ít\s+nhất|tối\s+thiểu)\s+|\bcó\s+)(?P<n>\d{1,3})(?![\d.,]?\d)(?!\s*%)\s+(?P<noun>"
    + _COUNT_NOUN + ")"
)
# "Mỗi công đoàn bộ phận cử ít nhất 01 đội", "tối thiểu 02 tiết mục": a floor on a count of anything, when the
# thing is none of the nouns above; a length of time ("ít nhất 30 ngày") is no count of things.
_COUNT_ANY = vi(
    r"(?:ít\s+nhất|tối\s+thiểu)\s+(?P<n>\d{1,3})(?![\d.,]?\d)(?!\s*%)\s+"
    r"(?!(?:ngày|tháng|năm|tuần|giờ|phút|tiếng|lần\s+trong)\b)(?P<noun>[a-z]{2,})\b"
)
_AND_COUNT = vi(r"\s+và\s+(?:ít\s+nhất\s+)?(?P<n>\d{1,3})\s+(?P<noun>" + _COUNT_NOUN + ")")
# "Kết nạp mới 35.000 đoàn viên", "thành lập mới ít nhất 05 CĐCS", "có 12 triệu đoàn viên", "có một công trình":
# a count to reach, large or in words.
_NUMBER_WORDS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10}
_GROWTH = vi(
    r"(?P<verb>\bcó|\bkết\s+nạp(?:\s+mới)?|\bphát\s+triển(?:\s+mới)?|\bthành\s+lập(?:\s+mới)?|\bxây\s+dựng(?:\s+mới)?)"
    r"\s+(?:(?:được\s+)?(?:ít\s+nhất|tối\s+thiểu|thêm)\s+)?"
    r"(?P<n>\d{1,3}(?:\.\d{3})+|\d{1,4}(?:[.,]\d)?|một|hai|ba|bốn|năm|sáu|bảy|tám|chín|mười)(?![\d%])"
    r"\s*(?P<mult>triệu|nghìn|ngàn)?\s+(?P<noun>" + _COUNT_NOUN[:-1] + r"|cđcs|công\s+đoàn\s+cơ\s+sở|tổ\s+công\s+đoàn"
    r"|công\s+nhân|lao\s+động|thành\s+viên|hội\s+viên|nghiệp\s+đoàn))\b"
)
# "mỗi", not "mới" ("kết nạp mới"): both fold to "moi", so the raw words decide.
_EACH = re.compile(r"\b(?:mỗi|từng)\b", re.IGNORECASE)
_PHRASE_STOP = re.compile(r"[,;]|\s(?:va|moi\s+nam)\s")
# "hoàn thành và vượt chỉ tiêu được giao về ...": 100% of a target the upper level assigns.
_ASSIGNED = vi(r"\b(?:hoàn\s+thành\s+(?:và\s+)?)?vượt\s+(?:mức\s+)?(?:các\s+)?chỉ\s+tiêu\s+"
               r"(?:được\s+|đã\s+)?(?:giao|đề\s+ra)"
               r"|\bhoàn\s+thành\s+(?:100%\s+)?(?:các\s+)?chỉ\s+tiêu\s+(?:được\s+|cấp\s+trên\s+)?giao")
# Collective agreements (TƯLĐTT) are signed in enterprises.
_AGREEMENTS = vi(r"thỏa\s+ước|tưlđtt")
_LEADING = re.compile(r"^[\s\-+•*–]+")


def _units_at(folded: str, pos: int) -> int:
    """Where the units named at `pos` end ("các CĐCS khối doanh nghiệp| tổ chức ..."); 0: none there."""
    article = _ARTICLE.match(folded, pos)  # it may match nothing, so it always matches
    at = article.end() if article else pos
    m = GRASSROOTS.match(folded, at) or UPPER.match(folded, at)
    return m.end() if m else 0


def cut(text: str) -> str:
    return _LEADING.sub("", clean(text)).rstrip(" .;,:…/")


@dataclass
class _TargetBuilder:
    ctx: Context
    targets: list[TargetProposal] = field(default_factory=list)
    seen: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, t: TargetProposal, predicate: str) -> TargetProposal | None:
        key = (t.measure, t.threshold, t.comparator, t.scope, fold(predicate)[:60])
        if key in self.seen:
            return None
        self.seen.add(key)
        keys = {x.key for x in self.targets}
        base = t.key
        n = 2
        while t.key in keys:
            t = replace(t, key=f"{base[:36]}-{n}")
            n += 1
        self.targets.append(t)
        return t


def _comparator(before: str, after: str) -> tuple[str, int]:
    """The comparator a threshold is worded with, and how many characters of `after` it used."""
    if m := _AND_ABOVE_AFTER.match(after):
        return ">=", m.end()
    if m := _AND_BELOW_AFTER.match(after):
        return "<=", m.end()
    if _AT_MOST_BEFORE.search(before):
        return "<=", 0
    if _AT_LEAST_BEFORE.search(before):
        return ">=", 0
    return ">=", 0  # a bare "100%" in a list of chỉ tiêu is a floor too


def _key(text: str, threshold: Decimal) -> str:
    base = slug(text, 30, "-") or "chi-tieu"
    return f"{base}-{threshold.normalize():f}".replace(".", "-")[:40].strip("-")


def _count_need(raw_phrase: str, noun: str, role: Literal["count", "total"] = "count") -> Need:
    phrase = cut(raw_phrase)
    return Need(role, "integer", f"Đơn vị có bao nhiêu {phrase}?", phrase, clean(noun))


def _percent_targets(b: _TargetBuilder, s: Sentence, start: int, end: int, m: re.Match[str],
                     previous: TargetProposal | None) -> TargetProposal | None:
    ctx = b.ctx
    folded, raw = s.folded, s.raw
    threshold = Decimal(m.group("n").replace(",", "."))
    before, after = folded[start : m.start()], folded[m.end() : end]
    comparator, used = _comparator(before, after)
    rest_at = m.end() + used
    rest_f, rest_r = folded[rest_at:end], raw[rest_at:end]
    clause = cut(raw[start:end])
    before_kinds = kinds_in(before, ctx)

    def make(measure: Literal["share_of_units", "ratio"], scope: tuple[str, ...] | None, needs: tuple[Need, ...],
             predicate: str, **extra: Any) -> TargetProposal | None:
        t = TargetProposal(key=_key(predicate, threshold), text=clause, evidence=s.evidence, measure=measure,
                           comparator=comparator, threshold=threshold, unit="%", scope=scope or None,
                           needs=needs, **extra)
        return b.add(t, predicate)

    # "trong đó 45% trở lên được xếp loại B": a share of what the previous target counted.
    if _OF_WHICH.search(before) and previous is not None and previous.measure == "ratio":
        num = next(n for n in previous.needs if n.role == "numerator")
        phrase = cut(rest_r)
        noun = num.unit or "trường hợp"
        need = Need("numerator", "integer", f"Trong số đó, số {noun} {phrase}?", f"{noun} {phrase}", noun)
        return make("ratio", previous.scope, (need, replace(num, role="denominator")), phrase, parent=previous.key)

    # "100% CĐCS ...", "30% trở lên Công đoàn cơ sở cơ quan hành chính, đơn vị sự nghiệp ...": units.
    if np_end := _units_at(rest_f, 0):
        return _share(make, rest_r[np_end:], kinds_in(rest_f[:np_end], ctx))

    # "ít nhất 50% đoàn viên của CĐCS tham gia ...": people, a ratio of two counts.
    if p := _PEOPLE.match(rest_f):
        who = clean(rest_r[p.start("who") : p.end("who")])
        tail_f, tail_r = rest_f[p.end() :], rest_r[p.end() :]
        per_unit = False
        scope = before_kinds
        if o := _OF_UNIT.match(tail_f):
            unit_word = _UNIT_WORD.match(tail_f, o.end())
            np_end = _units_at(tail_f, o.end()) or (unit_word.end() if unit_word else o.end())
            scope = kinds_in(tail_f[o.start() : np_end], ctx) or scope
            per_unit = True
            tail_r = tail_r[np_end:]
        predicate = cut(tail_r)
        numerator = Need("numerator", "integer", f"Bao nhiêu {who} của đơn vị {predicate}?", f"{who} {predicate}", who)
        denominator = Need("denominator", "integer", f"Đơn vị hiện có bao nhiêu {who}?", f"tổng số {who}", who)
        t = make("ratio", scope, (numerator, denominator), predicate)
        if t and per_unit:
            # Read per unit, the same words ask every unit to reach the rate: proposed beside the
            # overall ratio, for a person to keep one or both.
            b.add(replace(t, key=f"{t.key[:33]}-moi-dv", measure="share_of_units", threshold=Decimal(100),
                          comparator=">=", per_unit_share=threshold, companion_of=t.key), predicate + " moi don vi")
        return t

    # "100% các bản TƯLĐTT hết hạn ... được sửa đổi, ký lại": items, counted and then the share done.
    if it := _ITEMS.match(rest_f):
        noun = clean(rest_r[it.start("noun") : it.end("noun")])
        scope = before_kinds or (("enterprise",) if _AGREEMENTS.search(rest_f) else ())
        passive = _PASSIVE.search(rest_f)
        if passive:
            denominator_phrase, done = cut(rest_r[: passive.start()]), cut(rest_r[passive.start() :])
            unclear = False
        else:
            denominator_phrase, done, unclear = cut(rest_r), "đạt yêu cầu", True
        denominator_phrase = re.sub(r"^(?:số\s+)?(?:các\s+)?", "", denominator_phrase)
        denominator = Need("denominator", "integer", f"Số {denominator_phrase}?", f"số {denominator_phrase}", noun)
        numerator = Need("numerator", "integer", f"Trong đó, số {noun} {done}?", f"{noun} {done}", noun)
        return make("ratio", scope, (numerator, denominator), denominator_phrase + " " + done, unclear=unclear)

    # "Tỷ lệ đoàn viên khối Nhà nước đạt 98%", "tỷ lệ CĐCS đạt vững mạnh từ 70% trở lên".
    if rate := _RATE_BEFORE.search(before):
        what_f = before[rate.start("what") : rate.end("what")]
        what_r = raw[start + rate.start("what") : start + rate.end("what")]
        if np_end := _units_at(what_f, 0):
            return _share(make, what_r[np_end:] or what_r, kinds_in(what_f[:np_end], ctx))
        p = _PEOPLE.match(what_f)
        who = clean(what_r[p.start("who") : p.end("who")]) if p else cut(what_r)
        predicate = cut(what_r[p.end() :]) if p else "đạt yêu cầu"
        numerator = Need("numerator", "integer", f"Bao nhiêu {who} của đơn vị {predicate}?", f"{who} {predicate}", who)
        denominator = Need("denominator", "integer", f"Đơn vị hiện có bao nhiêu {who}?", f"tổng số {who}", who)
        # The kind the measure names ("tỷ lệ đoàn viên trong CĐCS khối nhà nước"), else the one the clause opens with.
        return make("ratio", kinds_in(what_f, ctx) or before_kinds, (numerator, denominator), f"{who} {predicate}")

    # "Chỉ đạo CĐCS trong các loại hình doanh nghiệp phấn đấu 50% trở lên tổ chức ...": the units
    # are named before the threshold, the rest is what each must do.
    if before_kinds or s.in_targets or _STRIVE.search(before):
        return _share(make, rest_r, before_kinds)
    return None


def _share(make: Any, predicate_raw: str, scope: tuple[str, ...]) -> TargetProposal | None:
    predicate_raw = re.sub(r"^\s*\((?:cđcs|CĐCS)\)", "", predicate_raw)
    predicate = cut(predicate_raw)
    if not predicate:
        return None
    count = _COUNT.search(fold(predicate_raw))
    if count:
        phrase = predicate_raw[count.start("noun") :]
        noun = predicate_raw[count.start("noun") : count.end("noun")]
        need = _count_need(phrase, noun)
        return make("share_of_units", scope, (need,), predicate, count_at_least=int(count.group("n")))
    need = Need("check", "yes_no", f"Đơn vị đã {predicate} chưa?", predicate)
    return make("share_of_units", scope, (need,), predicate)


def _each_unit(s: Sentence, start: int, end: int) -> bool:
    """"Mỗi tổ công đoàn …", "từng công đoàn bộ phận …": a count asked of every unit, even one of a kind the
    organisation does not list; "mỗi đoàn viên …" asks it of people, not of units."""
    each = _EACH.search(s.raw, start, end)
    return each is not None and not _PEOPLE.match(s.folded, each.end())


def _count_targets(b: _TargetBuilder, s: Sentence, start: int, end: int) -> bool:
    """"Mỗi CĐCS có ít nhất 01 hoạt động ... và 01 hoạt động ...", "LĐLĐ huyện có ít nhất 02 tin, bài"."""
    ctx = b.ctx
    folded, raw = s.folded, s.raw
    m = _COUNT.search(folded, start, end)
    if m is None and not _GROWTH.search(folded, start, end):  # "thành lập mới ít nhất 05 CĐCS": a growth target
        m = _COUNT_ANY.search(folded, start, end)
    if not m:
        return False
    scope = kinds_in(folded[start : m.start()], ctx)
    if not scope and not s.in_targets and not _each_unit(s, start, m.start()):
        return False  # a task that names no units is not a target ("Tổ chức ít nhất 01 việc làm ...")
    clause = cut(raw[start:end])
    counts = [(m.start("n"), int(m.group("n")), m.start("noun"), m.end("noun"))]
    pos = m.end()
    while a := _AND_COUNT.search(folded, pos, end):
        counts.append((a.start("n"), int(a.group("n")), a.start("noun"), a.end("noun")))
        pos = a.end()
    for i, (_n_at, n, noun_start, noun_end) in enumerate(counts):
        phrase_end = counts[i + 1][0] if i + 1 < len(counts) else end
        if stop := _PHRASE_STOP.search(folded, noun_end, phrase_end):  # "… tiết mục văn nghệ| và gửi danh sách …"
            phrase_end = stop.start()
        phrase = re.sub(r"\s+và\s*$", "", raw[noun_start:phrase_end])
        noun = raw[noun_start:noun_end]
        threshold = Decimal(n)
        if scope == ("upper",):
            # The district itself (one unit): its own count must reach the number.
            need = _count_need(phrase, noun, "total")
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence, measure="total",
                               comparator=">=", threshold=threshold, unit="count", scope=scope, needs=(need,))
        else:
            need = _count_need(phrase, noun)
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence,
                               measure="share_of_units", comparator=">=", threshold=Decimal(100), unit="%",
                               scope=scope or None, needs=(need,), count_at_least=n)
        b.add(t, cut(phrase))
    return True


def _count_value(m: re.Match[str]) -> int | None:
    n = m.group("n")
    value = _NUMBER_WORDS.get(n) or (int(n.replace(".", "")) if re.fullmatch(r"[\d.]+", n) else None)
    if value is None:
        return None
    mult = m.group("mult")
    return value * (1_000_000 if mult == "trieu" else 1000 if mult else 1)


def _growth_targets(b: _TargetBuilder, s: Sentence, start: int, end: int) -> None:
    """"Kết nạp mới 35.000 đoàn viên", "Mỗi tổ công đoàn có một công trình", "phấn đấu có 12 triệu đoàn viên":
    a count to reach. Each unit's when the clause says "mỗi"; else the sum over the audience."""
    folded, raw = s.folded, s.raw
    # Searched once per clause, not per number: a clause of many numbers stays linear.
    each_word = _EACH.search(raw, start, end)
    strive = _STRIVE.search(folded, start, end)
    clause: str | None = None
    lead_from = start
    for m in _GROWTH.finditer(folded, start, end):
        value = _count_value(m)
        lead_start, lead_from = lead_from, m.end()
        grows = not m.group("verb").startswith("co")
        each = each_word is not None and each_word.start() < m.start()
        if not value or not (grows or each or s.in_targets or (strive and strive.start() < m.start())):
            continue
        scope = kinds_in(folded[lead_start : m.start()], b.ctx)  # the units named since the previous count
        noun_key = fold(raw[m.start("noun") : m.end("noun")])
        if (("share_of_units", Decimal(100)) if each else ("total", Decimal(value))) + (">=", scope or None,
                                                                                       noun_key[:60]) in b.seen:
            continue  # already proposed: a long list of the same count costs no more questions to build
        stop = _PHRASE_STOP.search(folded, m.end("noun"), min(end, m.end("noun") + 200))
        phrase_end = stop.start() if stop else min(end, m.end("noun") + 200)
        phrase = raw[m.start("noun") : phrase_end]
        noun = raw[m.start("noun") : m.end("noun")]
        clause = clause if clause is not None else cut(raw[start:end])
        threshold = Decimal(value)
        if each:
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence,
                               measure="share_of_units", comparator=">=", threshold=Decimal(100), unit="%",
                               scope=scope or None, needs=(_count_need(phrase, noun),), count_at_least=value)
        else:
            t = TargetProposal(key=_key(phrase, threshold), text=clause, evidence=s.evidence, measure="total",
                               comparator=">=", threshold=threshold, unit="count", scope=scope or None,
                               needs=(_count_need(raw[m.start("verb") : phrase_end], noun, "total"),))
        b.add(t, fold(noun))  # the same count of the same thing, in the title and in the text: one target


def _assigned_target(b: _TargetBuilder, s: Sentence, start: int, end: int) -> None:
    """"Phấn đấu hoàn thành và vượt chỉ tiêu được giao về thu kinh phí": 100% of the assigned figure."""
    m = _ASSIGNED.search(s.folded, start, end)
    if not m:
        return
    what = cut(s.raw[m.end() : end]) or "chỉ tiêu được giao"
    numerator = Need("numerator", "integer", f"Kết quả đơn vị đạt được ({what})?", f"kết quả {what}")
    denominator = Need("denominator", "integer", f"Chỉ tiêu được giao cho đơn vị ({what})?", f"chỉ tiêu {what}")
    t = TargetProposal(key=_key("vuot chi tieu " + what, Decimal(100)), text=cut(s.raw[start:end]),
                       evidence=s.evidence, measure="ratio", comparator=">=", threshold=Decimal(100), unit="%",
                       scope=None, needs=(numerator, denominator))
    b.add(t, "vuot chi tieu " + what)


def read_targets(doc: Document, ctx: Context) -> list[TargetProposal]:
    b = _TargetBuilder(ctx)
    for s in doc.sentences:
        previous: TargetProposal | None = None
        bounds = [0, *[i + 1 for i, c in enumerate(s.folded) if c == ";"], len(s.folded) + 1]
        for start, stop in itertools.pairwise(bounds):
            end = stop - 1
            if not s.folded[start:end].strip():
                continue
            p = _PERCENT.search(s.folded, start, end)
            if p:
                made = _percent_targets(b, s, start, end, p, previous)
                previous = made or previous
            elif not _count_targets(b, s, start, end):
                _growth_targets(b, s, start, end)
            _assigned_target(b, s, start, end)
    return b.targets
