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
_PEOPLE = vi(
    r"^\s*(?:số\s+)?(?P<who>nữ\s+đoàn\s+viên|đoàn\s+viên|người\s+lao\s+động|nlđ|cnvclđ|cbccvclđ|ccvclđ"
    r"|công\s+nhân(?:\s+viên\s+chức)?\s+lao\s+động|cán\s+bộ\s+công\s+đoàn)\b"
)
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
_AND_COUNT = vi(r"\s+và\s+(?:ít\s+nhất\s+)?(?P<n>\d{1,3})\s+(?P<noun>" + _COUNT_NOUN + ")")
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

    # "Chỉ đạo CĐCS trong các loại hình doanh nghiệp phấn đấu 50% trở lên tổ chức ...": the units
    # are named before the threshold, the rest is what each must do.
    if before_kinds or s.in_targets:
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


def _count_targets(b: _TargetBuilder, s: Sentence, start: int, end: int) -> None:
    """"Mỗi CĐCS có ít nhất 01 hoạt động ... và 01 hoạt động ...", "LĐLĐ huyện có ít nhất 02 tin, bài"."""
    ctx = b.ctx
    folded, raw = s.folded, s.raw
    m = _COUNT.search(folded, start, end)
    if not m:
        return
    scope = kinds_in(folded[start : m.start()], ctx)
    if not scope and not s.in_targets:
        return  # a task that names no units is not a target ("Tổ chức ít nhất 01 việc làm ...")
    clause = cut(raw[start:end])
    counts = [(m.start("n"), int(m.group("n")), m.start("noun"), m.end("noun"))]
    pos = m.end()
    while a := _AND_COUNT.search(folded, pos, end):
        counts.append((a.start("n"), int(a.group("n")), a.start("noun"), a.end("noun")))
        pos = a.end()
    for i, (_n_at, n, noun_start, noun_end) in enumerate(counts):
        phrase_end = counts[i + 1][0] if i + 1 < len(counts) else end
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
            else:
                _count_targets(b, s, start, end)
    return b.targets
