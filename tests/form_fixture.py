"""A campaign with one question of every field type, skip logic and a cross-field constraint."""

from __future__ import annotations

import tomllib

from bot.campaign_model import Campaign

EVERY_TYPE = """
id = "every-type"
title = { vi = "Thử mọi loại câu hỏi", en = "Every question type" }

[plan]
issuer = "LĐLĐ tỉnh"
title = "Kế hoạch thử"

[audience]
scope = { kinds = ["grassroots", "upper"] }
reports_to = "LĐLĐ tỉnh"

[contact]
department = "Ban Tuyên giáo – Nữ công"

[[periods]]
key = "dot-1"
name = { vi = "Đợt 1" }
covers = { start = 2024-01-01, end = 2024-07-31 }
due = { date = 2024-08-05, wording = "before", text = "trước ngày 5/8/2024" }

[[fields]]
name = "members"
type = "integer"
label = { vi = "Tổng số đoàn viên?", en = "Members?" }
report_label = { vi = "Tổng số đoàn viên", en = "Members" }
unit = { vi = "người", en = "people" }
constraint = ". >= 0"
constraint_message = { vi = "Nhập số đoàn viên, ví dụ: 120", en = "Enter the number of members, e.g. 120" }

[[fields]]
name = "participants"
type = "integer"
label = { vi = "Số đoàn viên dự thi?", en = "Participants?" }
report_label = { vi = "Số đoàn viên dự thi", en = "Participants" }
constraint = ". <= ${members}"
constraint_message = { vi = "Không được lớn hơn tổng số đoàn viên, ví dụ: 60", en = "At most the number of members, e.g. 60" }

[[fields]]
name = "hours"
type = "decimal"
label = { vi = "Số giờ sinh hoạt bình quân?" }
report_label = { vi = "Số giờ sinh hoạt bình quân" }
required = false

[[fields]]
name = "share"
type = "percent"
label = { vi = "Tỷ lệ đoàn viên nữ?" }
report_label = { vi = "Tỷ lệ đoàn viên nữ" }

[[fields]]
name = "gifts_given"
type = "yes_no"
label = { vi = "Có thăm hỏi, tặng quà không?" }
report_label = { vi = "Có thăm hỏi, tặng quà" }

[[fields]]
name = "gifts_money"
type = "money"
label = { vi = "Tổng số tiền tặng quà?" }
report_label = { vi = "Số tiền tặng quà" }
relevant = "${gifts_given} = true"

[[fields]]
name = "rating"
type = "select_one"
label = { vi = "Xếp loại thỏa ước?" }
report_label = { vi = "Xếp loại thỏa ước" }
choices = [
  { value = "a", label = { vi = "Loại A" } },
  { value = "b", label = { vi = "Loại B" } },
  { value = "c", label = { vi = "Loại C" } },
]

[[fields]]
name = "forms"
type = "select_multiple"
label = { vi = "Hình thức tuyên truyền?" }
report_label = { vi = "Hình thức tuyên truyền" }
choices = [
  { value = "meeting", label = { vi = "Hội nghị" } },
  { value = "online", label = { vi = "Mạng xã hội" } },
  { value = "banner", label = { vi = "Băng rôn" } },
]

[[fields]]
name = "event_date"
type = "date"
label = { vi = "Ngày tổ chức hoạt động chính?" }
report_label = { vi = "Ngày tổ chức hoạt động chính" }

[[fields]]
name = "event_name"
type = "text"
label = { vi = "Tên hoạt động?" }
report_label = { vi = "Tên hoạt động" }

[[fields]]
name = "highlights"
type = "long_text"
label = { vi = "Mô hình hay?" }
report_label = { vi = "Mô hình hay" }
required = false

[[fields]]
name = "photos"
type = "photo"
label = { vi = "Ảnh hoạt động?" }
report_label = { vi = "Ảnh hoạt động" }
required = false
max_files = 2

[[fields]]
name = "report_file"
type = "document"
label = { vi = "Tệp báo cáo?" }
report_label = { vi = "Tệp báo cáo" }
required = false
"""


def every_type_campaign() -> Campaign:
    return Campaign.model_validate(tomllib.loads(EVERY_TYPE))
