"""Every error a person reads derives from bot.errors.TranslatableError and comes out in Vietnamese and English
through the catalogs: its message id is a catalog entry, render(t) fills in the translation."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.errors import N_, TranslatableError
from bot.i18n import Translator

# The modules that define the named errors; importing them registers their subclasses.
ERROR_MODULES = ("bot.parsing", "bot.plans.text", "bot.plans.draft", "bot.expressions", "storage.people",
                 "storage.migrations", "handlers.serve", "bot.config", "bot.campaigns", "bot.org_import",
                 "bot.summary.service", "storage.reviews", "storage.copy", "bot.dashboard.access")
# Message ids that only carry text they do not own (pydantic's and TOML's English messages naming keys and
# values): the same in both languages by design.
PASS_THROUGH = frozenset({"{problems}"})


def _examples() -> list[tuple[str, Callable[[], TranslatableError]]]:
    from bot import config, expressions, org_import, parsing
    from bot.campaigns import CampaignFileError, CampaignProblem
    from bot.dashboard.access import NotForYouError
    from bot.plans import text as plan_text
    from bot.summary.service import SummaryNotFoundError
    from handlers import serve
    from storage import connect, migrations, people, reviews

    out: list[tuple[str, Callable[[], TranslatableError]]] = [
        ("ParseError", lambda: parsing.ParseError("Please type a whole number, for example {example}.",
                                                  example="12")),
        ("ExpressionLimitError", lambda: expressions.ExpressionLimitError("a + b")),
        ("ExpressionTooLongError", lambda: expressions.ExpressionTooLongError("a + b", chars=900, limit=500)),
        ("ExpressionTooDeepError", lambda: expressions.ExpressionTooDeepError("((a))", limit=40)),
        ("ExpressionTooComplexError", lambda: expressions.ExpressionTooComplexError("a+b", limit=600)),
        ("ExpressionNumberTooLargeError",
         lambda: expressions.ExpressionNumberTooLargeError("1e99", number="1e99", limit="10^15")),
        ("MigrationError", lambda: migrations.MigrationError("0007_x", RuntimeError("disk full"))),
        ("StorageUrlError", lambda: connect.StorageUrlError(
            N_("Cannot open the database {url}: {reason}"), url="postgresql://bot@db/cd", reason="refused")),
        ("ChannelStartError", lambda: serve.ChannelStartError("Zalo", serve.UNREACHABLE, "https://z.example",
                                                               "ConnectError")),
    ]
    out += [
        ("ConfigError[file]", lambda: config.ConfigError(
            N_("{path}: configuration file not found (use --config or {variable})"), path="/x/config.toml",
            variable="BOT_CONFIG")),
        ("ConfigError[pydantic]", lambda: config.ConfigError(N_("{problems}"), problems="/x: [app] language: x")),
        ("CampaignFileError", lambda: CampaignFileError([CampaignProblem(Path("c.toml"), "id", "is 'a'")])),
        ("UnitsFileError", lambda: org_import.UnitsFileError(
            Path("units.csv"), [org_import.ImportProblem(None, "the file is empty"),
                                org_import.ImportProblem(3, "the file has a header but no units")])),
        ("SummaryNotFoundError", lambda: SummaryNotFoundError(N_("unknown unit code {code}"), code="'X9'")),
        ("ReviewConflictError", lambda: reviews.ReviewConflictError()),
        ("AlreadyDecidedError", lambda: reviews.AlreadyDecidedError("approved")),
        ("RevisionReplacedError", lambda: reviews.RevisionReplacedError(3)),
        ("ReportApprovedError", lambda: reviews.ReportApprovedError(1, "Lan", None)),
        ("ReportLockedError", lambda: reviews.ReportLockedError(datetime(2024, 9, 4, tzinfo=UTC))),
        ("NotForYouError", lambda: NotForYouError()),
    ]
    for reason in ("unknown", "used", "expired", "revoked"):
        out.append((f"InviteRefusedError[{reason}]", lambda r=reason: people.InviteRefusedError(r)))
    for reason in ("unknown", "used", "expired", "taken"):
        out.append((f"InviteRefusedError[link {reason}]",
                    lambda r=reason: people.InviteRefusedError(r, link_code=True)))
    from storage import copy

    copy_errors = (copy.CopyError(copy.NOT_EMPTY, table="units"),
                   copy.CopyError(N_("Table {table}: {source} rows in the source but {target} in the target; the copy "
                                     "was rolled back."), table="units", source=40, target=39))
    out += [(f"CopyError[{e.msgid[:20]}]", lambda e=e: e) for e in copy_errors]
    for problem in (serve.TOKEN_REFUSED, serve.CANNOT_LISTEN):
        out.append((f"ChannelStartError[{problem}]",
                    lambda p=problem: serve.ChannelStartError("Telegram", p, "0.0.0.0:8443", "in use")))
    # Every plan error, with every placeholder its message names.
    for cls in [plan_text.PlanError, *_all_subclasses(plan_text.PlanError)]:
        out.append((cls.__name__, lambda c=cls: c("plan.docx", limit=20, entries=5000, pages=90, seconds=30,
                                                  detail="bad zip")))
    return out


def _all_subclasses(cls: type) -> list[type]:
    found: list[type] = []
    for sub in cls.__subclasses__():
        found += [sub, *_all_subclasses(sub)]
    return found


def _catalog(repo: Path, locale: str) -> dict[str, str]:
    with (repo / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return {m.id: m.string for m in read_po(fh, locale=locale) if m.id and isinstance(m.id, str)}


EXAMPLES = _examples()


@pytest.mark.parametrize(("name", "make"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_each_named_error_renders_in_vietnamese_and_english_through_the_catalog(
        name: str, make: Callable[[], TranslatableError], repo: Path) -> None:
    error = make()
    assert isinstance(error, TranslatableError)
    vi_catalog, en_catalog = _catalog(repo, "vi"), _catalog(repo, "en")
    assert error.msgid in vi_catalog, f"{name}: {error.msgid!r} is not in the vi catalog"
    assert error.msgid in en_catalog, f"{name}: {error.msgid!r} is not in the en catalog"
    vi, en = Translator("vi"), Translator("en")
    shown_vi, shown_en = error.render(vi), error.explain(vi)
    assert shown_vi == shown_en  # explain() adds nothing unless a subclass knows more
    assert shown_vi.startswith(vi_catalog[error.msgid].split("{")[0])
    if error.msgid not in PASS_THROUGH:
        assert shown_vi != error.render(en), f"{name}: the Vietnamese text is the English one"
    assert "{" not in shown_vi, f"{name}: a placeholder was left unfilled"
    assert "{" not in error.render(en), f"{name}: a placeholder was left unfilled"
    assert str(error)  # the English text, for logs


def test_every_translatable_error_class_has_an_example_above() -> None:
    for module in ERROR_MODULES:
        importlib.import_module(module)
    covered = {type(make()) for _name, make in EXAMPLES}
    missing = {c.__qualname__ for c in _all_subclasses(TranslatableError) if c.__module__.split(".")[0] in
               ("bot", "storage", "scheduler", "handlers")} - {c.__qualname__ for c in covered}
    assert not missing, f"add an example of {sorted(missing)} to tests/test_errors.py"


def test_plan_errors_write_numbers_the_readers_way() -> None:
    from bot.plans.text import TooManyPagesError

    error = TooManyPagesError("plan.pdf", pages=1200, limit=60)
    assert "1.200" in error.render(Translator("vi"))
    assert "1,200" in error.render(Translator("en"))
    assert "1200" in str(error)


def test_expression_limit_errors_name_the_expression_in_logs_but_not_to_the_reader() -> None:
    from bot.expressions import ExpressionTooLongError

    error = ExpressionTooLongError("a" * 80, chars=80, limit=60)
    assert str(error).startswith("'" + "a" * 57 + "...'")
    assert "aaaa" not in error.render(Translator("en"))
    assert isinstance(error, ValueError)  # callers catching ExpressionError / ValueError still do


def test_each_problem_of_an_organisation_file_is_translated_in_the_error() -> None:
    from bot.org_import import ImportProblem, UnitsFileError

    error = UnitsFileError(Path("units.csv"), [ImportProblem(None, "the file is empty")])
    vi, en = error.render(Translator("vi")), error.render(Translator("en"))
    assert en == "units.csv: the file is empty" == str(error)
    assert vi.startswith("units.csv: ")
    assert "the file is empty" not in vi


def test_configuration_errors_keep_their_english_text_for_logs_and_read_vietnamese_in_the_command_line() -> None:
    from bot.config import ConfigError, load_config

    with pytest.raises(ConfigError) as caught:
        load_config(Path("/nonexistent/config.toml"), environ={})
    assert str(caught.value) == "/nonexistent/config.toml: configuration file not found (use --config or BOT_CONFIG)"
    assert caught.value.render(Translator("vi")).startswith("/nonexistent/config.toml: không tìm thấy tệp cấu hình")
