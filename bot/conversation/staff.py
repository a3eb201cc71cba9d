"""Staff menus: summaries (/tonghop), reminders on request (/nhacnho), and a plan sent in chat that
becomes a draft campaign to review and publish. Every choice is re-authorised when it acts: the
membership may be gone since the menu was shown."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.campaign_model import Campaign
from bot.campaigns import load_campaign_file
from bot.dialog.model import ActionInput, Button, Input, Reply, TextInput
from bot.domain import Role, Unit
from bot.i18n import N_, Translator
from bot.parsing import ParseError
from bot.plans import chat as plan_chat
from bot.plans.text import PlanError
from bot.scope import bind_within, campaign_reaches, root_of, staff_units, subtree_ids
from bot.summary import files as summary_files
from bot.summary import service as summary_service
from bot.summary.text import summary_text
from storage import campaigns as campaign_store
from storage import drafts as draft_store
from storage import people as people_store
from storage.db import Database

from .common import LateUnit, Services, Step, choose_again, chosen_id, menu_again, period_label
from .events import Command, PlanFile, Sender
from .state import Mode, State, Turn, keep, menu, to_idle

# --- summaries ----------------------------------------------------------------------------------------------

NOT_FOR_YOU = N_("Summaries are for upper-level officers and the department. Type /danop to see your own reports.")


def _not_for_you(t: Translator) -> Turn:
    return to_idle([Reply(t(NOT_FOR_YOU))])


async def summary_menu(step: Step, _cmd: Command) -> Turn:
    t, db = step.t, step.conv.db
    scope = await summary_service.scope_of(db, step.person_id)
    if scope is None:
        return _not_for_you(t)
    units = await subtree_ids(db, scope[0] or [])
    periods = sorted(await _periods_reaching(db, units), key=lambda p: p[1].due_at, reverse=True)[:30]
    choices = [Button(period_label(step, campaign, campaign.period(row.key), row.due_at), f"m:{row.id}")
               for campaign, row in periods]
    if not choices:  # closed periods are listed too: "none open" would be wrong here
        return to_idle([Reply(t("There is no reporting period to summarise yet."))])
    # The last choice turns the same list into one whose summaries add up approved reports only.
    approved = Button(t("Approved reports only"), APPROVED_ONLY)
    return menu(State(Mode.SUMMARY_CHOOSE, periods=[int(b.action[2:]) for b in choices]),
                Reply(t("Summary of which period?"), choices=(*choices, approved)))


APPROVED_ONLY = "s:approved"  # the /tonghop choice that lists the periods again, for approved reports only


async def _approved_only_choices(step: Step) -> Turn:
    """The same periods again, each now building its summary from approved reports only."""
    saved = Reply.from_json(step.state.menu) if step.state.menu else None
    again = tuple(Button(b.label, "a:" + b.action[2:]) for b in (saved.choices if saved else ())
                  if b.action.startswith("m:"))
    if not again:
        return await summary_menu(step, Command("tonghop"))
    return menu(step.state, Reply(step.t("Summary from approved reports only — of which period?"), choices=again))


async def _periods_reaching(db: Database, units: set[int]) -> list[tuple[Campaign, campaign_store.PeriodRow]]:
    """The periods of the live campaigns that reach some of `units`: another province's campaign is not even
    named in a menu."""
    out = []
    for campaign in await campaign_store.live_campaigns(db):
        if await campaign_reaches(db, campaign, units):
            out += [(campaign, row) for row in await campaign_store.periods_of(db, campaign.id)]
    return out


async def on_summary_choose(step: Step, event: Input) -> Turn:
    t, conv = step.t, step.conv
    if isinstance(event, ActionInput) and event.action == APPROVED_ONLY:
        return await _approved_only_choices(step)
    approved_only = chosen_id(event, "a:") is not None
    period_id = chosen_id(event, "a:") if approved_only else chosen_id(event, "m:")
    if period_id is None or period_id not in (step.state.periods or []):
        return await choose_again(step, t("Please choose one of the reports offered."))
    scope = await summary_service.scope_of(conv.db, step.person_id)  # again: the membership may be gone
    row = await campaign_store.period_by_id(conv.db, period_id)
    campaign = await campaign_store.campaign(conv.db, row.campaign_id) if row else None
    if scope is None or row is None or campaign is None or not await campaign_reaches(
            conv.db, campaign, await subtree_ids(conv.db, scope[0] or [])):
        return _not_for_you(t)
    roots, scope_name = scope
    build = asyncio.create_task(_summary_replies(step, row, roots, scope_name, approved_only))
    try:
        done, _pending = await asyncio.wait({build}, timeout=INTERIM_AFTER_SECONDS)
        if not done:  # a large scope: say at once that it is coming, then send it
            await step.tell_now([Reply(t("Working on the summary… it will arrive here in a moment."))])
        return to_idle(await build)
    finally:
        build.cancel()  # the turn was cancelled: the build stops too (nothing once it is done)


# A summary not ready within this many seconds gets "working on it" at once (tests shorten it).
INTERIM_AFTER_SECONDS = 1.0


async def _summary_replies(step: Step, row: campaign_store.PeriodRow, roots: list[int] | None,
                           scope_name: str, approved_only: bool = False) -> list[Reply]:
    """The summary's text and files. Only the database reads run on the event loop; the computing and the
    writing (seconds for thousands of units) run in a worker thread, so other people's dialogs go on."""
    t, conv = step.t, step.conv
    summary = await summary_service.build_summary(conv.db, row.campaign_id, row.key, scope_roots=roots,
                                                  scope_name=scope_name, now=conv.clock.now(),
                                                  approved_only=approved_only, waiting_days=conv.review.waiting_days)
    replies = [Reply(await asyncio.to_thread(summary_text, summary, t, conv.zone))]
    if conv.files_dir is not None:
        out_dir = conv.files_dir / f"person-{step.person_id}"
        for fmt, caption in (("xlsx", t("Excel workbook")), ("docx", t("Word report (báo cáo)")), ("png", t("Chart"))):
            path = await asyncio.to_thread(summary_files.write, summary, fmt, out_dir, t, conv.zone)
            replies.append(Reply(caption, file_path=str(path)))
    return replies


# --- reminders on request -----------------------------------------------------------------------------------

async def remind_scope(db: Database, person_id: int) -> set[int]:
    """Units a person may remind: the subtrees of their officer, department and admin memberships'
    units (the same scope as a summary's, summary_service.scope_of, spelled out); empty: none."""
    scope = await summary_service.scope_of(db, person_id)
    return set() if scope is None else await subtree_ids(db, scope[0] or [])


async def remind_now(conv: Services, person_id: int, period_id: int, chosen: set[int] | None = None
                     ) -> tuple[Sequence[LateUnit], int] | None:
    """Queue "remind them now" for the period's late units in the person's scope (narrowed to `chosen` when
    given: one unit, or one upper level's units): the rules and limits of /nhacnho, for the chat and the dashboard
    alike (one slot per minute of the request, so a second request in the same minute adds nothing). Returns the
    late units reminded and the messages queued; None when the person may not remind (no scope) or reminders are
    off."""
    scope = await remind_scope(conv.db, person_id)
    if not scope or conv.reminders is None:
        return None
    within = scope if chosen is None else scope & chosen
    now = conv.clock.now()
    late, items = await conv.reminders.on_request(period_id, now, within)
    return late, await conv.reminders.enqueue(items, now)


def _may_not_remind(t: Translator) -> Turn:
    return to_idle([Reply(t("Only upper-level officers and the department can send reminders."))])


async def remind_menu(step: Step, _cmd: Command) -> Turn:
    t, conv = step.t, step.conv
    scope = await remind_scope(conv.db, step.person_id)
    if not scope or conv.reminders is None:
        return _may_not_remind(t)
    now = conv.clock.now()
    choices = [Button(period_label(step, campaign, campaign.period(row.key), row.due_at), f"n:{row.id}")
               for campaign, row in await _periods_reaching(conv.db, scope) if now < row.closes_at]
    if not choices:
        return to_idle([Reply(t("No reporting period is open at the moment."))])
    return menu(State(Mode.REMIND_CHOOSE, periods=[int(b.action[2:]) for b in choices]),
                Reply(t("Remind the units that have not reported — for which period?"), choices=tuple(choices)))


async def on_remind_choose(step: Step, event: Input) -> Turn:
    t, conv = step.t, step.conv
    period_id = chosen_id(event, "n:")
    if period_id is None or period_id not in (step.state.periods or []) or conv.reminders is None:
        return await choose_again(step, t("Please choose one of the reports offered."))
    scope = await remind_scope(conv.db, step.person_id)
    if not scope:
        return _may_not_remind(t)
    late, items = await conv.reminders.on_request(period_id, conv.clock.now(), scope)
    if not late:
        return to_idle([Reply(t("Every unit in your scope has reported for this period. 👍"))])
    unreachable = sum(1 for u in late if not any(p.channel for p in u.recipients))
    lines = [t.ngettext("{n} unit has not reported:", "{n} units have not reported:", len(late))]
    lines += [f"• {u.name}" for u in late[:30]]
    if len(late) > 30:
        lines.append(t("… and {n} more.", n=len(late) - 30))
    if unreachable:
        lines.append(t("{n} of them cannot be reached by the bot (no registered person, or blocked).",
                       n=unreachable))
    lines.append(t("Send a reminder to {n} people now?", n=len(items)))
    return menu(State(Mode.REMIND_CONFIRM, period_id=period_id),
                Reply("\n".join(lines), choices=(Button(t("Yes, send"), "yes"), Button(t("No"), "no")), columns=2))


async def on_remind_confirm(step: Step, event: Input) -> Turn:
    t, conv = step.t, step.conv
    answer = event.action if isinstance(event, ActionInput) else None
    if answer == "no":
        return to_idle([Reply(t("All right, nothing was sent."))])
    if answer != "yes" or conv.reminders is None or step.state.period_id is None:
        return menu_again(step, t("Please choose one of the answers offered."))
    sent = await remind_now(conv, step.person_id, step.state.period_id)
    if sent is None:
        return _may_not_remind(t)
    _late, added = sent
    return to_idle([Reply(t("{n} reminders are queued and go out within a minute, at the pace the messengers "
                            "allow.", n=added))])


# --- a plan sent in chat -------------------------------------------------------------------------------------

async def _is_staff(db: Database, person_id: int) -> bool:
    """Department staff and admins: they publish plans (for their own province)."""
    views = await people_store.memberships_of(db, person_id)
    return any(v.membership.role in (Role.DEPARTMENT, Role.ADMIN) for v in views)


async def accepts_plan(conv: Services, sender: Sender) -> bool:
    """Department staff and admins, when no report is open, may send a plan to draft a campaign."""
    person = await people_store.person_by_identity(conv.db, sender.channel, sender.external_id)
    if person is None or conv.campaigns_dir is None:
        return False
    draft = await draft_store.load(conv.db, person.id)
    if draft is not None and draft.state.get("mode") == Mode.FORM.value:
        return False
    return await _is_staff(conv.db, person.id)


def unexpected_file_text(t: Translator) -> str:
    """The answer to a file (photo, document, plan) sent when no question asks for one."""
    return t("I was not expecting a file now. Type /baocao to continue your report.")


def _plan_buttons(t: Translator) -> tuple[Button, ...]:
    return (Button(t("✅ Publish"), "plan:publish"), Button(t("🗑 Discard"), "plan:discard"))


async def on_plan_file(step: Step, event: PlanFile) -> Turn:
    """A plan document: read off the event loop into a draft campaign, shown for review."""
    t = step.t
    if step.state.in_form or not await _is_staff(step.conv.db, step.person_id):
        return keep(step.state, [Reply(unexpected_file_text(t))])
    try:
        found, problems = await plan_chat.read_plan_off_loop(event.data, event.name)
    except PlanError as exc:
        return to_idle([Reply(exc.render(t))])
    draft = found.draft
    year = found.proposal.periods[0].due_date.year if found.proposal.periods else step.conv.clock.now().year
    state = State(Mode.PLAN_REVIEW, toml=draft.toml, campaign_id=draft.campaign_id, year=year)
    return menu(state, Reply(plan_chat.review_text(t, found, problems),
                             title=t("Draft campaign from {name}", name=event.name),
                             choices=_plan_buttons(t), columns=2))


async def on_plan_review(step: Step, event: Input) -> Turn:
    t, conv, state = step.t, step.conv, step.state
    staff = await staff_units(conv.db, step.person_id)
    if not staff:  # no longer department staff or admin since the draft was shown: nothing is published
        return to_idle([Reply(t("Only department staff and administrators can publish a campaign; nothing was "
                                "published."))])
    assert state.toml is not None
    assert state.campaign_id is not None
    assert state.menu is not None
    action = event.action if isinstance(event, ActionInput) else None
    if action == "plan:discard":
        return to_idle([Reply(t("The draft was discarded; nothing was published."))])
    if action == "plan:publish":
        return await _publish(step, staff[0], state.toml, state.campaign_id)
    if isinstance(event, TextInput):
        try:
            toml = plan_chat.apply_edit(state.toml, event.text, state.year or conv.clock.now().year)
        except ParseError as err:
            return keep(state, [Reply(err.render(t)), Reply.from_json(state.menu)])
        new_state = state.copy()
        new_state.toml = toml
        problems = plan_chat.problems_of(toml, state.campaign_id)
        text = t("Changed.") if not problems else "\n".join([t("Changed. Still to fix:"), *problems])
        return menu(new_state, Reply(text, choices=_plan_buttons(t), columns=2))
    return keep(state, [Reply.from_json(state.menu)])


async def _publish(step: Step, staff_unit: Unit, toml: str, campaign_id: str) -> Turn:
    t, conv, state = step.t, step.conv, step.state
    problems = plan_chat.problems_of(toml, campaign_id)
    if problems:
        assert state.menu is not None
        return keep(state, [Reply("\n".join([t("The draft does not load yet (campaigns check):"), *problems])),
                            Reply.from_json(state.menu)])
    assert conv.campaigns_dir is not None
    # The campaign reaches the publisher's own province only, whatever the draft says.
    toml = bind_within(toml, (await root_of(conv.db, staff_unit)).code)
    try:
        path = plan_chat.publish(toml, campaign_id, conv.campaigns_dir)
    except FileExistsError:
        return keep(state, [Reply(t("A campaign {id} already exists; nothing was published.", id=campaign_id))])
    loaded = load_campaign_file(path)
    await campaign_store.sync_campaigns(conv.db, [(loaded.campaign, loaded.sha256, path.name)],
                                        actor=f"person:{step.person_id}", now=conv.clock.now())
    return to_idle([Reply(t("Published: {title}. Reminders start from now on.",
                            title=loaded.campaign.title.get(t.locale)))])
