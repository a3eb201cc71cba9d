"""One Jinja2 environment for the dashboard: autoescaped, strict about undefined names, templates and their
strings in the gettext catalogs (babel.cfg extracts `_()` from them), numbers and dates in the reader's locale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from bot.i18n import Translator

if TYPE_CHECKING:
    from collections.abc import Callable

    from handlers.web.session import Viewer

TEMPLATES = Path(__file__).parent / "templates"
NO_STORE = "no-store"


@dataclass(frozen=True, slots=True)
class WebContext:
    """What every page needs besides the person: their language's translator, the bot's zone and language, and
    whether cookies travel only over https."""

    translator_for: Callable[[str], Translator]
    zone: ZoneInfo
    default_locale: str = "vi"
    secure_cookies: bool = False


CONTEXT_KEY = web.AppKey("web_context", WebContext)

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True,
                                                                                      default_for_string=True),
                   undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def _tz(context: Context) -> tuple[Translator, ZoneInfo]:
    return context["_t"], context["_zone"]


@pass_context
def _num(context: Context, value: int | float | Decimal | None) -> str:
    return "—" if value is None else _tz(context)[0].number(value)


@pass_context
def _pct(context: Context, value: float | Decimal | None) -> str:
    return "—" if value is None else _tz(context)[0].percent(value)


@pass_context
def _date(context: Context, value: date | datetime | None) -> str:
    t, zone = _tz(context)
    return "—" if value is None else t.date(value, zone)


@pass_context
def _datetime(context: Context, value: datetime | None) -> str:
    t, zone = _tz(context)
    return "—" if value is None else t.datetime(value, zone)


@pass_context
def _due(context: Context, value: datetime | None) -> str:
    """A due instant as the chat writes it: the day alone at midnight, else the time and the day."""
    t, zone = _tz(context)
    return "—" if value is None else t.due_date(value, zone)


_env.filters.update(num=_num, pct=_pct, date=_date, datetime=_datetime, due=_due)


def render(request: web.Request, name: str, *, viewer: Viewer | None = None, t: Translator | None = None,
           status: int = 200, **context: Any) -> web.Response:
    """The page `name` for this request, in the viewer's language (or `t`, or the bot's default language)."""
    ctx = request.config_dict[CONTEXT_KEY]
    tr = viewer.t if viewer is not None else (t or ctx.translator_for(ctx.default_locale))
    template = _env.get_template(name)
    body = template.render(
        _=tr.gettext, ngettext=tr.ngettext, csrf=viewer.csrf if viewer else "", viewer=viewer, lang=tr.locale,
        _t=tr, _zone=ctx.zone, **context)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = NO_STORE
    return response
