"""/bangtheodoi: the dashboard's door from the chat. Officers and the department get a single-use sign-in link
(valid [dashboard] link_minutes) and, where the channel has buttons, the "Mở bảng theo dõi" button that opens
the dashboard as Telegram's Mini App (signed in by Telegram's initData, no link needed). Anyone else gets the
same refusal as /tonghop. The dialog stays where it was: an open report is not touched."""

from __future__ import annotations

from bot.dashboard.access import NotForYouError
from bot.dialog.model import Button, Reply
from bot.summary import service as summary_service

from .common import Step, still_open_hint
from .events import Command
from .staff import NOT_FOR_YOU
from .state import Turn, keep


async def open_dashboard(step: Step, _cmd: Command) -> Turn:
    t, access = step.t, step.conv.dashboard
    hint = still_open_hint(t, step.state)
    if await summary_service.scope_of(step.conv.db, step.person_id) is None:
        return keep(step.state, [Reply(t(NOT_FOR_YOU)), *hint])
    if access is None:  # the terminal shell: no web server runs in it, so no link would open
        return keep(step.state, [Reply(t("The dashboard is served by the bot while it runs with Telegram or Zalo "
                                         "(python -m bot run); this terminal session does not serve it. "
                                         "Meanwhile /tonghop shows the summary here.")), *hint])
    if not access.entry_url:
        return keep(step.state, [Reply(t("The dashboard is not set up on this bot yet. Ask the administrator of the "
                                         "bot to switch it on ([dashboard] enabled and [web] public_base_url in "
                                         "config.toml); meanwhile /tonghop sends the summary here.")), *hint])
    try:
        token = await access.new_link(step.person_id)
    except NotForYouError:  # the membership went in between
        return keep(step.state, [Reply(t(NOT_FOR_YOU)), *hint])
    text = t("Your sign-in link to the dashboard (it works once, within {minutes} minutes; do not pass it on):\n"
             "{link}", minutes=access.link_minutes, link=access.login_url(token))
    buttons = (Button(t("Open the dashboard"), "dashboard", url=access.entry_url, web_app=True),) \
        if step.buttons else ()
    return keep(step.state, [Reply(text, choices=buttons), *hint])
