"""The kinds of unit a phrase names: upper level, grassroots, enterprise, public agency."""

from __future__ import annotations

from bot.plans.extract.document import Context
from bot.plans.extract.folding import fold, vi

# Upper level (công đoàn cấp trên trực tiếp cơ sở): LĐLĐ huyện, Công đoàn ngành, CĐ Viên chức tỉnh.
UPPER = vi(
    r"cấp\s+trên(?:\s+trực\s+tiếp)?(?:\s+cơ\s+sở)?"
    r"|(?:lđlđ|liên\s+đoàn\s+lao\s+động)\s+(?:các\s+)?(?:huyện|thị\s+xã|quận)"
    r"|(?:công\s+đoàn|\bcđ)\s+ngành|(?:công\s+đoàn|\bcđ)\s+viên\s+chức\s+tỉnh"
)
# A grassroots union, with what qualifies it right after: "CĐCS doanh nghiệp", "Công đoàn cơ sở cơ
# quan hành chính, đơn vị sự nghiệp", "Công đoàn cơ sở trong các loại hình doanh nghiệp", "Các Công
# đoàn cơ sở trực thuộc Công đoàn Viên chức tỉnh" (those are in public agencies).
GRASSROOTS = vi(
    r"(?:\bcđcs\b|công\s+đoàn\s+cơ\s+sở)(?:\s*\(cđcs\))?"
    r"(?:\s*(?:trực\s+thuộc|thuộc|ở|tại|trong)?\s*(?:các\s+)?(?:khối\s+|loại\s+hình\s+)?"
    r"(?P<q>doanh\s+nghiệp(?:\s+(?P<private>ngoài\s+(?:khu\s+vực\s+)?nhà\s+nước)|\s+(?P<state>nhà\s+nước))?"
    r"|cơ\s+quan\s+hành\s+chính(?:\s*,\s*đơn\s+vị\s+sự\s+nghiệp)?|đơn\s+vị\s+sự\s+nghiệp|hcsn|khối\s+cơ\s+quan"
    r"|hành\s+chính\s*(?:,|-|–)?\s*sự\s+nghiệp|(?:khối\s+)?nhà\s+nước\b(?!\s+ngoài)"
    r"|(?P<cdvc>(?:công\s+đoàn|cđ)\s+viên\s+chức(?:\s+tỉnh)?)))?"
)
CDVC = vi(r"công\s+đoàn\s+viên\s+chức|\bcđvc\b|\bcđ\s+viên\s+chức")
_GROUP_ORDER = ("upper", "grassroots", "enterprise", "enterprise_state", "enterprise_private", "public_agency")


def kinds_in(folded: str, ctx: Context) -> tuple[str, ...]:
    """The unit kinds a phrase names, most specific first removed when covered."""
    kinds: set[str] = set()
    chars = list(folded)
    for m in GRASSROOTS.finditer(folded):
        if m.group("private"):
            kinds.add("enterprise_private")
        elif m.group("state"):
            kinds.add("enterprise_state")
        elif m.group("cdvc"):
            kinds.add("public_agency")
        elif m.group("q"):
            kinds.add("enterprise" if fold(m.group("q")).startswith("doanh") else "public_agency")
        else:
            kinds.add(ctx.grassroots_kind)
        chars[m.start() : m.end()] = " " * (m.end() - m.start())
    if UPPER.search("".join(chars)):
        kinds.add("upper")
    return simplify_kinds(kinds)


def simplify_kinds(kinds: set[str]) -> tuple[str, ...]:
    if "grassroots" in kinds:
        kinds -= {"enterprise", "enterprise_state", "enterprise_private", "public_agency"}
    if "enterprise" in kinds:
        kinds -= {"enterprise_state", "enterprise_private"}
    return tuple(k for k in _GROUP_ORDER if k in kinds)
