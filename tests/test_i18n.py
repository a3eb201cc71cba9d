"""Every message has a Vietnamese translation; numbers and dates come out the Vietnamese way."""

from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import Translator, normalise_locale

KEYWORDS = {"t": None, "_p": (2,), "N_": None, "ParseError": None, "gettext": None, "ngettext": (1, 2)}
SOURCE_DIRS = ("bot", "handlers", "scheduler", "storage")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def messages_in_code(repo: Path) -> set[str]:
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for _file, _line, message, _comments, _context in extract_from_dir(
            repo / folder, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(repo: Path, locale: str):
    with (repo / "locales" / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_in_the_code_has_a_vietnamese_translation(repo: Path) -> None:
    vi = catalog(repo, "vi")
    translated = {}
    for m in vi:
        if not m.id:
            continue
        key = m.id if isinstance(m.id, str) else m.id[0]
        text = m.string if isinstance(m.string, str) else m.string[0]
        if text and not m.fuzzy:
            translated[key] = text
    missing = sorted(messages_in_code(repo) - translated.keys())
    assert not missing, "No Vietnamese translation (run locales/update-catalogs.sh, then translate):\n" + "\n".join(
        missing
    )


def test_translations_keep_the_placeholders(repo: Path) -> None:
    for m in catalog(repo, "vi"):
        if not m.id or not m.string:
            continue
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string)
        wanted = set().union(*(PLACEHOLDER.findall(i) for i in ids)) - {"n"}
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) - {"n"} == wanted, (m.id, s)


def test_vietnamese_is_the_default_and_english_is_available(repo: Path) -> None:
    vi = Translator("vi", repo / "locales")
    en = Translator("en", repo / "locales")
    assert vi("Unit: {name} ({code})", name="A", code="B") == "Đơn vị: A (B)"
    assert en("Unit: {name} ({code})", name="A", code="B") == "Unit: A (B)"
    assert vi.ngettext("{n} day left", "{n} days left", 3) == "còn 3 ngày"
    assert en.ngettext("{n} day left", "{n} days left", 1) == "1 day left"


@pytest.mark.parametrize(("code", "expected"), [(None, "vi"), ("vi", "vi"), ("en-US", "en"), ("fr", "vi"), ("", "vi")])
def test_client_language_codes_map_onto_supported_locales(code: str | None, expected: str) -> None:
    assert normalise_locale(code) == expected


def test_numbers_money_percent_and_dates_in_vietnamese_style(repo: Path) -> None:
    t = Translator("vi", repo / "locales")
    assert t.number(1234567) == "1.234.567"
    assert t.number(Decimal("1.5")) == "1,5"
    assert t.money(2000000) == "2.000.000 đồng"
    assert t.percent(Decimal("12.5")) == "12,5%"
    assert t.percent(100) == "100%"
    assert t.date(date(2024, 8, 5)) == "05/08/2024"
    assert t.weekday_date(date(2024, 8, 5)) == "Thứ Hai, 05/08/2024"
    # An instant is shown in the given zone: 17:00 UTC on the 4th is midnight of the 5th in Việt Nam.
    from zoneinfo import ZoneInfo

    vn = ZoneInfo("Asia/Ho_Chi_Minh")
    assert t.date(datetime(2024, 8, 4, 17, 0, tzinfo=UTC), vn) == "05/08/2024"
    assert t.datetime(datetime(2024, 8, 4, 17, 30, tzinfo=UTC), vn) == "00:30 05/08/2024"


def test_english_formats(repo: Path) -> None:
    t = Translator("en", repo / "locales")
    assert t.number(1234567) == "1,234,567"
    assert t.percent(Decimal("12.5")) == "12.5%"
    assert t.weekday_date(date(2024, 8, 5)) == "Monday, 05/08/2024"


def test_no_message_is_hidden_inside_an_f_string(repo: Path) -> None:
    # Babel cannot see t("...") inside an f-string, so such a message would never be translated.
    pattern = re.compile(r"""f(["']).*?\{t\((["'])""")
    offenders = []
    for folder in SOURCE_DIRS:
        for path in (repo / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(repo)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# --- messages that would bypass the catalog -------------------------------------------------------
# The extractor finds a message only as the argument of a keyword above. A translator bound to another name
# (t2 = self.translator(locale)) or an English literal handed straight to the user is never in the catalog,
# so the Vietnamese user reads English.

USER_SINKS = {"Reply", "echo", "secho", "fail", "_say", "send_message", "reply_text", "edit_message_text"}
ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")


def _python_sources(repo: Path) -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            for folder in SOURCE_DIRS for path in sorted((repo / folder).rglob("*.py"))]


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _literal(node: ast.expr) -> str | None:
    """The text of a string literal, an f-string's fixed parts or a sum of them; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return f"{_literal(node.left) or ''} {_literal(node.right) or ''}"
    return None


def _translator_names(tree: ast.Module) -> set[str]:
    """Names a translator is bound to: from a call of something called *translator*, or a Translator parameter."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call)
                and _callee(node.value).lower().endswith("translator")):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id if isinstance(t, ast.Name) else t.attr for t in targets
                      if isinstance(t, ast.Name | ast.Attribute)}
        if isinstance(node, ast.arg) and node.annotation is not None and "Translator" in ast.unparse(node.annotation):
            names.add(node.arg)
    return names


def translator_calls_the_extractor_misses(repo: Path) -> list[str]:
    offenders = []
    for path, tree in _python_sources(repo):
        hidden = _translator_names(tree) - KEYWORDS.keys()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and _callee(node) in hidden and node.args
                    and _literal(node.args[0]) is not None):
                offenders.append(f"{path.relative_to(repo)}:{node.lineno}: {ast.unparse(node)[:100]}")
    return offenders


def english_literals_shown_untranslated(repo: Path) -> list[str]:
    offenders = []
    for path, tree in _python_sources(repo):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            shown = [k.value for k in node.keywords if k.arg == "help"]  # typer help texts
            if _callee(node) in USER_SINKS:
                shown += node.args[:1] + [k.value for k in node.keywords if k.arg in ("text", "message")]
            for arg in shown:
                text = _literal(arg)
                if text is not None and ENGLISH_WORDS.search(text):
                    offenders.append(f"{path.relative_to(repo)}:{node.lineno}: {ast.unparse(node)[:100]}")
    return offenders


def commands_documented_only_by_docstring(repo: Path) -> list[str]:
    """Typer shows a command's docstring as its help, and a docstring never goes through the catalog."""
    offenders = []
    for path, tree in _python_sources(repo):
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef) or ast.get_docstring(node) is None:
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and _callee(deco) in ("command", "callback")
                        and not any(k.arg == "help" for k in deco.keywords)):
                    offenders.append(f"{path.relative_to(repo)}:{node.lineno}: {node.name}")
    return offenders


def test_no_translator_hides_its_messages_under_a_name_the_extractor_does_not_know(repo: Path) -> None:
    offenders = translator_calls_the_extractor_misses(repo)
    assert not offenders, "Call the translator t (or mark the message with N_):\n" + "\n".join(offenders)


def test_no_english_sentence_reaches_the_user_without_the_catalog(repo: Path) -> None:
    offenders = english_literals_shown_untranslated(repo)
    assert not offenders, "Pass the text through t()/gettext():\n" + "\n".join(offenders)


def test_no_command_help_is_a_docstring(repo: Path) -> None:
    offenders = commands_documented_only_by_docstring(repo)
    assert not offenders, "Give the command help=gettext(...):\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("source", "checker"),
    [
        ("def f(self, locale):\n    t2 = self.translator(locale)\n    return Reply(t2('Language set to English.'))\n",
         translator_calls_the_extractor_misses),
        ("def f(tr: Translator):\n    return tr('Hello there.')\n", translator_calls_the_extractor_misses),
        ("def f():\n    return Reply('Please choose one of the languages.')\n", english_literals_shown_untranslated),
        ("def f(x):\n    fail(f'Cannot open {x} now.')\n", english_literals_shown_untranslated),
        ("o = typer.Option('', '--unit', help='The unit code.')\n", english_literals_shown_untranslated),
        ("@app.command('x')\ndef x() -> None:\n    'Start the bot now.'\n", commands_documented_only_by_docstring),
    ],
)
def test_the_catalog_checks_catch_each_way_around_the_catalog(tmp_path: Path, source: str, checker) -> None:
    (tmp_path / "bot").mkdir()
    (tmp_path / "bot" / "sample.py").write_text(source, encoding="utf-8")
    for folder in SOURCE_DIRS[1:]:
        (tmp_path / folder).mkdir()
    assert checker(tmp_path), source
