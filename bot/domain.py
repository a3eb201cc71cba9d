"""Plain records of the organisation: units, people, memberships, invites.

Campaign definitions (forms, periods, targets) live in ``bot.campaign_model``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class UnitKind(enum.StrEnum):
    """Kinds of union units, named as the plans name them."""

    PROVINCE = "province"  # LĐLĐ tỉnh
    UPPER = "upper"  # công đoàn cấp trên trực tiếp cơ sở: LĐLĐ huyện, CĐ ngành, CĐ Viên chức tỉnh
    ENTERPRISE_STATE = "enterprise_state"  # CĐCS doanh nghiệp nhà nước
    ENTERPRISE_PRIVATE = "enterprise_private"  # CĐCS doanh nghiệp ngoài nhà nước
    PUBLIC_AGENCY = "public_agency"  # CĐCS cơ quan hành chính, đơn vị sự nghiệp (HCSN)

    @property
    def is_grassroots(self) -> bool:
        return self in GRASSROOTS_KINDS

    @property
    def is_enterprise(self) -> bool:
        return self in (UnitKind.ENTERPRISE_STATE, UnitKind.ENTERPRISE_PRIVATE)


GRASSROOTS_KINDS = frozenset({UnitKind.ENTERPRISE_STATE, UnitKind.ENTERPRISE_PRIVATE, UnitKind.PUBLIC_AGENCY})

# Spellings accepted in import files and campaign scopes, besides the canonical values.
UNIT_KIND_ALIASES: dict[str, UnitKind] = {
    "tinh": UnitKind.PROVINCE,
    "ldld_tinh": UnitKind.PROVINCE,
    "cap_tren": UnitKind.UPPER,
    "cap_tren_co_so": UnitKind.UPPER,
    "dn_nha_nuoc": UnitKind.ENTERPRISE_STATE,
    "dn_nn": UnitKind.ENTERPRISE_STATE,
    "dn_ngoai_nha_nuoc": UnitKind.ENTERPRISE_PRIVATE,
    "dn_ngoai_nn": UnitKind.ENTERPRISE_PRIVATE,
    "hcsn": UnitKind.PUBLIC_AGENCY,
}

# Groups a campaign may name in a scope instead of listing kinds one by one.
UNIT_KIND_GROUPS: dict[str, frozenset[UnitKind]] = {
    "grassroots": GRASSROOTS_KINDS,
    "enterprise": frozenset({UnitKind.ENTERPRISE_STATE, UnitKind.ENTERPRISE_PRIVATE}),
}


def parse_unit_kind(text: str) -> UnitKind:
    """Read a unit kind from its canonical name or an accepted alias; raise ValueError."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return UnitKind(key)
    except ValueError:
        pass
    if key in UNIT_KIND_ALIASES:
        return UNIT_KIND_ALIASES[key]
    raise ValueError(text)


class Role(enum.StrEnum):
    CHAIR = "chair"  # chủ tịch / người được giao báo cáo của CĐCS
    OFFICER = "officer"  # cán bộ công đoàn cấp trên trực tiếp cơ sở
    DEPARTMENT = "department"  # cán bộ Ban TG-NC LĐLĐ tỉnh
    ADMIN = "admin"


class Channel(enum.StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    TERMINAL = "terminal"

    @property
    def has_buttons(self) -> bool:
        """Whether replies can carry buttons; elsewhere choices are numbered and moves are typed words."""
        return self is Channel.TELEGRAM


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    kind: UnitKind
    parent_id: int | None
    parent_code: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    full_name: str
    locale: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Membership:
    id: int
    person_id: int
    unit_id: int
    role: Role
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    id: int
    unit_id: int
    role: Role
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None
    revoked_at: datetime | None

    def usable_at(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at
