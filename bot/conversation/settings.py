"""Settings: the language of the dialog (/ngonngu) and the channel reminders go to (/kenh)."""

from __future__ import annotations

from bot.dialog.model import ActionInput, Button, Input, Reply
from storage import people as people_store

from .common import Step, menu_again
from .events import Command
from .state import Mode, State, Turn, menu, to_idle


async def language_menu(step: Step, _cmd: Command) -> Turn:
    return menu(State(Mode.CHOOSE_LANGUAGE), Reply(
        step.t("Choose a language:"),
        choices=(Button("Tiếng Việt", "lang:vi"), Button("English", "lang:en")), columns=2))


async def on_choose_language(step: Step, event: Input) -> Turn:
    if isinstance(event, ActionInput) and event.action in ("lang:vi", "lang:en"):
        locale = event.action[5:]
        # Confirmed in the new language; bound to `t` so that the catalog extractor sees the messages.
        t = step.conv.translator(locale)
        turn = to_idle([Reply(t("Language set to English.") if locale == "en" else t("Language set to Vietnamese."))])
        turn.locale = locale
        return turn
    return menu_again(step, step.t("Please choose one of the languages offered."))


async def channel_menu(step: Step, _cmd: Command) -> Turn:
    t = step.t
    channels, chosen = await people_store.channels_of(step.conv.db, step.person_id)
    if len(channels) < 2:
        return to_idle([Reply(t("You use only one channel. To add another, type /lienket here and send the code to "
                                "the bot on the other one."))])
    names = {"telegram": "Telegram", "zalo": "Zalo"}
    choices = [Button(names.get(c, c) + (" ✓" if c == chosen else ""), f"ch:{c}") for c in channels]
    choices.append(Button(t("The one I used last") + (" ✓" if chosen is None else ""), "ch:last"))
    return menu(State(Mode.CHANNEL_CHOOSE, channels=channels),
                Reply(t("Where should reminders and summaries reach you?"), choices=tuple(choices)))


async def on_channel_choose(step: Step, event: Input) -> Turn:
    if isinstance(event, ActionInput) and event.action.startswith("ch:"):
        choice = event.action[3:]
        if choice == "last" or choice in (step.state.channels or []):
            await people_store.set_preferred_channel(step.conv.db, step.person_id,
                                                     None if choice == "last" else choice)
            return to_idle([Reply(step.t("Saved."))])
    return menu_again(step, step.t("Please choose one of the answers offered."))
