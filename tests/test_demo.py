"""The demo database is the first thing a department head sees: every stored answer is one the form would have
accepted, an upper level's report is the sum of its units (as the dialog rolls it up), and the summary's totals
agree with its per-unit rows in the text, the workbook and the báo cáo; outputs name indicators, not questions."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook

from bot.app import prepare
from bot.campaign_model import Campaign, FieldType, FormField
from bot.config import Config
from bot.demo import DemoResult, believable_answers, fill_demo
from bot.dialog import form
from bot.dialog.form import FormContext, FormState
from bot.domain import UnitKind
from bot.i18n import Translator
from bot.summary.docx_report import write_summary_docx
from bot.summary.model import Summary
from bot.summary.service import build_summary
from bot.summary.text import summary_text
from bot.summary.xlsx import write_summary_xlsx
from storage import campaigns as campaign_store
from storage.db import Database
from tests.conftest import VN
from tests.form_fixture import every_type_campaign

NOW = datetime(2025, 2, 1, 9, 0, tzinfo=VN)  # every period of the five seed campaigns is due by then


@dataclass(frozen=True)
class Demo:
    db: Database
    periods: list[tuple[Campaign, str, int]]  # (campaign, period key, period id) of every due period
    result: DemoResult


@pytest.fixture
async def demo(config: Config) -> AsyncIterator[Demo]:
    prepared = await prepare(config, NOW)
    try:
        result = await fill_demo(prepared.db, NOW, config.locales_dir)
        periods = [(c, row.key, row.id) for c in await campaign_store.live_campaigns(prepared.db)
                   for row in await campaign_store.periods_of(prepared.db, c.id) if row.due_at <= NOW]
        yield Demo(prepared.db, periods, result)
    finally:
        await prepared.db.close()


@pytest.fixture
def vi(repo: Path) -> Translator:
    return Translator("vi", repo / "locales")


async def stored(db: Database, period_id: int) -> list[dict[str, Any]]:
    rows = await db.fetchall(
        "SELECT s.unit_id, u.kind, u.parent_id, s.latest_answers FROM submissions s JOIN units u ON u.id = s.unit_id "
        "WHERE s.period_id = ?", (period_id,))
    return [{"unit_id": r["unit_id"], "kind": UnitKind(r["kind"]), "parent_id": r["parent_id"],
             "answers": json.loads(r["latest_answers"])} for r in rows]


def _type_problem(ctx: FormContext, f: FormField, value: Any) -> str | None:
    """The shape the form keeps an answer in (see bot/dialog/form.py)."""
    choices = {c.value for c in f.choices}
    ok = {
        FieldType.INTEGER: lambda v: type(v) is int,
        FieldType.MONEY: lambda v: type(v) is int and (v == 0 or v >= 1_000),
        FieldType.DECIMAL: lambda v: isinstance(v, str) and Decimal(v).is_finite(),
        FieldType.PERCENT: lambda v: isinstance(v, str) and 0 <= Decimal(v) <= 100,
        FieldType.YES_NO: lambda v: isinstance(v, bool),
        FieldType.SELECT_ONE: lambda v: v in choices,
        FieldType.SELECT_MULTIPLE: lambda v: isinstance(v, list) and v and set(v) <= choices,
        FieldType.TEXT: lambda v: isinstance(v, str) and v.strip() and len(v) <= form.SHORT_TEXT_MAX,
        FieldType.LONG_TEXT: lambda v: isinstance(v, str) and v.strip() and len(v) <= form.LONG_TEXT_MAX,
        FieldType.DATE: lambda v: ctx.period.covers.start <= dt.date.fromisoformat(v) <= ctx.period.covers.end,
        FieldType.PHOTO: lambda v: isinstance(v, list) and 1 <= len(v) <= f.max_files,
        FieldType.DOCUMENT: lambda v: isinstance(v, list) and 1 <= len(v) <= f.max_files,
    }[f.type]
    return None if ok(value) else f"{f.name}={value!r} is not a {f.type}"


async def test_every_demo_answer_keeps_the_rules_of_its_question(demo: Demo, vi: Translator) -> None:
    problems: list[str] = []
    checked = 0
    for campaign, key, period_id in demo.periods:
        for sub in await stored(demo.db, period_id):
            ctx = FormContext(campaign, campaign.period(key), sub["kind"], vi, campaign.zone)
            answers = sub["answers"]
            where = f"{campaign.id}/{key}/unit {sub['unit_id']}"
            asked = form.relevant_fields(ctx, answers)
            problems += [f"{where}: {name} is not asked" for name in answers if name not in {f.name for f in asked}]
            for f in asked:
                value = answers.get(f.name)
                if value is None:
                    if f.required and not f.type.is_attachment:
                        problems.append(f"{where}: {f.name} is required")
                    continue
                checked += 1
                problem = _type_problem(ctx, f, value) or form.constraint_problem(ctx, f, value, answers)
                if problem:
                    problems.append(f"{where}: {f.name}={value!r}: {problem}")
    assert checked > 1000
    assert problems == []
    # Most expected reports are there: no unit was left out because the demo could not answer its form.
    assert demo.result.missing < 0.25 * (demo.result.submissions + demo.result.missing)


def strict_campaign() -> Campaign:
    """Every question type, with rules a careless generator breaks: money above 0, a bounded count and share."""
    data = every_type_campaign().model_dump(mode="json", exclude_none=True)
    rules = {
        "gifts_money": (". > 0", "Nhập số tiền lớn hơn 0"),
        "share": (". <= 50", "Nhập tỷ lệ từ 0 đến 50%"),
        "members": (". >= 5 and . <= 40", "Nhập từ 5 đến 40"),
        "hours": (". >= 1", "Nhập từ 1 trở lên"),
    }
    for f in data["fields"]:
        if f["name"] in rules:
            f["constraint"], message = rules[f["name"]]
            f["constraint_message"] = {"vi": message}
    return Campaign.model_validate(data)


@pytest.mark.parametrize("kind", [UnitKind.PUBLIC_AGENCY, UnitKind.UPPER])
def test_demo_answers_pass_the_form_engine_for_any_rules(kind: UnitKind, vi: Translator) -> None:
    campaign = strict_campaign()
    ctx = FormContext(campaign, campaign.period("dot-1"), kind, vi, campaign.zone)
    for seed in range(200):
        answers = believable_answers(random.Random(seed), ctx)
        assert answers is not None, seed
        state = FormState(campaign.id, "dot-1", 1, kind.value, answers=dict(answers))
        assert form.missing_or_invalid(ctx, state) == [], (seed, answers)
        assert set(answers) <= {f.name for f in form.relevant_fields(ctx, answers)}
        if answers.get("gifts_given"):
            assert answers["gifts_money"] > 0


def test_demo_keeps_rolled_up_figures_and_keeps_them_asked(vi: Translator) -> None:
    campaign = strict_campaign()
    ctx = FormContext(campaign, campaign.period("dot-1"), UnitKind.UPPER, vi, campaign.zone)
    fixed = {"members": 30, "participants": 12, "gifts_money": 2_500_000, "hours": "3.0"}  # "3.0": 1.5 + 1.5
    for seed in range(50):
        answers = believable_answers(random.Random(seed), ctx, fixed)
        assert answers is not None, seed
        assert {k: answers[k] for k in fixed} == fixed
        assert answers["gifts_given"] is True  # else the sum of the gifts would not be asked, and lost
    # Sums the form cannot hold (above the bound of 40) are never stored: no report rather than a wrong one.
    assert believable_answers(random.Random(1), ctx, {"members": 45}) is None


async def test_demo_upper_levels_report_the_sums_of_their_units(demo: Demo) -> None:
    compared = 0
    for campaign, key, period_id in demo.periods:
        subs = await stored(demo.db, period_id)
        for upper in (s for s in subs if s["kind"] is UnitKind.UPPER):
            units = [s for s in subs if s["parent_id"] == upper["unit_id"]]
            if not units:
                continue  # nothing to add up: its report is its own
            for f in campaign.fields_for(key, UnitKind.UPPER):
                if f.type not in (FieldType.INTEGER, FieldType.MONEY, FieldType.DECIMAL):
                    continue
                below = [Decimal(str(s["answers"][f.name])) for s in units if f.name in s["answers"]]
                if not below:
                    continue
                assert Decimal(str(upper["answers"].get(f.name, 0))) == sum(below), (campaign.id, key, f.name)
                compared += 1
    assert compared > 50


def _counted(summary: Summary) -> list:
    """The rows the totals are made of, by the summary's definition: a reported upper level stands for its units."""
    reported_uppers = {u.code for u in summary.units if u.kind is UnitKind.UPPER and u.status != "missing"}
    return [u for u in summary.units if u.status != "missing"
            and (u.kind is UnitKind.UPPER or u.upper_code not in reported_uppers)]


async def test_demo_summary_totals_agree_with_the_per_unit_rows_in_text_workbook_and_report(
        demo: Demo, vi: Translator, tmp_path: Path) -> None:
    for campaign, key, _period_id in demo.periods:
        summary = await build_summary(demo.db, campaign.id, key, scope_roots=None, scope_name="Toàn tỉnh", now=NOW)
        counted = _counted(summary)
        path = tmp_path / f"{campaign.id}-{key}.xlsx"
        write_summary_xlsx(path, summary, vi, VN)
        book = load_workbook(path)
        sheet = book[key]
        header = [c.value for c in sheet[1]]
        rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
        in_totals = [r for r in rows if r["Tính vào số tổng"] == "Có"]
        assert sorted(r["Mã đơn vị"] for r in in_totals) == sorted(u.code for u in counted)
        sums = {r[0]: r[3] for r in book["Tổng hợp"].iter_rows(values_only=True) if r and r[0]}
        text = summary_text(summary, vi, VN)
        docx = tmp_path / f"{campaign.id}-{key}.docx"
        write_summary_docx(docx, summary, vi, VN)
        totals_table = next(t for t in Document(str(docx)).tables if t.rows[0].cells[1].text == "Nội dung")
        docx_totals = {row.cells[1].text: row.cells[4].text for row in totals_table.rows[1:]}
        for total in summary.totals:
            f = total.field
            if not f.type.is_numeric or f.type is FieldType.PERCENT:
                continue
            expected = sum((Decimal(str(u.answers[f.name])) for u in counted if f.name in u.answers), Decimal(0))
            assert (total.sum or 0) == expected, (campaign.id, key, f.name)
            if total.sum is None:
                continue
            label = f.indicator("vi")
            column = sum((Decimal(str(r[label])) for r in in_totals if r[label] is not None), Decimal(0))
            assert Decimal(str(sums[label])) == column == expected, (campaign.id, key, f.name)
            if f"• {label}:" in text:
                assert f"• {label}: {vi.number(total.sum)}" in text
            assert docx_totals[label.rstrip(" ?:")] == vi.number(total.sum), (campaign.id, key, f.name)


def _docx_text(path: Path) -> str:
    doc = Document(str(path))
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


async def test_no_output_shows_a_question_and_every_output_names_the_indicators(
        demo: Demo, repo: Path, tmp_path: Path) -> None:
    seen: set[str] = set()
    for locale in ("vi", "en"):
        t = Translator(locale, repo / "locales")
        for campaign, key, _period_id in demo.periods:
            if campaign.id in seen and locale == "en":
                continue  # English: one period of each campaign is enough
            seen.add(campaign.id)
            summary = await build_summary(demo.db, campaign.id, key, scope_roots=None, scope_name="x", now=NOW)
            xlsx, docx = tmp_path / f"{locale}-{campaign.id}-{key}.xlsx", tmp_path / f"{locale}-{campaign.id}-{key}.docx"
            write_summary_xlsx(xlsx, summary, t, VN)
            write_summary_docx(docx, summary, t, VN)
            book = load_workbook(xlsx)
            outputs = {
                "text": summary_text(summary, t, VN),
                "xlsx": "\n".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row
                                  if c.value is not None),
                "docx": _docx_text(docx),
            }
            fields = campaign.fields_for(key)
            for name, out in outputs.items():
                for f in fields:
                    assert f.label.get(locale) not in out, (name, locale, campaign.id, f.name)
            header = [c.value for c in book[key][1]]
            assert all(f.indicator(locale) in header for f in fields)
            for total in summary.totals:
                assert total.field.indicator(locale) in outputs["xlsx"]
                assert total.field.indicator(locale).rstrip(" ?:") in outputs["docx"]


def test_every_seed_field_has_a_short_report_label(repo: Path) -> None:
    from bot.campaigns import load_campaign_dir

    loaded, problems = load_campaign_dir(repo / "campaigns")
    assert problems == []
    assert len(loaded) == 5
    for item in loaded:
        for f in item.campaign.fields:
            assert f.report_label is not None, (item.campaign.id, f.name)
            for text in (f.report_label.vi, f.report_label.en):
                assert text, (item.campaign.id, f.name)
                assert len(text) <= 60, (item.campaign.id, f.name, text)
                assert not text.endswith("?"), (item.campaign.id, f.name, text)
                assert text not in (f.label.vi, f.label.en)
