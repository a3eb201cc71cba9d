"""Score the plan readers on the corpus of union texts in tests/plans/corpus/ (issue 17).

Each text NAME.txt has NAME.json with what a person reads in it: identity (type, number, date, issuer),
reporting deadlines (date, and time of day when written), milestones (dates that end a task, not a
report), rounds (start, end) and targets (value, unit "%" or "count", and the unit kinds when named).
Prints recall and precision per kind over the whole corpus, and with -v what each text missed or
added. Run: PYTHONPATH=$PWD python3 tests/plans/score.py [-v] [FOLDER]   (FOLDER: tests/plans/heldout, texts written
after the readers were, to score them on phrasings they were not tuned to)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.plans.extract import PlanProposal, extract_plan, fold

CORPUS = Path(__file__).parent / "corpus"
KINDS = ("deadlines", "milestones", "rounds", "targets")
IDENTITY_FIELDS = ("type", "number", "date", "issuer")


def _number(value: Any) -> str:
    return f"{Decimal(str(value)).normalize():f}"


def found_items(p: PlanProposal) -> dict[str, list[tuple[Any, ...]]]:
    """What the readers found, in the corpus's terms."""
    deadlines = []
    for d in p.deadlines:
        time = getattr(d, "time", None)
        deadlines.append((d.date.isoformat() if d.date else "", time.strftime("%H:%M") if time else None))
    milestones = [(m.date.isoformat(),) for m in getattr(p, "milestones", ())]
    rounds = [(r.start.isoformat(), r.end.isoformat()) for r in p.rounds]
    targets = []
    for t in p.targets:
        if t.companion_of:
            continue  # the per-unit reading of the same words: one target in the text
        if t.count_at_least is not None and t.measure == "share_of_units" and t.threshold == 100:
            targets.append((_number(t.count_at_least), "count"))
        else:
            targets.append((_number(t.threshold), t.unit))
    return {"deadlines": deadlines, "milestones": milestones, "rounds": rounds, "targets": targets}


def expected_items(exp: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "deadlines": [(d["date"], d.get("time")) for d in exp["deadlines"]],
        "milestones": [(m,) for m in exp["milestones"]],
        "rounds": [tuple(r) for r in exp["rounds"]],
        "targets": [(_number(t["value"]), t["unit"]) for t in exp["targets"]],
    }


def identity_of(p: PlanProposal) -> dict[str, str | None]:
    ident = p.identity
    return {"type": getattr(ident, "kind", None), "number": ident.number,
            "date": ident.date.isoformat() if ident.date else None, "issuer": ident.issuer}


@dataclass
class Score:
    hits: Counter[str] = field(default_factory=Counter)
    expected: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    identity_right: Counter[str] = field(default_factory=Counter)
    identity_total: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def recall(self, kind: str) -> float:
        return self.hits[kind] / self.expected[kind] if self.expected[kind] else 1.0

    def precision(self, kind: str) -> float:
        return self.hits[kind] / self.found[kind] if self.found[kind] else 1.0


def _same(a: str | None, b: str | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and fold(a) == fold(b))


def score(corpus: Path = CORPUS) -> Score:
    s = Score()
    for txt in sorted(corpus.glob("*.txt")):
        exp = json.loads(txt.with_suffix(".json").read_text(encoding="utf-8"))
        proposal = extract_plan(txt.read_text(encoding="utf-8"))
        want, got = expected_items(exp), found_items(proposal)
        for kind in KINDS:
            w, g = Counter(want[kind]), Counter(got[kind])
            s.hits[kind] += sum((w & g).values())
            s.expected[kind] += sum(w.values())
            s.found[kind] += sum(g.values())
            if w != g:
                s.notes.append(f"{txt.stem} {kind}: missed {sorted((w - g).elements())} "
                               f"extra {sorted((g - w).elements())}")
        ident = identity_of(proposal)
        for key in IDENTITY_FIELDS:
            s.identity_total[key] += 1
            if _same(exp["identity"].get(key), ident[key]):
                s.identity_right[key] += 1
            else:
                s.notes.append(f"{txt.stem} identity.{key}: want {exp['identity'].get(key)!r} got {ident[key]!r}")
    return s


def main(argv: list[str]) -> None:
    folder = next((Path(a) for a in argv if not a.startswith("-")), CORPUS)
    s = score(folder)
    n = len(list(folder.glob("*.txt")))
    print(f"corpus: {n} texts")
    print(f"{'kind':<11} {'expected':>8} {'found':>6} {'right':>6} {'recall':>7} {'precision':>9}")
    for kind in KINDS:
        print(f"{kind:<11} {s.expected[kind]:>8} {s.found[kind]:>6} {s.hits[kind]:>6} "
              f"{s.recall(kind):>7.0%} {s.precision(kind):>9.0%}")
    print("identity: " + ", ".join(f"{k} {s.identity_right[k]}/{s.identity_total[k]}" for k in IDENTITY_FIELDS))
    if "-v" in argv:
        print("\n".join(s.notes))


if __name__ == "__main__":
    main(sys.argv[1:])
