"""Importing the organisation tree: the sample file, refused files, XLSX and aliases, re-imports, the CLI."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from bot.cli import app
from bot.domain import GRASSROOTS_KINDS, UnitKind
from bot.i18n import Translator
from bot.org_import import ImportProblem, UnitsFileError, check_units, read_units_file
from storage import audit
from storage import units as unit_store
from storage.db import Database
from storage.units import ImportResult
from tests.fakes import FakeClock

HEADER = "code,name,kind,parent_code\n"
PROVINCE = "P,Liên đoàn Lao động tỉnh P,province,\n"  # always line 2 of the small files below
SAMPLE_UNITS = 40  # 1 province + 3 upper + 36 grassroots


# ---------------------------------------------------------------- helpers


def sample_path(repo: Path) -> Path:
    return repo / "bot" / "data" / "sample_units.csv"


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, name: str, rows: list[list[object]]) -> Path:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    path = tmp_path / name
    book.save(path)
    return path


async def import_like_cli(db: Database, path: Path, now: datetime) -> ImportResult:
    """The sequence `units import` runs: read, check against the stored units, refuse or apply."""
    records = read_units_file(path)
    rows, problems = check_units(records, await unit_store.all_units(db))
    if problems:
        raise UnitsFileError(path, problems)
    return await unit_store.apply_import(db, rows, actor="test", now=now)


async def row_counts(db: Database) -> tuple[int, int]:
    """Rows in units (active or not) and in the audit log."""
    return (
        int(await db.fetchval("SELECT count(*) FROM units")),
        int(await db.fetchval("SELECT count(*) FROM audit_log")),
    )


async def code_of(db: Database, unit_id: int | None) -> str | None:
    if unit_id is None:
        return None
    unit = await unit_store.by_id(db, unit_id)
    assert unit is not None
    return unit.code


def sample_with(repo: Path, changes: dict[str, str]) -> str:
    """The sample file's text with some lines (found by their code) replaced."""
    lines = sample_path(repo).read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        code = line.split(",", 1)[0]
        out.append(changes.get(code, line))
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the sample organisation


def test_the_sample_file_passes_the_check(repo: Path) -> None:
    rows, problems = check_units(read_units_file(sample_path(repo)), [])

    assert problems == []
    kinds = Counter(r.kind for r in rows)
    assert kinds[UnitKind.PROVINCE] == 1
    assert kinds[UnitKind.UPPER] == 3
    grassroots = [r for r in rows if r.kind in GRASSROOTS_KINDS]
    assert len(grassroots) >= 30
    assert {r.kind for r in grassroots} == set(GRASSROOTS_KINDS)
    assert len(rows) == SAMPLE_UNITS


async def test_importing_the_sample_creates_the_tree(db: Database, repo: Path, clock: FakeClock) -> None:
    result = await import_like_cli(db, sample_path(repo), clock.now())

    assert result == ImportResult(created=SAMPLE_UNITS, updated=0, unchanged=0)
    assert await unit_store.count(db) == SAMPLE_UNITS
    units = {u.code: u for u in await unit_store.all_units(db)}
    assert units["DL"].parent_id is None
    assert units["DL-BMT"].parent_code == "DL"
    assert units["DL-KP-006"].name == "Công đoàn Công ty TNHH Sản xuất, Thương mại Cà phê Ea Phê"  # quoted comma
    # Every creation is in the audit log with what was created.
    created = await audit.entries(db, "unit", "DL-BMT-001")
    assert [e["action"] for e in created] == ["create"]
    assert created[0]["detail"] == {
        "name": "Công đoàn Công ty TNHH MTV Cà phê Buôn Ma Thuột",
        "kind": "enterprise_state",
        "parent": "DL-BMT",
    }


async def test_subtree_and_ancestors_of_the_sample(db: Database, repo: Path, clock: FakeClock) -> None:
    await import_like_cli(db, sample_path(repo), clock.now())
    upper = await unit_store.by_code(db, "DL-BMT")
    leaf = await unit_store.by_code(db, "DL-BMT-007")
    assert upper is not None
    assert leaf is not None

    below = await unit_store.subtree(db, upper.id)
    assert [u.code for u in below] == ["DL-BMT", *(f"DL-BMT-{i:03d}" for i in range(1, 13))]

    above = await unit_store.ancestors(db, leaf.id)
    assert [u.code for u in above] == ["DL-BMT", "DL"]
    province = await unit_store.by_code(db, "DL")
    assert province is not None
    assert await unit_store.ancestors(db, province.id) == []


# ---------------------------------------------------------------- refused files

# (file name, content, [(line, [texts its str() must contain])])
BAD_FILES = {
    "unknown parent": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,NOPE\n",
        [(3, ["U1", "NOPE"])],
    ),
    "duplicate code": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,P\nU1,LĐLĐ huyện khác,upper,P\n",
        [(4, ["U1", "line 3"])],
    ),
    "unknown kind": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,quan_huyen,P\n",
        [(3, ["U1", "quan_huyen"])],
    ),
    "cycle of two upper units": (
        "units.csv",
        HEADER + PROVINCE + "A,LĐLĐ huyện A,upper,B\nB,LĐLĐ huyện B,upper,A\n",
        [(3, ["A", "cycle"]), (4, ["B", "cycle"])],
    ),
    "own parent": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,U1\n",
        [(3, ["U1"])],
    ),
    "empty name": (
        "units.csv",
        HEADER + PROVINCE + "U1,,upper,P\n",
        [(3, ["U1", "empty"])],
    ),
    "empty code": (
        "units.csv",
        HEADER + PROVINCE + ",LĐLĐ huyện 1,upper,P\n",
        [(3, ["code is empty"])],
    ),
    "name too long": (
        "units.csv",
        HEADER + PROVINCE + "U1," + "Công đoàn " * 21 + ",upper,P\n",
        [(3, ["U1", "200"])],
    ),
    "code too long": (
        "units.csv",
        HEADER + PROVINCE + "U" * 41 + ",LĐLĐ huyện 1,upper,P\n",
        [(3, ["U" * 41])],
    ),
    "code with a space and Vietnamese letters": (
        "units.csv",
        HEADER + PROVINCE + "ĐL BMT,LĐLĐ huyện 1,upper,P\n",
        [(3, ["ĐL BMT"])],
    ),
    "grassroots unit as a parent": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,P\nG1,CĐCS 1,enterprise_state,U1\nG2,CĐCS 2,public_agency,G1\n",
        [(5, ["G2", "G1", "grassroots"])],
    ),
    "non-province without a parent": (
        "units.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,\n",
        [(3, ["U1", "province"])],
    ),
    "province with a parent": (
        "units.csv",
        HEADER + PROVINCE + "P2,LĐLĐ tỉnh 2,province,P\n",
        [(3, ["P2"])],
    ),
    "header missing a column": (
        "units.csv",
        "code,name,kind\nP,LĐLĐ tỉnh P,province\n",
        [(1, ["parent_code"])],
    ),
    "cp1258 text": (
        "units.csv",
        HEADER.encode("ascii") + "P,Công đoàn,province,\n".encode("cp1258"),
        [(2, ["UTF-8"])],
    ),
    "UTF-16 text": (
        "units.csv",
        b"\xff\xfe" + (HEADER + PROVINCE).encode("utf-16-le"),
        [(1, ["UTF-8"])],
    ),
    "empty file": ("units.csv", b"", [(None, ["empty"])]),
    "a .doc file": ("units.doc", HEADER + PROVINCE, [(None, [".csv or .xlsx"])]),
    "not really an xlsx workbook": ("units.xlsx", HEADER + PROVINCE, [(None, [".xlsx"])]),
    "a missing file": ("", None, [(None, ["cannot read"])]),
    "several problems at once": (
        "units.csv",
        HEADER
        + PROVINCE  # 2: fine
        + "U1,LĐLĐ huyện 1,upper,NOPE\n"  # 3: unknown parent
        + "U1,LĐLĐ huyện 1 lần nữa,upper,P\n"  # 4: duplicate
        + "U3,,upper,P\n"  # 5: empty name
        + "U4,LĐLĐ huyện 4,huyen,P\n"  # 6: unknown kind
        + "U5,LĐLĐ huyện 5,upper,P\n"  # 7: fine
        + "G1,CĐCS 1,hcsn,U5\n"  # 8: fine
        + "G2,CĐCS 2,dn_nn,G1\n"  # 9: grassroots parent
        + "U9,LĐLĐ huyện 9,upper,\n",  # 10: empty parent
        [
            (3, ["U1", "NOPE"]),
            (4, ["U1", "line 3"]),
            (5, ["U3"]),
            (6, ["U4", "huyen"]),
            (9, ["G2", "G1"]),
            (10, ["U9"]),
        ],
    ),
}


def assert_problems(problems: list[ImportProblem], expected: list[tuple[int | None, list[str]]]) -> None:
    text = "\n".join(str(p) for p in problems)
    assert [p.line for p in problems] == [line for line, _ in expected], text
    for problem, (line, needles) in zip(problems, expected, strict=True):
        rendered = str(problem)
        if line is not None:
            assert rendered.startswith(f"line {line}: "), rendered
        for needle in needles:
            assert needle in rendered, rendered


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
async def test_a_bad_file_is_refused_whole_and_changes_nothing(
    case: str, db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    name, content, expected = BAD_FILES[case]
    path = write(tmp_path, name, content) if content is not None else tmp_path / "absent.csv"
    await import_like_cli(db, sample_path(repo), clock.now())
    before = await row_counts(db)

    with pytest.raises(UnitsFileError) as refused:
        await import_like_cli(db, path, clock.advance(hours=1))

    assert_problems(refused.value.problems, expected)
    assert str(path) in str(refused.value)
    assert await row_counts(db) == before


@pytest.mark.parametrize(
    "case",
    ["unknown parent", "duplicate code", "empty name", "grassroots unit as a parent", "several problems at once"],
)
def test_check_units_returns_no_rows_when_any_row_is_bad(case: str, tmp_path: Path) -> None:
    name, content, expected = BAD_FILES[case]
    rows, problems = check_units(read_units_file(write(tmp_path, name, content)), [])

    assert rows == []
    assert_problems(problems, expected)


def test_every_row_problem_names_the_unit_code(tmp_path: Path) -> None:
    """Every per-row problem names the unit's code, so a department reading the list can tell which
    unit it is about. (Regression: 'unknown kind' once said only the line.)"""
    path = write(tmp_path, "units.csv", HEADER + PROVINCE + "U1,LĐLĐ huyện 1,quan_huyen,P\n")
    _, problems = check_units(read_units_file(path), [])

    assert len(problems) == 1
    assert "U1" in str(problems[0])


def test_problems_render_in_vietnamese(repo: Path, tmp_path: Path) -> None:
    vi = Translator("vi", repo / "locales")
    path = write(
        tmp_path, "units.csv", HEADER + ",Không mã,province,\nU1,LĐLĐ huyện 1,upper,NOPE\nU2,LĐLĐ huyện 2,huyen,P\n"
    )
    _, problems = check_units(read_units_file(path), [])

    rendered = [p.render(vi) for p in problems]
    assert rendered[:2] == [
        "dòng 2: mã đơn vị bị trống",
        "dòng 3: U1: mã cấp trên NOPE không tồn tại (không có trong tệp lẫn trong tổ chức)",
    ]
    assert rendered[2].startswith('dòng 4: U2: loại "huyen" không hợp lệ; cần là một trong: province, upper')
    with pytest.raises(UnitsFileError) as empty:
        read_units_file(write(tmp_path, "empty.csv", b""))
    assert [p.render(vi) for p in empty.value.problems] == ["tệp không có dữ liệu"]
    # The English text stays the message id.
    en = Translator("en", repo / "locales")
    assert problems[0].render(en) == "line 2: the code is empty"


# ---------------------------------------------------------------- formats and aliases


async def test_an_xlsx_workbook_imports(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    path = write_xlsx(
        tmp_path,
        "units.xlsx",
        [
            ["code", "name", "kind", "parent_code"],
            ["P", "Liên đoàn Lao động tỉnh P", "province", None],
            ["P-U1", "Liên đoàn Lao động huyện 1", "upper", "P"],
            [1001, "Công đoàn Trường Tiểu học số 1", "public_agency", "P-U1"],
        ],
    )

    result = await import_like_cli(db, path, clock.now())

    assert result == ImportResult(created=3, updated=0, unchanged=0)
    school = await unit_store.by_code(db, "1001")  # a number typed in Excel is read as its text
    assert school is not None
    assert school.parent_code == "P-U1"
    assert school.kind is UnitKind.PUBLIC_AGENCY


def test_xlsx_problems_carry_the_sheet_row_number(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        "units.xlsx",
        [
            ["code", "name", "kind", "parent_code"],
            ["P", "Liên đoàn Lao động tỉnh P", "province", None],
            ["U1", "Liên đoàn Lao động huyện 1", "upper", "NOPE"],
        ],
    )
    _, problems = check_units(read_units_file(path), [])

    assert_problems(problems, [(3, ["U1", "NOPE"])])


async def test_vietnamese_headers_and_kind_aliases(db: Database, tmp_path: Path, clock: FakeClock) -> None:
    path = write_xlsx(
        tmp_path,
        "don_vi.xlsx",
        [
            ["Mã", "Tên", "Loại", "Mã cấp trên"],
            ["T", "Liên đoàn Lao động tỉnh T", "tinh", None],
            ["T-H", "Liên đoàn Lao động huyện H", "cap_tren", "T"],
            ["T-H-1", "Công đoàn Công ty Cà phê 1", "dn_nha_nuoc", "T-H"],
            ["T-H-2", "Công đoàn Công ty TNHH 2", "DN-ngoai-NN", "T-H"],
            ["T-H-3", "Công đoàn Trường THCS 3", "HCSN", "T-H"],
        ],
    )

    await import_like_cli(db, path, clock.now())

    kinds = {u.code: u.kind for u in await unit_store.all_units(db)}
    assert kinds == {
        "T": UnitKind.PROVINCE,
        "T-H": UnitKind.UPPER,
        "T-H-1": UnitKind.ENTERPRISE_STATE,
        "T-H-2": UnitKind.ENTERPRISE_PRIVATE,
        "T-H-3": UnitKind.PUBLIC_AGENCY,
    }


@pytest.mark.parametrize(
    ("label", "content"),
    [
        ("semicolons", "code;name;kind;parent_code\nP;LĐLĐ tỉnh P;province;\nP-1;CĐCS Sở Tài chính, Kế hoạch;hcsn;P\n"),
        ("UTF-8 BOM", "\ufeffcode,name,kind,parent_code\nP,LĐLĐ tỉnh P,province,\nP-1,CĐCS Sở Tư pháp,hcsn,P\n"),
        (
            "BOM and Vietnamese header",
            "\ufeffmã,tên,loại,mã cấp trên\nP,LĐLĐ tỉnh P,tinh,\nP-1,CĐCS Sở Nội vụ,hcsn,P\n",
        ),
        ("Windows line ends", "code,name,kind,parent_code\r\nP,LĐLĐ tỉnh P,province,\r\nP-1,CĐCS Báo,hcsn,P\r\n"),
        ("blank lines", "code,name,kind,parent_code\n\nP,LĐLĐ tỉnh P,province,\n,,,\nP-1,CĐCS Đài,hcsn,P\n\n"),
    ],
)
async def test_csv_variants_import(label: str, content: str, db: Database, tmp_path: Path, clock: FakeClock) -> None:
    result = await import_like_cli(db, write(tmp_path, "units.csv", content), clock.now())

    assert result.created == 2, label
    child = await unit_store.by_code(db, "P-1")
    assert child is not None
    assert child.parent_code == "P"
    assert child.kind is UnitKind.PUBLIC_AGENCY


def test_semicolon_file_keeps_commas_in_names(tmp_path: Path) -> None:
    path = write(
        tmp_path, "units.csv", "code;name;kind;parent_code\nP;LĐLĐ tỉnh P;province;\nP-1;Sở A, B và C;hcsn;P\n"
    )
    rows, problems = check_units(read_units_file(path), [])

    assert problems == []
    assert rows[1].name == "Sở A, B và C"


def test_decomposed_vietnamese_is_stored_composed(tmp_path: Path) -> None:
    name = "Công đoàn Bệnh viện Đa khoa"
    decomposed = unicodedata.normalize("NFD", name)
    assert decomposed != name
    path = write(tmp_path, "units.csv", HEADER + f"P,{decomposed},province,\n")

    rows, _ = check_units(read_units_file(path), [])

    assert rows[0].name == name


def test_a_txt_file_is_read_as_csv(tmp_path: Path) -> None:
    rows, problems = check_units(read_units_file(write(tmp_path, "units.txt", HEADER + PROVINCE)), [])

    assert problems == []
    assert [r.code for r in rows] == ["P"]


# ---------------------------------------------------------------- re-import


async def test_reimport_updates_in_place_and_keeps_history(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    await import_like_cli(db, sample_path(repo), clock.now())
    ids_before = {u.code: u.id for u in await unit_store.all_units(db)}
    old_name = "Công đoàn Trung tâm Y tế huyện Krông Pắc"
    new_name = "Công đoàn Trung tâm Y tế huyện Krông Pắc (sáp nhập)"
    changed = write(
        tmp_path,
        "changed.csv",
        sample_with(
            repo,
            {
                "DL-KP-009": f"DL-KP-009,{new_name},public_agency,DL-KP",
                "DL-BMT-012": "DL-BMT-012,Công đoàn Ủy ban nhân dân phường Tân Lợi,public_agency,DL-KP",
            },
        ),
    )

    result = await import_like_cli(db, changed, clock.advance(days=1))

    assert result == ImportResult(created=0, updated=2, unchanged=SAMPLE_UNITS - 2)
    assert {u.code: u.id for u in await unit_store.all_units(db)} == ids_before
    moved = await unit_store.by_code(db, "DL-BMT-012")
    renamed = await unit_store.by_code(db, "DL-KP-009")
    assert moved is not None
    assert renamed is not None
    assert moved.parent_code == "DL-KP"
    assert renamed.name == new_name
    assert len(await unit_store.subtree(db, ids_before["DL-BMT"])) == 12
    assert len(await unit_store.subtree(db, ids_before["DL-KP"])) == 14

    moves = await audit.entries(db, "unit", "DL-BMT-012")
    assert [e["action"] for e in moves] == ["create", "update"]
    assert moves[1]["detail"] == {"parent": {"from": "DL-BMT", "to": "DL-KP"}}
    assert moves[1]["actor"] == "test"
    renames = await audit.entries(db, "unit", "DL-KP-009")
    assert [e["action"] for e in renames] == ["create", "update"]
    assert renames[1]["detail"] == {"name": {"from": old_name, "to": new_name}}

    audit_rows = (await row_counts(db))[1]
    again = await import_like_cli(db, changed, clock.advance(days=1))
    assert again == ImportResult(created=0, updated=0, unchanged=SAMPLE_UNITS)
    assert (await row_counts(db))[1] == audit_rows  # nothing changed, nothing logged


async def test_a_partial_file_may_name_parents_that_are_only_stored(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    await import_like_cli(db, sample_path(repo), clock.now())
    path = write(tmp_path, "new.csv", HEADER + "DL-BMT-013,Công đoàn Trường THCS Phan Chu Trinh,hcsn,DL-BMT\n")

    result = await import_like_cli(db, path, clock.now())

    assert result == ImportResult(created=1, updated=0, unchanged=0)
    new = await unit_store.by_code(db, "DL-BMT-013")
    assert new is not None
    assert [u.code for u in await unit_store.ancestors(db, new.id)] == ["DL-BMT", "DL"]


async def test_a_grassroots_unit_cannot_become_a_parent_of_a_stored_one(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    await import_like_cli(db, sample_path(repo), clock.now())
    before = await row_counts(db)
    path = write(tmp_path, "bad.csv", HEADER + "DL-BMT-013,CĐCS mới,hcsn,DL-BMT-001\n")

    with pytest.raises(UnitsFileError) as refused:
        await import_like_cli(db, path, clock.now())

    assert_problems(refused.value.problems, [(2, ["DL-BMT-013", "DL-BMT-001"])])
    assert await row_counts(db) == before


async def test_upper_units_pointing_at_each_other_are_refused(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    await import_like_cli(db, sample_path(repo), clock.now())
    before = await row_counts(db)
    path = write(
        tmp_path,
        "cycle.csv",
        HEADER
        + "DL-BMT,Liên đoàn Lao động thành phố Buôn Ma Thuột,upper,DL-KP\n"
        + "DL-KP,Liên đoàn Lao động huyện Krông Pắc,upper,DL-BMT\n",
    )

    with pytest.raises(UnitsFileError) as refused:
        await import_like_cli(db, path, clock.now())

    assert_problems(refused.value.problems, [(2, ["DL-BMT", "cycle"]), (3, ["DL-KP", "cycle"])])
    assert await row_counts(db) == before


async def test_a_cycle_through_the_stored_tree_is_refused(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """Stored: DL-X under DL, DL-Y under DL-X. The file moves only DL-X under DL-Y: the loop closes
    through a link that exists only in the database."""
    await import_like_cli(db, sample_path(repo), clock.now())
    stacked = HEADER + "DL-X,Công đoàn ngành X,upper,DL\nDL-Y,Công đoàn ngành Y,upper,DL-X\n"
    await import_like_cli(db, write(tmp_path, "stacked.csv", stacked), clock.now())
    before = await row_counts(db)

    with pytest.raises(UnitsFileError) as refused:
        await import_like_cli(
            db, write(tmp_path, "loop.csv", HEADER + "DL-X,Công đoàn ngành X,upper,DL-Y\n"), clock.now()
        )

    assert_problems(refused.value.problems, [(2, ["DL-X", "cycle"])])
    assert await row_counts(db) == before


async def test_a_unit_with_units_under_it_cannot_become_grassroots(
    db: Database, repo: Path, tmp_path: Path, clock: FakeClock
) -> None:
    """A stored upper unit re-imported as a grassroots kind would leave its stored children under a
    grassroots union, the state the rule forbids. (Regression: the rule was once checked only for the
    rows of the file.)"""
    await import_like_cli(db, sample_path(repo), clock.now())
    path = write(
        tmp_path, "kind.csv", HEADER + "DL-BMT,Liên đoàn Lao động thành phố Buôn Ma Thuột,enterprise_state,DL\n"
    )

    _, problems = check_units(read_units_file(path), await unit_store.all_units(db))

    assert problems, "DL-BMT has 12 grassroots units under it and cannot itself become a grassroots union"
    assert "DL-BMT" in str(problems[0])


# ---------------------------------------------------------------- the command line


def db_units(config_path: Path) -> list[str]:
    path = config_path.parent / "data" / "test.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT code FROM units ORDER BY code")]


def test_cli_refuses_a_bad_file_then_imports_the_sample(config_path: Path, repo: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = write(
        tmp_path,
        "bad.csv",
        HEADER + PROVINCE + "U1,LĐLĐ huyện 1,upper,NOPE\nU1,Trùng,upper,P\nG1,CĐCS 1,hcsn,\n",
    )

    refused = runner.invoke(app, ["--config", str(config_path), "units", "import", str(bad)])

    assert refused.exit_code == 1, refused.output
    assert "bị từ chối" in refused.stderr
    assert "dòng 3: U1: mã cấp trên NOPE không tồn tại" in refused.stderr
    assert "dòng 4: mã U1 bị trùng (đã có ở dòng 3)" in refused.stderr
    assert "dòng 5: G1:" in refused.stderr
    assert db_units(config_path) == []
    listed = runner.invoke(app, ["--config", str(config_path), "units", "list"])
    assert listed.exit_code == 0, listed.output
    assert "U1" not in listed.output
    assert not re.search(r"^P\s", listed.output, re.MULTILINE)

    imported = runner.invoke(app, ["--config", str(config_path), "units", "import", str(sample_path(repo))])
    assert imported.exit_code == 0, imported.output
    assert "40" in imported.stdout

    tree = runner.invoke(app, ["--config", str(config_path), "units", "list", "--tree"])
    assert tree.exit_code == 0, tree.output
    assert "DL-BMT  Liên đoàn Lao động thành phố Buôn Ma Thuột  (upper)" in tree.stdout
    assert "DL-CDVC-012" in tree.stdout
    assert tree.stdout.index("DL-BMT ") < tree.stdout.index("DL-BMT-001")

    flat = runner.invoke(app, ["--config", str(config_path), "units", "list"])
    # Rich expands the tabs of the flat listing into spaces.
    assert re.search(r"^DL-BMT-001\s+enterprise_state\s+DL-BMT\s+Công đoàn", flat.stdout, re.MULTILINE)
    assert len(db_units(config_path)) == SAMPLE_UNITS


def test_cli_prints_a_unit_name_with_brackets_as_written(config_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    path = write(tmp_path, "units.csv", HEADER + "P,LĐLĐ tỉnh [bold]P[/bold],province,\n")
    assert runner.invoke(app, ["--config", str(config_path), "units", "import", str(path)]).exit_code == 0

    tree = runner.invoke(app, ["--config", str(config_path), "units", "list", "--tree"])

    assert "[bold]P[/bold]" in tree.stdout


async def test_a_unit_emptied_in_the_same_file_may_become_grassroots(
    db: Database, tmp_path: Path, clock: FakeClock
) -> None:
    stored = HEADER + PROVINCE + "P-U,LĐLĐ huyện U,upper,P\nP-U-1,CĐCS 1,hcsn,P-U\n"
    await import_like_cli(db, write(tmp_path, "stored.csv", stored), clock.now())
    change = HEADER + "P-U,Công đoàn Công ty U,enterprise_state,P\nP-U-1,CĐCS 1,hcsn,P\n"

    result = await import_like_cli(db, write(tmp_path, "change.csv", change), clock.now())

    assert result == ImportResult(created=0, updated=2, unchanged=0)
    former = await unit_store.by_code(db, "P-U")
    assert former is not None
    assert former.kind is UnitKind.ENTERPRISE_STATE
    assert [u.code for u in await unit_store.subtree(db, former.id)] == ["P-U"]


def test_a_file_with_a_header_and_no_units_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("code,name,kind,parent_code\n\n", encoding="utf-8")
    with pytest.raises(UnitsFileError, match="header but no units"):
        read_units_file(path)
