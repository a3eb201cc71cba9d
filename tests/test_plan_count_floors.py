"""A floor on a count asked of every unit, whatever is counted (issue 17): "Mỗi công đoàn bộ phận cử ít nhất
01 đội", "từng tổ công đoàn đăng ký tối thiểu 02 tiết mục" are targets of each unit, even when the units are
not a kind the organisation lists; a floor asked of each member, or a length of time, is not."""

from __future__ import annotations

import pytest

from bot.plans.extract import extract_plan

HEAD = "Số: 4/TB-CĐ   Quảng Trị, ngày 03 tháng 3 năm 2025\nTHÔNG BÁO\nVề việc tổ chức Hội thao\n"


def _counts(sentence: str) -> list[tuple[int | None, str, str]]:
    p = extract_plan(HEAD + sentence + "\nCác tổ công đoàn báo cáo kết quả trước ngày 30/3/2025.\n")
    return [(t.count_at_least, t.measure, t.needs[0].label) for t in p.targets if not t.companion_of]


@pytest.mark.parametrize(("sentence", "n", "question"), [
    ("Mỗi công đoàn bộ phận cử ít nhất 01 đội tham gia giải kéo co.", 1,
     "Đơn vị có bao nhiêu đội tham gia giải kéo co?"),
    ("Từng tổ công đoàn đăng ký tối thiểu 02 tiết mục văn nghệ, gửi về Ban Chấp hành.", 2,
     "Đơn vị có bao nhiêu tiết mục văn nghệ?"),
    ("Mỗi chi đoàn, khoa, phòng giới thiệu ít nhất 3 gương điển hình tiên tiến.", 3,
     "Đơn vị có bao nhiêu gương điển hình tiên tiến?"),
])
def test_a_floor_on_a_count_of_anything_asked_of_each_unit_is_a_target(sentence: str, n: int,
                                                                         question: str) -> None:
    assert _counts(sentence) == [(n, "share_of_units", question)]


@pytest.mark.parametrize("sentence", [
    "Mỗi đoàn viên ủng hộ ít nhất 01 ngày lương cho Quỹ Mái ấm Công đoàn.",  # each member, not each unit
    "Mỗi tổ công đoàn tập luyện tối thiểu 05 ngày trước hội thao.",  # a length of time, not things counted
    "Tổ chức ít nhất 02 trận giao hữu trong tháng.",  # a task naming no unit
])
def test_a_floor_asked_of_members_or_on_a_length_of_time_is_no_target(sentence: str) -> None:
    assert _counts(sentence) == []
