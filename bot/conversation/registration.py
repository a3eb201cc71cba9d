"""Registration and linking: an invite code makes a person of an account, a link code adds an account
(another channel) to a person, /lienket makes such a code, /start without a code greets."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.dialog.model import Reply
from bot.domain import Person, Role
from bot.i18n import Translator, normalise_locale
from bot.invites import hash_code, looks_like_code, new_code
from storage import drafts as draft_store
from storage import people as people_store
from storage.people import Identity, InviteRefusedError

from .common import Services, Step, help_reply
from .events import Command, Response, Sender
from .state import State, Turn, keep

LINK_CODE_LIFETIME = timedelta(minutes=30)


async def register(conv: Services, sender: Sender, code: str, person: Person | None, update_key: str | None,
                   now: datetime) -> Response:
    """An invite code (the deep link's argument, or typed): the account becomes a person with a role."""
    locale = person.locale if person else normalise_locale(sender.language_code)
    t = conv.translator(locale)
    if not looks_like_code(code):
        return Response([Reply(t("This invite code is not valid. Ask your upper-level union for a new invite "
                                 "link."))], 0, locale)
    identity = Identity(sender.channel, sender.external_id, sender.chat_id, sender.display_name, sender.username)
    try:
        new_person, view = await people_store.redeem_invite(
            conv.db, code_hash=hash_code(code), identity=identity, locale=locale, now=now)
    except InviteRefusedError as exc:
        if exc.reason == "unknown":
            linked = await _link(conv, sender, identity, code, update_key, now)
            if linked is not None:
                return linked
        text = {
            "used": t("This invite link has already been used. Each link works once: ask your upper-level "
                      "union for a new one."),
            "expired": t("This invite link has expired. Ask your upper-level union for a new one."),
        }.get(exc.reason, t("This invite code is not valid. Ask your upper-level union for a new invite link."))
        return Response([Reply(text)], 0, locale)
    t = conv.translator(new_person.locale)
    role_text = _role_text(t, view.membership.role)
    replies = [
        Reply(t("Welcome, {name}! You are registered as {role} of {unit}.", name=new_person.full_name,
                role=role_text, unit=view.unit.name)),
        help_reply(t),
    ]
    return await _reply_in_place(conv, new_person.id, new_person.locale, sender, replies, update_key, now)


async def _link(conv: Services, sender: Sender, identity: Identity, code: str, update_key: str | None,
                now: datetime) -> Response | None:
    """A link code made with /lienket on another channel: this account joins that person."""
    try:
        person = await people_store.redeem_link_code(conv.db, code_hash=hash_code(code), identity=identity, now=now)
    except InviteRefusedError as exc:
        if exc.reason == "unknown":
            return None
        t = conv.translator(normalise_locale(sender.language_code))
        text = {
            "taken": t("This account is already registered for someone else; nothing was linked."),
            "expired": t("This link code has expired. Type /lienket again on your other channel."),
            "used": t("This link code has already been used. Type /lienket again on your other channel."),
        }.get(exc.reason, t("This invite code is not valid. Ask your upper-level union for a new invite link."))
        return Response([Reply(text)], 0, normalise_locale(sender.language_code))
    t = conv.translator(person.locale)
    replies = [Reply(t("Linked: {name} can now use the bot here too. Type /kenh to choose where reminders go.",
                       name=person.full_name))]
    return await _reply_in_place(conv, person.id, person.locale, sender, replies, update_key, now)


async def _reply_in_place(conv: Services, person_id: int, locale: str, sender: Sender, replies: list[Reply],
                          update_key: str | None, now: datetime) -> Response:
    """Replies outside the dialog (registering, linking): the person's draft stays where it was."""
    draft = await draft_store.load(conv.db, person_id)
    turn = keep(State.from_json(draft.state) if draft else State(), replies)
    version = await conv.write_turn(person_id, sender, turn, draft.version if draft else 0, update_key, now)
    return Response(replies, version, locale)


async def link_code(step: Step, _cmd: Command) -> Turn:
    """/lienket: a code to send on the other channel within LINK_CODE_LIFETIME."""
    t, conv = step.t, step.conv
    code = new_code()
    now = conv.clock.now()
    await people_store.create_link_code(conv.db, person_id=step.person_id, code_hash=hash_code(code), now=now,
                                        expires_at=now + LINK_CODE_LIFETIME)
    return keep(step.state, [Reply(t("Your link code: {code}\nOn your other channel (Telegram or Zalo), send this "
                                     "code to the bot within 30 minutes: reports, reminders and receipts then "
                                     "reach you there too.", code=code))])


async def greet(step: Step, _cmd: Command) -> Turn:
    """/start without a code: who the person is, and what the bot can do."""
    t = step.t
    views = await people_store.memberships_of(step.conv.db, step.person_id)
    if not views:
        text = t("Hello! You have no unit yet: ask your upper-level union for an invite link.")
    else:
        units = "; ".join(f"{_role_text(t, v.membership.role)} — {v.unit.name}" for v in views)
        text = t("Hello, {name}! Your units: {units}.", name=views[0].person.full_name, units=units)
    return keep(step.state, [Reply(text), help_reply(t)])


def _role_text(t: Translator, role: Role) -> str:
    return {
        Role.CHAIR: t("the person reporting for"),
        Role.OFFICER: t("officer of"),
        Role.DEPARTMENT: t("department staff at"),
        Role.ADMIN: t("administrator at"),
    }[role]
