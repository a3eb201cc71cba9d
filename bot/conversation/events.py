"""What comes into the conversation and what goes out, the same on every channel.

An adapter turns an update into one `Event` for a `Sender` and renders the `Response`'s replies.
Nothing here reads the database: these are plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialog.model import ActionInput, FileInput, Input, Reply, TextInput
from bot.domain import Channel
from bot.ids import parse_id
from bot.vi_text import fold

# Plain words work as well as slash commands: each written once with its marks, matched after folding
# ("bao cao", "BÁO CÁO" and "báo cáo" are one word).
_COMMAND_SPELLINGS = {
    "baocao": ("báo cáo", "baocao", "nộp báo cáo"),
    "hannop": ("hạn nộp", "hannop"),
    "danop": ("đã nộp", "danop"),
    "huy": ("hủy", "huỷ", "thôi"),
    "trogiup": ("trợ giúp", "trogiup", "giúp", "help"),
    "ngonngu": ("ngôn ngữ", "ngonngu", "language"),
    "nhacnho": ("nhắc nhở", "nhacnho"),
    "tonghop": ("tổng hợp", "tonghop"),
    "lienket": ("liên kết", "lienket"),
    "kenh": ("kênh", "kênh nhắc"),
    "duyet": ("duyệt", "duyet", "duyệt báo cáo"),
    "mokhoa": ("mở khóa", "mở khoá", "mokhoa"),
    "mien": ("miễn báo cáo", "mien"),
    "bangtheodoi": ("bảng theo dõi", "bangtheodoi"),
}
COMMAND_WORDS = {fold(w): name for name, spellings in _COMMAND_SPELLINGS.items() for w in spellings}
# Commands that open a menu of their own, which would take the place of an open report's state: refused
# until the report is finished or cancelled.
NOT_DURING_A_REPORT = frozenset({"ngonngu", "kenh", "tonghop", "nhacnho", "duyet", "mokhoa", "mien"})
# /bangtheodoi only answers with a link: it leaves an open report as it is.


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    arg: str = ""


@dataclass(frozen=True, slots=True)
class Press:
    version: int
    action: str


@dataclass(frozen=True, slots=True)
class PlanFile:
    """A plan document (kế hoạch) sent by the department or an admin, already size-checked."""

    name: str
    data: bytes


Event = Command | Press | TextInput | FileInput | PlanFile


@dataclass(frozen=True, slots=True)
class Sender:
    channel: Channel
    external_id: str
    chat_id: str
    display_name: str
    username: str | None = None
    language_code: str | None = None

    @property
    def buttons(self) -> bool:
        """Whether replies reach this person with buttons (else numbered choices and typed words)."""
        return self.channel.has_buttons


@dataclass(slots=True)
class Response:
    replies: list[Reply]
    version: int  # buttons of these replies carry it
    locale: str
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class ExpectedFile:
    person_id: int
    unit_id: int
    period_id: int
    field: str
    type: str  # "photo" or "document"


def as_command(text: str) -> Command:
    head, _, arg = text.strip()[1:].partition(" ")
    name = head.split("@", 1)[0].lower()  # "/baocao@MyBot" in groups
    return Command(name, arg.strip())


def numbered_to_action(event: TextInput, offered: list[str], numbers: list[str] | None) -> Input:
    """On channels without buttons, "2" picks the second numbered choice of the last reply and "0" goes back.
    Only choices: moves such as send or done are typed words there, so a number never stands for one."""
    text = event.text.strip()
    # `numbers` is saved with every step; a state saved before it was falls back to what was offered.
    choices = numbers if numbers is not None else [a for a in offered if a not in ("back", "skip")]
    number = parse_id(text)  # ASCII digits only: "²" is a digit to str.isdigit but not to int()
    if not choices or number is None:
        return event
    if number == 0 and "back" in offered:
        return ActionInput("back")
    if 1 <= number <= len(choices):
        return ActionInput(choices[number - 1])
    return event
