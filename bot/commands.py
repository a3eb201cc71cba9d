"""The bot's commands, listed once: the help text and the Telegram command menu are both built from here.

Descriptions are gettext msgids, marked with N_ so that extraction finds them and translated where shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_, Translator


@dataclass(frozen=True, slots=True)
class CommandInfo:
    name: str  # typed as /name
    description: str  # msgid; the ones for officers say so in their text


# In menu order: the six everyone needs first, as Telegram shows the top of its menu.
COMMANDS: tuple[CommandInfo, ...] = (
    CommandInfo("baocao", N_("file a report for your unit")),
    CommandInfo("hannop", N_("what is due, with dates and days left")),
    CommandInfo("danop", N_("what you have submitted, with receipts; correct a report")),
    CommandInfo("huy", N_("cancel the report you are filling in")),
    CommandInfo("trogiup", N_("this help")),
    CommandInfo("ngonngu", N_("language: Tiếng Việt / English")),
    CommandInfo("nhacnho", N_("(officers) remind the units that have not reported")),
    CommandInfo("tonghop", N_("(officers, department) summary: who reported, totals, targets")),
    CommandInfo("duyet", N_("(officers, department) review the reports: approve, or return with a reason")),
    CommandInfo("mokhoa", N_("(officers, department) let a unit send or correct a closed report until a date")),
    CommandInfo("mien", N_("(department) excuse a unit's report so its upper level's report can be approved")),
    CommandInfo("bangtheodoi", N_("(officers, department) open the dashboard: progress, units, review, downloads")),
    CommandInfo("lienket", N_("use the bot on Telegram and Zalo both")),
    CommandInfo("kenh", N_("choose where reminders reach you")),
)


def menu(t: Translator) -> list[tuple[str, str]]:
    """(command, description in t's language) for a channel's command menu, e.g. Telegram's setMyCommands: a menu
    entry starts with a capital letter, a help line (after "/command —") does not."""
    return [(c.name, _capitalised(t(c.description))) for c in COMMANDS]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def help_lines(t: Translator) -> list[str]:
    """One "/command — description" line per command."""
    return [f"/{c.name} — {t(c.description)}" for c in COMMANDS]
