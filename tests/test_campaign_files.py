"""Broken campaign files are reported with their path, the key and what is expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.campaign_model import Comparator, DueWording, Measure
from bot.campaigns import CampaignFileError, campaign_to_json, load_campaign_dir, load_campaign_file
from bot.cli import app

MINIMAL = """
id = "mini"
title = { vi = "Thử", en = "Try" }

[plan]
issuer = "LĐLĐ tỉnh"
title = "Kế hoạch thử"

[audience]
scope = { kinds = ["grassroots"] }
reports_to = "LĐLĐ tỉnh"

[contact]
department = "Ban Tuyên giáo – Nữ công"

[[periods]]
key = "dot-1"
name = { vi = "Đợt 1" }
covers = { start = 2024-01-01, end = 2024-07-31 }
due = { date = 2024-08-05, wording = "before", text = "trước ngày 5/8/2024" }

[[fields]]
name = "members_total"
type = "integer"
label = { vi = "Tổng số đoàn viên?" }
report_label = { vi = "Tổng số đoàn viên" }

[[fields]]
name = "participants"
type = "integer"
label = { vi = "Số đoàn viên tham gia?" }
report_label = { vi = "Số đoàn viên tham gia" }
constraint = ". <= ${members_total}"
constraint_message = { vi = "Không được lớn hơn tổng số đoàn viên." }

[[targets]]
key = "half"
text = "ít nhất 50% đoàn viên tham gia"
label = { vi = "≥ 50% đoàn viên tham gia" }
measure = "ratio"
numerator = "participants"
denominator = "members_total"
threshold = 50
"""


def write(folder: Path, text: str, name: str = "mini") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_campaign_loads(tmp_path: Path) -> None:
    loaded = load_campaign_file(write(tmp_path, MINIMAL))
    c = loaded.campaign
    assert c.periods[0].due.wording is DueWording.BEFORE
    assert c.targets[0].measure is Measure.RATIO
    assert c.targets[0].comparator is Comparator.GE
    data = campaign_to_json(c)
    assert data["periods"][0]["due_at"] == "2024-08-05T00:00:00+07:00"
    assert data["periods"][0]["closes_at"] == "2024-09-04T00:00:00+07:00"
    assert data["targets"][0]["threshold"] == 50.0
    assert data["targets"][0]["scope"]["kinds"] == ["enterprise_private", "enterprise_state", "public_agency"]


def test_on_or_before_wording_is_due_at_the_end_of_the_day(tmp_path: Path) -> None:
    text = MINIMAL.replace('wording = "before", text = "trước ngày 5/8/2024"',
                           'wording = "on_or_before", text = "chậm nhất ngày 5/8/2024"')
    c = load_campaign_file(write(tmp_path, text)).campaign
    assert campaign_to_json(c)["periods"][0]["due_at"] == "2024-08-06T00:00:00+07:00"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('issuer = "LĐLĐ tỉnh"', 'issuer = "LĐLĐ tỉnh"\nnumbr = "1"', "plan.numbr", "unknown key"),
        ('type = "integer"\nlabel = { vi = "Tổng', 'type = "integr"\nlabel = { vi = "Tổng',
         "fields[0](members_total).type", "Input should be"),
        ("date = 2024-08-05", "date = 2024-08-32", "", "not valid TOML"),
        ('wording = "before"', 'wording = "soon"', "periods[0](dot-1).due.wording", "'before' or 'on_or_before'"),
        ("end = 2024-07-31", "end = 2023-07-31", "periods[0](dot-1).covers", "is before start"),
        ('scope = { kinds = ["grassroots"] }', 'scope = { kinds = ["village"] }', "audience.scope.kinds",
         "unknown unit kind 'village'"),
        ('constraint = ". <= ${members_total}"', 'constraint = ". <= ${members}"', "",
         "constraint refers to unknown field ${members}"),
        ('constraint_message = { vi = "Không được lớn hơn tổng số đoàn viên." }', "", "fields[1](participants)",
         "needs a constraint_message"),
        ('denominator = "members_total"', 'denominator = "nobody"', "", "refers to unknown field 'nobody'"),
        ("threshold = 50", 'threshold = "half"', "targets[0](half).threshold", "decimal"),
        ('measure = "ratio"', 'measure = "total"', "targets[0](half)", "measure total needs field"),
        ('id = "mini"', 'id = "other"', "id", "the file is named 'mini'.toml"),
        ('name = "participants"', 'name = "members_total"', "", "duplicate names members_total"),
        ('constraint = ". <= ${members_total}"', 'constraint = "__import__(\'os\')"', "fields[1](participants)",
         "only selected()"),
        ('constraint = ". <= ${members_total}"', 'constraint = "' + "(" * 5000 + "." + ")" * 5000 + '"',
         "fields[1](participants)", "at most 1000 are allowed"),
        ('constraint = ". <= ${members_total}"', 'constraint = "' + "-" * 500 + '. < 0"',
         "fields[1](participants)", "nested more than"),
        ('report_label = { vi = "Tổng số đoàn viên" }', 'report_label = { vi = "Tổng số đoàn viên?" }',
         "fields[0](members_total)", "not a question"),
        ('report_label = { vi = "Số đoàn viên tham gia" }',
         'report_label = { vi = "Số đoàn viên", en = "' + "Members who took part in every activity of the " * 2 + '" }',
         "fields[1](participants)", "at most 60 characters"),
    ],
)
def test_a_broken_file_names_the_path_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, key: str, message: str
) -> None:
    assert old in MINIMAL
    path = write(tmp_path, MINIMAL.replace(old, new, 1))
    with pytest.raises(CampaignFileError) as info:
        load_campaign_file(path)
    rendered = str(info.value)
    assert str(path) in rendered
    assert key in rendered
    assert message in rendered


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace('reports_to = "LĐLĐ tỉnh"\n', ""))
    with pytest.raises(CampaignFileError, match=r"audience.reports_to: required key is missing"):
        load_campaign_file(path)


def test_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_bytes(MINIMAL.encode("utf-16"))
    with pytest.raises(CampaignFileError, match="not UTF-8"):
        load_campaign_file(path)


def test_one_broken_file_does_not_hide_the_good_ones(campaigns_copy: Path) -> None:
    write(campaigns_copy, MINIMAL.replace('type = "integer"', 'type = "number"', 1))
    loaded, problems = load_campaign_dir(campaigns_copy)
    assert len(loaded) == 5
    assert len(problems) == 1
    assert problems[0].path.name == "mini.toml"


def config_with_campaigns(tmp_path: Path, campaigns: Path) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(f'[app]\ncampaigns_dir = "{campaigns.as_posix()}"\n[storage]\npath = "db.sqlite3"\n',
                    encoding="utf-8")
    return path


def test_cli_check_lists_the_seed_campaigns_as_json(tmp_path: Path, repo: Path) -> None:
    cfg = config_with_campaigns(tmp_path, repo / "campaigns")
    result = CliRunner().invoke(app, ["--config", str(cfg), "campaigns", "check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data) == 5
    for campaign in data:
        assert {"id", "title", "periods", "fields", "targets"} <= campaign.keys()
        for period in campaign["periods"]:
            assert period["due_at"].endswith("+07:00")


def test_cli_check_fails_on_a_broken_file_and_names_it(tmp_path: Path, campaigns_copy: Path) -> None:
    broken = write(campaigns_copy, MINIMAL.replace('wording = "before"', 'wording = "someday"'))
    cfg = config_with_campaigns(tmp_path, campaigns_copy)
    result = CliRunner().invoke(app, ["--config", str(cfg), "campaigns", "check"])
    assert result.exit_code == 1
    assert f"{broken}: periods[0](dot-1).due.wording" in result.output


def test_cli_check_refuses_a_question_as_report_label_and_notes_a_missing_one(tmp_path: Path) -> None:
    folder = tmp_path / "campaigns"
    folder.mkdir()
    write(folder, MINIMAL.replace('report_label = { vi = "Số đoàn viên tham gia" }\n', ""))
    cfg = config_with_campaigns(tmp_path, folder)

    noted = CliRunner().invoke(app, ["--config", str(cfg), "campaigns", "check"])

    assert noted.exit_code == 0, noted.output
    assert "participants" in noted.stderr
    assert "report_label" in noted.stderr

    write(folder, MINIMAL.replace('report_label = { vi = "Tổng số đoàn viên" }',
                                  'report_label = { vi = "Đơn vị hiện có bao nhiêu đoàn viên?" }'))
    refused = CliRunner().invoke(app, ["--config", str(cfg), "campaigns", "check"])

    assert refused.exit_code == 1
    assert "fields[0](members_total).report_label" in refused.stderr
    assert "not a question" in refused.stderr
