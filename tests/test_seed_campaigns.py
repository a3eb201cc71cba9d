"""The five seed plans (kế hoạch) ship as ready campaigns: they load, and they say what the plans say."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.campaign_model import Campaign, FieldType, Measure
from bot.campaigns import campaign_to_json, load_campaign_dir
from bot.expressions import compile_expression

CAMPAIGN_DIR = Path(__file__).parent.parent / "campaigns"

DAKLAK_95 = "daklak-95-nam-cdvn-2024"
DAKLAK_HCM = "daklak-chuyen-de-hcm-2024"
PHONG_THO = "phongtho-thang-cong-nhan-2024"
DUONG_MINH_CHAU = "duongminhchau-thi-dua-2024"
BINH_DINH = "binhdinh-cdvc-thang-cong-nhan-2021"
SEED_IDS = {DAKLAK_95, DAKLAK_HCM, PHONG_THO, DUONG_MINH_CHAU, BINH_DINH}

SEED_SOURCES = {
    DAKLAK_95: "000_044f61df670c68cc.txt",
    DAKLAK_HCM: "001_8edeef17f52461e8.txt",
    PHONG_THO: "002_c377689abc922281.txt",
    DUONG_MINH_CHAU: "003_3f04ff847d295fd6.txt",
    BINH_DINH: "004_909121b1e75ffbb8.txt",
}


@pytest.fixture(scope="module")
def campaigns() -> dict[str, Campaign]:
    loaded, problems = load_campaign_dir(CAMPAIGN_DIR)
    assert problems == [], "\n".join(str(p) for p in problems)
    return {c.campaign.id: c.campaign for c in loaded}


@pytest.fixture(scope="module")
def as_json(campaigns: dict[str, Campaign]) -> dict[str, dict]:
    return {cid: campaign_to_json(c) for cid, c in campaigns.items()}


def _period(view: dict, key: str) -> dict:
    return next(p for p in view["periods"] if p["key"] == key)


def _targets(view: dict, threshold: float) -> list[dict]:
    return [t for t in view["targets"] if t["threshold"] == threshold]


# ---------------------------------------------------------------- the set


def test_the_five_seed_campaigns_load_without_problems(campaigns: dict[str, Campaign]) -> None:
    assert set(campaigns) == SEED_IDS
    for cid, campaign in campaigns.items():
        assert len(cid) <= 40
        assert campaign.plan.source == SEED_SOURCES[cid]
        assert len(campaign.title.vi) <= 60, campaign.title.vi
        assert campaign.title.en
        assert campaign.activities


def test_every_text_has_vietnamese_and_english(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        for p in campaign.periods:
            assert p.name.en, (campaign.id, p.key)
        for t in campaign.targets:
            assert t.label.en, (campaign.id, t.key)
        for f in campaign.fields:
            texts = [f.label, f.hint, f.unit, f.constraint_message, *(c.label for c in f.choices)]
            for text in texts:
                assert text is None or text.en, (campaign.id, f.name)


def test_cross_field_constraints_explain_themselves_with_an_example(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        for f in campaign.fields:
            if f.constraint:
                assert f.constraint_message is not None
                assert "ví dụ" in f.constraint_message.vi.lower(), (campaign.id, f.name)
                assert "e.g." in (f.constraint_message.en or "").lower(), (campaign.id, f.name)


def test_field_types_are_all_used_where_they_fit(campaigns: dict[str, Campaign]) -> None:
    used = {f.type for c in campaigns.values() for f in c.fields}
    # decimal and percent have no natural place in these five plans (every rate is computed from counts).
    expected = set(FieldType) - {FieldType.DECIMAL, FieldType.PERCENT}
    assert expected <= used, expected - used


def test_attachments_and_narratives_are_optional(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        for f in campaign.fields:
            if f.type.is_attachment or f.type is FieldType.LONG_TEXT:
                assert not f.required, (campaign.id, f.name)


# ---------------------------------------------------------------- targets and periods, every campaign


def test_every_target_references_existing_fields(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        names = {f.name for f in campaign.fields}
        for t in campaign.targets:
            assert t.fields_used, (campaign.id, t.key)
            assert t.fields_used <= names, (campaign.id, t.key, t.fields_used - names)


def test_every_target_is_computed_from_required_answers(campaigns: dict[str, Campaign]) -> None:
    """A target cannot be computed from optional answers, nor from a question its period does not ask."""
    for campaign in campaigns.values():
        by_name = {f.name: f for f in campaign.fields}
        for t in campaign.targets:
            periods = t.periods or tuple(p.key for p in campaign.periods)
            for name in t.fields_used:
                f = by_name[name]
                assert f.required, (campaign.id, t.key, name)
                for key in periods:
                    assert f.asked_in(key), (campaign.id, t.key, name, key)


def test_ratio_and_total_targets_read_numbers(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        by_name = {f.name: f for f in campaign.fields}
        for t in campaign.targets:
            if t.measure in (Measure.RATIO, Measure.TOTAL):
                for name in t.fields_used:
                    assert by_name[name].type.is_numeric, (campaign.id, t.key, name)


def test_due_dates_say_who_set_them(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        for p in campaign.periods:
            d = p.due.date
            spelled = {f"{d.day}/{d.month}/{d.year}", f"{d.day:02d}/{d.month:02d}/{d.year}"}
            assert any(s in p.due.text for s in spelled), (campaign.id, p.key, p.due.text)
            if p.due.source == "department":
                # The text must tell the reader the plan gives no date and someone chose one.
                assert "không" in p.due.text, (campaign.id, p.key)
                assert "ấn định" in p.due.text, (campaign.id, p.key)
                assert p.note, (campaign.id, p.key)


def test_department_set_deadlines_are_the_plans_without_dates(campaigns: dict[str, Campaign]) -> None:
    sources = {cid: {p.due.source for p in c.periods} for cid, c in campaigns.items()}
    assert sources == {
        DAKLAK_95: {"plan"},
        DAKLAK_HCM: {"department"},
        PHONG_THO: {"department"},
        DUONG_MINH_CHAU: {"department"},
        BINH_DINH: {"plan"},
    }


# ---------------------------------------------------------------- the facts of each plan


def test_daklak_95_years_has_two_rounds(as_json: dict[str, dict]) -> None:
    view = as_json[DAKLAK_95]
    assert [p["due_at"] for p in view["periods"]] == ["2024-08-05T00:00:00+07:00", "2024-11-25T00:00:00+07:00"]
    first = view["periods"][0]
    assert first["covers"] == {"start": "2024-01-01", "end": "2024-07-31"}
    assert all(p["due"]["wording"] == "before" and p["due"]["source"] == "plan" for p in view["periods"])
    assert "number" not in view["plan"]
    assert "date" not in view["plan"]
    assert view["contact"]["name"] == "Trần Quốc Diễn"
    assert view["contact"]["phone"] == "0914.075.879"
    [target] = view["targets"]
    assert target["measure"] == "share_of_units"
    assert target["threshold"] == 100
    assert set(target["scope"]["kinds"]) == {"enterprise_state", "enterprise_private", "public_agency"}
    assert set(view["audience"]["scope"]["kinds"]) == {
        "upper",
        "enterprise_state",
        "enterprise_private",
        "public_agency",
    }


def test_daklak_ho_chi_minh_theme_reports_half_year_and_year(as_json: dict[str, dict]) -> None:
    view = as_json[DAKLAK_HCM]
    assert view["plan"]["number"] == "26/KH-LĐLĐ"
    assert view["plan"]["date"] == "2024-02-22"
    covers = {p["key"]: p["covers"] for p in view["periods"]}
    assert covers == {
        "6-thang": {"start": "2024-01-01", "end": "2024-06-30"},
        "nam": {"start": "2024-01-01", "end": "2024-12-31"},
    }
    assert view["targets"] == []  # the plan states no chỉ tiêu


def test_binh_dinh_plan_and_results_deadlines(as_json: dict[str, dict]) -> None:
    view = as_json[BINH_DINH]
    assert _period(view, "ke-hoach")["due_at"] == "2021-04-15T00:00:00+07:00"
    assert _period(view, "ket-qua")["due_at"] == "2021-05-30T00:00:00+07:00"
    assert _period(view, "ket-qua")["covers"] == {"start": "2021-03-01", "end": "2021-05-31"}
    assert view["contact"]["email"] == "cdvcbinhdinh@gmail.com"
    assert view["plan"]["number"] == "14/KH-CĐVC"
    assert view["plan"]["date"] == "2021-03-15"
    assert view["audience"]["scope"]["kinds"] == ["public_agency"]
    assert _targets(view, 100)
    [contest] = [t for t in _targets(view, 50) if t["measure"] == "ratio"]
    assert (contest["numerator"], contest["denominator"]) == ("contest_participants", "members_total")
    [initiatives] = [t for t in _targets(view, 10) if t["measure"] == "ratio"]
    assert (initiatives["numerator"], initiatives["denominator"]) == ("initiative_participants", "members_total")


def test_binh_dinh_plan_round_asks_only_for_the_plan(campaigns: dict[str, Campaign]) -> None:
    campaign = campaigns[BINH_DINH]
    assert {f.name for f in campaign.fields_for("ke-hoach")} == {"plan_built", "plan_date", "plan_file"}
    assert "plan_built" not in {f.name for f in campaign.fields_for("ket-qua")}


def test_binh_dinh_participants_cannot_exceed_members(campaigns: dict[str, Campaign]) -> None:
    by_name = {f.name: f for f in campaigns[BINH_DINH].fields}
    for name in ("contest_participants", "initiative_participants"):
        expr = by_name[name].constraint_expr
        assert expr is not None
        assert expr.evaluate({"members_total": 35}, 35)
        assert not expr.evaluate({"members_total": 35}, 36)
    share = next(t for t in campaigns[BINH_DINH].targets if t.key == "thi-truc-tuyen-50-moi-cdcs")
    assert share.condition is not None
    cond = compile_expression(share.condition)
    assert cond.evaluate({"contest_participants": 18, "members_total": 35})
    assert not cond.evaluate({"contest_participants": 17, "members_total": 35})


def test_phong_tho_targets_are_the_plans(as_json: dict[str, dict]) -> None:
    view = as_json[PHONG_THO]
    assert view["contact"]["email"] == "ldldphongtho@gmail.com"

    [enterprise] = _targets(view, 50)
    assert enterprise["measure"] == "share_of_units"
    assert sorted(enterprise["scope"]["kinds"]) == ["enterprise_private", "enterprise_state"]

    [agency] = _targets(view, 30)
    assert agency["measure"] == "share_of_units"
    assert agency["scope"]["kinds"] == ["public_agency"]
    assert "${document_issued}" in agency["condition"]
    assert "${activities_organised}" in agency["condition"]

    ratios = {t["threshold"]: t for t in view["targets"] if t["measure"] == "ratio"}
    assert set(ratios) == {100, 45}
    assert (ratios[100]["numerator"], ratios[100]["denominator"]) == ("agreements_resigned", "agreements_expiring")
    assert (ratios[45]["numerator"], ratios[45]["denominator"]) == ("agreements_rated_b", "agreements_resigned")

    [total] = [t for t in view["targets"] if t["measure"] == "total"]
    assert total["threshold"] == 2
    assert total["comparator"] == ">="
    assert total["unit"] == "count"
    assert total["field"] == "news_items"
    assert total["scope"]["kinds"] == ["upper"]

    period = view["periods"][0]
    assert period["due"]["source"] == "department"


def test_phong_tho_agreement_counts_are_checked_against_each_other(campaigns: dict[str, Campaign]) -> None:
    by_name = {f.name: f for f in campaigns[PHONG_THO].fields}
    resigned = by_name["agreements_resigned"].constraint_expr
    rated_b = by_name["agreements_rated_b"].constraint_expr
    assert resigned is not None
    assert rated_b is not None
    assert resigned.evaluate({"agreements_expiring": 2}, 2)
    assert not resigned.evaluate({"agreements_expiring": 2}, 3)
    assert rated_b.evaluate({"agreements_resigned": 2, "agreements_rated_a": 1}, 1)
    assert not rated_b.evaluate({"agreements_resigned": 2, "agreements_rated_a": 1}, 2)
    assert not rated_b.evaluate({"agreements_resigned": 2, "agreements_rated_a": 0}, 3)


def test_duong_minh_chau_has_two_emulation_rounds(as_json: dict[str, dict]) -> None:
    view = as_json[DUONG_MINH_CHAU]
    covers = [p["covers"] for p in view["periods"]]
    assert covers == [
        {"start": "2024-01-01", "end": "2024-07-31"},
        {"start": "2024-08-01", "end": "2024-12-31"},
    ]
    assert all(p["due"]["source"] == "department" for p in view["periods"])
    assert view["plan"]["number"] == "25/KH-LĐLĐ"
    assert "date" not in view["plan"]  # "ngày tháng 3 năm 2024": the day is blank
    assert view["targets"] == []


def test_duong_minh_chau_asks_about_tet_only_in_round_one(campaigns: dict[str, Campaign]) -> None:
    campaign = campaigns[DUONG_MINH_CHAU]
    assert {"tet_people", "tet_money"} <= {f.name for f in campaign.fields_for("dot-1")}
    assert not {"tet_people", "tet_money"} & {f.name for f in campaign.fields_for("dot-2")}


def test_due_is_never_before_the_period_starts(campaigns: dict[str, Campaign]) -> None:
    for campaign in campaigns.values():
        for p in campaign.periods:
            assert p.covers.start < p.due.date, (campaign.id, p.key)
            assert p.covers.start >= date(2021, 1, 1)
