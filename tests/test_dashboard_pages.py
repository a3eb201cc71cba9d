"""The dashboard's pages and actions (issue 16) for an officer and for the department, over the two-province
world of the authorisation matrix: Vietnamese formatting, the drill-down, a unit's answers, revisions, history and
photos, the targets, "Nhắc" for one unit and for a row, approve and return, downloads, and CSRF."""

from __future__ import annotations

from pathlib import Path

from bot.domain import Role
from tests.dashboard_world import Dash, dash_fixture  # noqa: F401  (the fixture)
from tests.test_authorisation_matrix import world  # noqa: F401  (the fixture)


async def test_smoke(dash: Dash) -> None:
    token = await dash.login(dash.w.actors[("DL", Role.DEPARTMENT)])
    for path in ("/home", f"/p/{dash.w.dot1['DL']}", f"/p/{dash.w.dot1['DL']}/upper/{dash.w.units['DL-BMT'].id}",
                 f"/p/{dash.w.dot1['DL']}/unit/{dash.w.units['DL-BMT-002'].id}", f"/p/{dash.w.dot1['DL']}/targets",
                 "/review"):
        status, text, _h = await dash.get(token, path)
        print(path, status)
        Path(f"/tmp/p16/{path.replace('/', '_')}.html").write_text(text)
        assert status == 200, text
