"""The dashboard's pages and actions (issue 16): thin handlers over bot.dashboard.views.DashboardViews.

Every handler asks who is signed in (viewer_of), passes the ids of the URL to the core, which re-reads the person's
scope from the database, and shows one "not found" page whether the thing is outside the scope or does not exist.
Every POST goes through checked_form (CSRF) and answers with a redirect back and a flash message named by a short
code in the query string (never free text from the URL shown)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from bot.dashboard.actions import REASON_LIMIT
from bot.dashboard.model import DecisionResult, RemindResult
from bot.dashboard.views import DashboardViews
from bot.i18n import N_
from bot.ids import parse_id
from handlers.web.render import render
from handlers.web.session import Viewer, checked_form, viewer_of

VIEWS_KEY = web.AppKey("dashboard_views", DashboardViews)
Page = TypeVar("Page")
BASE = "/dashboard"

# Flash codes -> (message, is it a refusal). `n` and `m` are whole numbers from the query string.
FLASHES: dict[str, tuple[str, bool]] = {
    "reminded": (N_("{n} reminders are queued for {m} units that have not reported; they go out within a minute, "
                    "at the pace the messengers allow."), False),
    "unreachable": (N_("{u} of these units cannot be reached by the bot (no registered person, or blocked)."),
                    True),
    "all_reported": (N_("Every chosen unit has reported for this period; no reminder was sent."), False),
    "remind_closed": (N_("This period has closed; reminders are no longer sent."), True),
    "remind_off": (N_("Reminders are not sent from this server."), True),
    "approved": (N_("The report is approved."), False),
    "returned": (N_("The report is returned; {n} of its chairs have been told."), False),
    "returned_nobody": (N_("The report is returned, but no chair of this unit can be reached by the bot: please "
                           "tell them another way."), True),
    "cut": (N_("The reason was longer than {limit} characters; only its first {limit} characters are kept."), True),
    "held": (N_("This upper level's report can be approved only when the reports of all its units are approved or "
                "excused."), True),
    "replaced": (N_("This report has been submitted again since you opened it. Nothing was decided; it is back in "
                    "the list with its new answers."), True),
    "already": (N_("Someone else has already decided on this report. Nothing was decided."), True),
    "reason": (N_("Please write the reason for returning it, for example: \"The number of participants is higher "
                  "than the number of members, please check question 3.\""), True),
    "invalid": (N_("Please choose Approve or Return."), True),
}


def _views(request: web.Request) -> DashboardViews:
    return request.config_dict[VIEWS_KEY]


def _id(request: web.Request, name: str) -> int:
    value = parse_id(request.match_info.get(name, ""))
    if value is None:
        raise web.HTTPNotFound()
    return value


def _number(value: str | None) -> int:
    parsed = parse_id(value or "") if value and len(value) <= 9 else None
    return parsed or 0


def flashes(request: web.Request, viewer: Viewer) -> list[tuple[str, bool]]:
    """The messages named in the query string (?done=a,b&n=..&m=..&u=..), in the viewer's language; unknown codes
    are ignored and the counts are whole numbers, so nothing typed into the URL is shown."""
    codes = request.query.get("done", "")[:80].split(",")
    counts = {k: viewer.t.number(_number(request.query.get(k))) for k in ("n", "m", "u")}
    counts["limit"] = viewer.t.number(REASON_LIMIT)
    out = []
    for code in dict.fromkeys(codes):
        if code in FLASHES:
            msgid, problem = FLASHES[code]
            out.append((viewer.t(msgid, **counts), problem))
    return out


def _back(path: str, codes: list[str], n: int = 0, m: int = 0, u: int = 0) -> web.HTTPSeeOther:
    query = {"done": ",".join(codes)}
    query.update({k: str(v) for k, v in (("n", n), ("m", m), ("u", u)) if v})
    return web.HTTPSeeOther(f"{path}?{urlencode(query)}", headers={"Cache-Control": "no-store"})


def _found(page: Page | None) -> Page:
    """The page's data, or the one "not found" page (outside the scope and missing alike)."""
    if page is None:
        raise web.HTTPNotFound()
    return page


def _page(request: web.Request, viewer: Viewer, name: str, **context: Any) -> web.Response:
    # reason_limit: the review form's box stops there, so a reason is never cut after it was written
    return render(request, name, viewer=viewer, flashes=flashes(request, viewer), reason_limit=REASON_LIMIT,
                  **context)


# --- pages ------------------------------------------------------------------------------------------------------

async def home(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    return _page(request, viewer, "home.html", periods=await _views(request).periods(viewer.person_id, viewer.locale))


async def completeness(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    page = _found(await _views(request).completeness(viewer.person_id, _id(request, "period_id"), viewer.locale))
    return _page(request, viewer, "completeness.html", page=page)


async def upper(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    views, period_id, unit_id = _views(request), _id(request, "period_id"), _id(request, "unit_id")
    page = _found(await views.drill_down(viewer.person_id, period_id, unit_id, viewer.locale))
    return _page(request, viewer, "upper.html", page=page)


async def unit(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    views, period_id, unit_id = _views(request), _id(request, "period_id"), _id(request, "unit_id")
    page = _found(await views.unit(viewer.person_id, period_id, unit_id, viewer.locale))
    return _page(request, viewer, "unit.html", page=page)


async def targets(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    page = _found(await _views(request).targets(viewer.person_id, _id(request, "period_id"), viewer.locale))
    return _page(request, viewer, "targets.html", page=page)


async def review_queue(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    return _page(request, viewer, "review.html", queue=await _views(request).queue(viewer.person_id, viewer.locale))


# --- actions ----------------------------------------------------------------------------------------------------

def _remind_codes(result: RemindResult) -> list[str]:
    if result.kind == "closed":
        return ["remind_closed"]
    if result.kind == "off":
        return ["remind_off"]
    if not result.late:
        return ["all_reported"]
    return ["reminded"] + (["unreachable"] if result.unreachable else [])


async def remind(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    period_id = _id(request, "period_id")
    form = await checked_form(request, viewer)
    unit_id = parse_id(str(form.get("unit", "")))
    upper_id = parse_id(str(form.get("upper", "")))
    result = _found(await _views(request).remind(viewer.person_id, period_id, unit_id=unit_id, upper_id=upper_id))
    back = str(form.get("back", ""))
    back_id = parse_id(str(form.get("back_id", "")))
    path = f"{BASE}/p/{period_id}"
    if back in ("upper", "unit") and back_id is not None:
        path += f"/{back}/{back_id}"
    raise _back(path, _remind_codes(result), result.queued, result.late, result.unreachable)


def _decision_codes(result: DecisionResult) -> tuple[list[str], int]:
    if result.kind != "done":
        return [result.kind if result.kind in FLASHES else "invalid"], 0
    if result.action == "approved":
        return ["approved"], 0
    codes = ["returned" if result.told else "returned_nobody"] + (["cut"] if result.cut else [])
    return codes, result.told


async def decide(request: web.Request) -> web.Response:
    viewer = await viewer_of(request)
    submission_id = _id(request, "submission_id")
    form = await checked_form(request, viewer)
    revision = _found(parse_id(str(form.get("revision", ""))))
    reason = str(form.get("reason", ""))[:20_000]
    fields = [str(v)[:100] for v in form.getall("field", [])][:200]
    result = _found(await _views(request).decide(viewer.person_id, submission_id, revision,
                                                 str(form.get("action", "")), reason, viewer.locale, fields))
    codes, n = _decision_codes(result)
    path = f"{BASE}/review"
    if str(form.get("back", "")) == "unit" and result.period_id is not None and result.unit_id is not None:
        path = f"{BASE}/p/{result.period_id}/unit/{result.unit_id}"
    raise _back(path, codes, n)


async def download(request: web.Request) -> web.StreamResponse:
    viewer = await viewer_of(request)
    fmt = request.match_info.get("fmt", "")
    stored = _found(await _views(request).download(viewer.person_id, _id(request, "period_id"), fmt, viewer.locale))
    return web.FileResponse(stored.path, headers={
        "Content-Type": stored.mime, "Content-Disposition": f'attachment; filename="{stored.name}"',
        "Cache-Control": "private, no-store"})


IMAGES = frozenset({"image/jpeg", "image/png", "image/webp"})


async def kept_file(request: web.Request) -> web.StreamResponse:
    viewer = await viewer_of(request)
    stored = _found(await _views(request).photo(viewer.person_id, _id(request, "upload_id")))
    image = stored.mime in IMAGES
    # A picture shows in the page; anything else is only downloaded, never rendered by the browser.
    disposition = "inline" if image else "attachment"
    name = "".join(ch for ch in stored.path.name if ch.isascii() and (ch.isalnum() or ch in "._-")) or "file"
    return web.FileResponse(stored.path, headers={
        "Content-Type": stored.mime if image else "application/octet-stream",
        "Content-Disposition": f'{disposition}; filename="{name}"', "Cache-Control": "private, no-store"})


def add_routes(app: web.Application) -> None:
    """The pages' routes (paths under /dashboard); the app holds the DashboardViews under VIEWS_KEY."""
    app.router.add_get("/home", home)
    app.router.add_get("/p/{period_id}", completeness)
    app.router.add_get("/p/{period_id}/upper/{unit_id}", upper)
    app.router.add_get("/p/{period_id}/unit/{unit_id}", unit)
    app.router.add_get("/p/{period_id}/targets", targets)
    app.router.add_post("/p/{period_id}/remind", remind)
    app.router.add_get("/p/{period_id}/download/{fmt}", download)
    app.router.add_get("/review", review_queue)
    app.router.add_post("/review/{submission_id}", decide)
    app.router.add_get("/file/{upload_id}", kept_file)


def pages(views: DashboardViews) -> Callable[[web.Application], None]:
    """For build_dashboard_app's `routes`: keeps `views` in the app and adds the pages' routes."""
    def add(app: web.Application) -> None:
        app[VIEWS_KEY] = views
        add_routes(app)
    return add
