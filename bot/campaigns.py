"""Load and validate campaign files (campaigns/*.toml).

A broken file is reported with its path, the key that is wrong and what was expected, so that the
person editing the file can fix it without reading code.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.campaign_model import Campaign
from bot.errors import N_, TranslatableError, Translate

# Problems a person writing a campaign file is told in their own language (the others name keys and values,
# which read the same in every language): pydantic error type -> msgid, its {placeholders} from the error.
_TRANSLATED = {
    "due_time": N_('not a time of day: {value}; write hours and minutes, e.g. time = "{example}"'),
}


@dataclass(frozen=True, slots=True)
class CampaignProblem:
    path: Path
    key: str
    message: str
    msgid: str | None = None  # set for the problems told in the reader's language
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else str(self.path)
        return f"{where}: {self.message}"

    def render(self, t: Translate) -> str:
        if self.msgid is None:
            return str(self)
        where = f"{self.path}: {self.key}" if self.key else str(self.path)
        return f"{where}: {t.gettext(self.msgid, **self.params)}"


@dataclass(frozen=True, slots=True)
class LoadedCampaign:
    campaign: Campaign
    path: Path
    sha256: str


class CampaignFileError(TranslatableError):
    """Campaign files that cannot be loaded, with every problem found. The problems are pydantic's and TOML's
    messages, in English: they name keys and values, which read the same in every language."""

    msgid = N_("{problems}")

    def __init__(self, problems: list[CampaignProblem]) -> None:
        super().__init__(problems="\n".join(str(p) for p in problems))
        self.problems = problems


def _key_path(loc: tuple[Any, ...], data: Any) -> str:
    """Render a pydantic location as a key path: periods[0](dot-1).due.date."""
    parts: list[str] = []
    node = data
    for item in loc:
        if isinstance(item, int):
            label = ""
            if isinstance(node, list) and 0 <= item < len(node) and isinstance(node[item], dict):
                name = node[item].get("key") or node[item].get("name")
                label = f"({name})" if isinstance(name, str) else ""
            text = f"[{item}]{label}"
            if parts:
                parts[-1] += text
            else:
                parts.append(text)
        else:
            parts.append(str(item))
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def load_campaign_file(path: Path) -> LoadedCampaign:
    """Parse and validate one campaign file; raise CampaignFileError listing every problem."""
    raw = path.read_bytes()
    return LoadedCampaign(load_campaign_bytes(raw, path), path, hashlib.sha256(raw).hexdigest())


def load_campaign_bytes(raw: bytes, path: Path) -> Campaign:
    """Parse and validate a campaign file's content; `path` names it in the problems (and its stem must be
    the campaign's id), so a draft can be checked without being written anywhere."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise CampaignFileError([CampaignProblem(path, "", f"not UTF-8 text (byte {exc.start})")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError([CampaignProblem(path, "", f"not valid TOML: {exc}")]) from None
    try:
        campaign = Campaign.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (misspelt, or not part of a campaign file)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            msgid = _TRANSLATED.get(err["type"])
            problems.append(CampaignProblem(path, _key_path(tuple(err["loc"]), data), msg, msgid,
                                            dict(err.get("ctx") or {}) if msgid else {}))
        raise CampaignFileError(problems) from None
    expected = path.stem
    if campaign.id != expected:
        raise CampaignFileError(
            [CampaignProblem(path, "id", f"is {campaign.id!r} but the file is named {expected!r}.toml")]
        )
    return campaign


def load_campaign_dir(directory: Path) -> tuple[list[LoadedCampaign], list[CampaignProblem]]:
    """Load every *.toml in a folder; good campaigns and the problems of the broken ones."""
    loaded: list[LoadedCampaign] = []
    problems: list[CampaignProblem] = []
    if not directory.is_dir():
        return [], [CampaignProblem(directory, "", "campaign folder does not exist")]
    for path in sorted(directory.glob("*.toml")):
        try:
            loaded.append(load_campaign_file(path))
        except CampaignFileError as exc:
            problems.extend(exc.problems)
    return loaded, problems


def campaign_to_json(campaign: Campaign) -> dict[str, Any]:
    """The parsed campaign for tooling: due instants as ISO-8601 with their zone, numeric thresholds."""
    zone = campaign.zone
    out = json.loads(campaign.model_dump_json(exclude_none=True))
    for period_out, period in zip(out["periods"], campaign.periods, strict=True):
        period_out["due_at"] = period.due_at(zone).isoformat()
        period_out["closes_at"] = period.closes_at(zone).isoformat()
    for target_out, target in zip(out["targets"], campaign.targets, strict=True):
        target_out["threshold"] = float(target.threshold)
        target_out["scope"] = {"kinds": [k.value for k in campaign.target_scope(target).kinds]}
    return out


@dataclass(frozen=True, slots=True)
class AudienceWarning:
    """A campaign that may reach the wrong units: no `within` while the organisation has several roots
    (several provinces in one database: every one of them would receive it), or a `within` code the
    organisation does not have (nobody receives it)."""

    campaign_id: str
    within: str | None
    roots: tuple[str, ...]


def audience_warnings(campaigns: list[Campaign], units: list[tuple[str, str | None]]) -> list[AudienceWarning]:
    """Check each campaign's `audience.within` against the organisation, given as (code, parent code)."""
    codes = {code for code, _parent in units}
    roots = tuple(sorted(code for code, parent in units if parent is None))
    out = []
    for c in campaigns:
        within = c.audience.within
        if (within is None and len(roots) > 1) or (within is not None and within not in codes):
            out.append(AudienceWarning(c.id, within, roots))
    return out
