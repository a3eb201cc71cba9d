"""Where one person is in one form: the answers so far and the phase; kept as JSON between steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BACK, SKIP, DONE, YES, NO = "back", "skip", "done", "yes", "no"
SUBMIT, EDIT, CANCEL = "submit", "edit", "cancel"


@dataclass(slots=True)
class FormState:
    campaign_id: str
    period_key: str
    unit_id: int
    unit_kind: str
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    stack: list[str] = field(default_factory=list)  # fields answered, in the order asked, for "back"
    current: str | None = None
    phase: str = "ask"  # ask | confirm_value | review | pick_edit | confirm_cancel
    pending: Any = None  # a value waiting for "đúng không?"
    before_cancel: str = "ask"
    revision_of: int | None = None  # correcting this submission id
    recheck: list[str] = field(default_factory=list)  # answers to ask again before the report can be sent

    def to_json(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict: this runs on every step, and asdict deep-copies.
        answers = {k: (list(v) if isinstance(v, list) else v) for k, v in self.answers.items()}
        pending = list(self.pending) if isinstance(self.pending, list) else self.pending
        return {
            "campaign_id": self.campaign_id, "period_key": self.period_key, "unit_id": self.unit_id,
            "unit_kind": self.unit_kind, "answers": answers, "skipped": list(self.skipped),
            "stack": list(self.stack), "current": self.current, "phase": self.phase, "pending": pending,
            "before_cancel": self.before_cancel, "revision_of": self.revision_of, "recheck": list(self.recheck),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FormState:
        return cls(**data)

    def copy(self) -> FormState:
        """A state that shares nothing changeable with this one: a step works on a copy, never on its input."""
        # Field by field, as in to_json: this runs on every step. Answers are JSON values; only lists change.
        return FormState(
            self.campaign_id, self.period_key, self.unit_id, self.unit_kind,
            {k: (list(v) if isinstance(v, list) else v) for k, v in self.answers.items()},
            list(self.skipped), list(self.stack), self.current, self.phase,
            list(self.pending) if isinstance(self.pending, list) else self.pending,
            self.before_cancel, self.revision_of, list(self.recheck),
        )
