"""The authorisation matrix of tests/test_authorisation_matrix.py extended to the dashboard (issue 16): for every
actor (chair, officer, department, admin in each of two provinces) and every target relation (own, child,
sibling, parent, other subtree, other province), every page and every action on a period, unit, submission or
upload. Outside the actor's scope the answer is 404, the same page as for an id that does not exist, nothing is
done, and no unit code or name outside the scope appears in any page or downloaded file: 0 leaks.

What the dashboard shows an actor is what /tonghop shows them: the subtree of their officer, department or admin
membership; a chair sees no other unit there (their own reports are in the chat)."""

from __future__ import annotations

import re

from bot.domain import Role, Unit, UnitKind
from storage import outbox, reviews
from storage import submissions as submission_store
from tests.dashboard_world import Dash, dash_fixture  # noqa: F401  (the fixture)
from tests.test_authorisation_matrix import (
    ACTOR_SLOT,
    CELLS,
    OTHER,
    SLOTS,
    file_text,
    leaks,
    may_review,
    targets,
    world,  # noqa: F401  (the fixture)
)
from tests.test_dashboard_pages import PNG

NOWHERE = 987_654  # an id that exists nowhere: its 404 page is the one every refusal must equal


class Tally:
    def __init__(self) -> None:
        self.checks = 0
        self.leaks: list[str] = []

    def check(self, ok: bool, cell: str) -> None:
        self.checks += 1
        assert ok, cell

    def no_leak(self, text: str, units: list[Unit], allowed: set[int], cell: str) -> None:
        self.checks += 1
        found = leaks(text, units, allowed)
        self.leaks += [f"{cell}: {code}" for code in found]
        assert found == [], f"{cell}: {found}"


async def _prepare(dash: Dash) -> tuple[dict[int, int], dict[int, int]]:
    """Every unit of both provinces with a report waiting for review and a kept photo: submission and upload ids
    by unit id."""
    w = dash.w
    subs: dict[int, int] = {}
    photos: dict[int, int] = {}
    assert dash.views.config is not None
    for province, slots in SLOTS.items():
        for code in slots.values():
            unit = w.units[code]
            folder = dash.views.config.data_dir / "uploads" / str(unit.id)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "photo.png"
            path.write_bytes(PNG)
            photos[unit.id] = await submission_store.add_attachment(
                w.db, person_id=1, unit_id=unit.id, period_id=w.dot1[province], field="photos", channel="telegram",
                file_id=None, file_unique_id=None, file_name=f"{code}.png", mime_type="image/png",
                size_bytes=len(PNG), sha256=None, local_path=str(path), now=w.clock.now())
            async with w.db.transaction() as tx:
                row = await submission_store.record(tx, period_id=w.dot1[province], unit_id=unit.id, person_id=1,
                                                    channel="telegram", answers={"propaganda_sessions": 4,
                                                                                 "photos": [photos[unit.id]]},
                                                    now=w.clock.now(), late=False)
            subs[unit.id] = row.id
    return subs, photos


async def test_every_page_and_action_outside_the_scope_is_404_and_nothing_leaks(dash: Dash) -> None:
    w = dash.w
    units = list(w.units.values())
    subs, photos = await _prepare(dash)
    tally = Tally()
    for province, role in CELLS:
        actor = w.actors[(province, role)]
        token = await dash.login(actor)
        own = w.unit(province, ACTOR_SLOT[role])
        subtree = await w.subtree(own)
        seen = set() if role is Role.CHAIR else subtree
        issuer = w.unit(province, "P").id  # the Word report is written in its name (see the summary matrix)
        name = f"{province} {role.value}"
        _s, not_found, _h = await dash.get(token, f"/p/{NOWHERE}")
        tally.check(_s == 404, f"{name} × a period that does not exist")
        for path in ("/home", "/review"):
            status, html, _h = await dash.get(token, path)
            tally.check(status == 200, f"{name} × {path}")
            tally.no_leak(html, units, seen, f"{name} × {path}")
        for relation, target in targets(w, province, role):
            target_province = "DL" if target.code.startswith("DL") else "LC"
            period = w.dot1[target_province]
            cell = f"{name} × {relation} ({target.code})"
            sees_period = role is not Role.CHAIR and target_province == province
            inside = target.id in seen
            pages = {
                f"/p/{period}": sees_period,
                f"/p/{period}/targets": sees_period,
                f"/p/{period}/unit/{target.id}": inside and target.kind is not UnitKind.PROVINCE,
                f"/p/{period}/upper/{target.id}": inside and target.kind is UnitKind.UPPER,
                f"/file/{photos[target.id]}": inside,
            }
            for path, expected in pages.items():
                status, html, _h = await dash.get(token, path)
                tally.check(status == (200 if expected else 404), f"{cell} × GET {path}: {status}")
                if status == 404:
                    tally.check(html == not_found, f"{cell} × GET {path}: the same 404 page")
                else:
                    tally.no_leak(html, units, seen, f"{cell} × GET {path}")
            for fmt in ("xlsx", "docx", "png"):
                status, _body, headers = await dash.raw(token, f"/p/{period}/download/{fmt}")
                tally.check(status == (200 if sees_period else 404), f"{cell} × download {fmt}: {status}")
                if status == 200 and fmt != "png":
                    path = dash.views.services.files_dir / f"person-{dash.sessions.sessions[token].person_id}" / \
                        re.findall(r'filename="([^"]+)"', headers["Content-Disposition"])[0]  # type: ignore[operator]
                    tally.no_leak(file_text(path), units, seen | {issuer}, f"{cell} × download {fmt}")
            await _actions(dash, tally, token, cell, period, target, seen, subs, units,
                           may_review(role, own, target, subtree), sees_period)
    print(f"\ndashboard scope matrix: {len(CELLS)} actors × their target relations, {tally.checks} checks, "
          f"{len(tally.leaks)} leaks")
    assert tally.leaks == []


async def _actions(dash: Dash, tally: Tally, token: str, cell: str, period: int, target: Unit, seen: set[int],
                   subs: dict[int, int], units: list[Unit], reviewer: bool, sees_period: bool) -> None:
    w = dash.w
    inside = target.id in seen
    for field in ("unit", "upper"):
        before = {r.key for r in await outbox.all_rows(w.db)}
        status, location, _body = await dash.post(token, f"/p/{period}/remind", {field: str(target.id)})
        expected = sees_period and inside
        tally.check(status == (303 if expected else 404), f"{cell} × remind {field}: {status}")
        added = [r for r in await outbox.all_rows(w.db) if r.key not in before]
        tally.check({r.unit_id for r in added} <= seen, f"{cell} × remind {field}: reminders outside the scope")
        for r in added:
            tally.no_leak(str(r.payload), units, seen, f"{cell} × remind {field}: the queued message")
        if status == 404:
            tally.check(added == [], f"{cell} × remind {field}: nothing queued")
    sub = subs[target.id]
    queued_before = {r.key for r in await outbox.all_rows(w.db)}
    before_state = (await reviews.status_of(w.db, sub))
    assert before_state is not None
    status, location, _b = await dash.post(token, f"/review/{sub}", {"revision": str(before_state.revision),
                                                                     "action": "return", "reason": "kiểm tra lại"})
    tally.check(status == (303 if reviewer else 404), f"{cell} × return: {status}")
    after = await reviews.status_of(w.db, sub)
    assert after is not None
    if not reviewer:
        tally.check(after.state == before_state.state, f"{cell} × return: the state did not change")
    else:
        tally.check(after.state == "returned" or before_state.state != "submitted", f"{cell} × return: returned")
    for r in await outbox.all_rows(w.db):
        if r.key not in queued_before:  # the chairs' messages of this return, if it was the actor's to make
            tally.check(reviewer and r.kind == "review" and r.unit_id == target.id, f"{cell} × return: {r.key}")
    status, location, _b = await dash.post(token, f"/review/{sub}", {"revision": "1", "action": "approve"})
    tally.check(status == (303 if reviewer else 404), f"{cell} × approve: {status}")
    if status == 303:
        status, html, _h = await dash.get(token, location.removeprefix("/dashboard"))
        tally.no_leak(html, units, seen, f"{cell} × after a decision")


def test_the_matrix_covers_both_provinces_and_every_role() -> None:
    assert {p for p, _r in CELLS} == set(SLOTS) == set(OTHER)
    assert {r for _p, r in CELLS} == {Role.CHAIR, Role.OFFICER, Role.DEPARTMENT, Role.ADMIN}
