"""The one-way arrows between the packages, checked on the source: handlers -> bot -> storage,
scheduler -> bot -> storage, leaf types importing nothing but leaf types, SQL only in storage/, the command line
and the wiring imported by nothing in the core. Imports are read with the ast module (inside functions too).

KNOWN_EXCEPTIONS lists what is still broken on this branch, each with its reason; it is emptied as the work of
issue 12 lands, and a listed exception that no longer occurs fails the test, so the list never goes stale.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "scheduler", "storage")

# The leaf types: records, errors, text helpers. Each imports no other module of the project than these, so
# storage/ may use them without reaching into the core. The strictest ones import nothing of the project.
LEAF = frozenset({"bot.domain", "bot.errors", "bot.clock", "bot.ids", "bot.i18n", "bot.vi_text",
                  "bot.campaign_model", "bot.campaign_due", "bot.expressions"})
STRICT_LEAF = frozenset({"bot.domain", "bot.errors", "bot.clock", "bot.ids", "bot.i18n", "bot.vi_text"})
# What starts the program: the command line and the wiring (bot/app.py assembles the core on its database;
# handlers/serve.py runs the channels and the clock around it). Nothing else imports them.
ENTRY = ("bot.cli", "bot.__main__")
WIRING = frozenset({"bot.app", "handlers.serve"})
NETWORK = ("telegram", "httpx", "aiohttp")
SQL = re.compile(r"\b(?:SELECT\b[\s\S]+\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|"
                 r"CREATE\s+(?:UNIQUE\s+)?(?:TABLE|INDEX|TRIGGER|VIEW))\b")

# (rule, module, imported module or "") -> why it is still there. The coordinator empties this after merging.
KNOWN_EXCEPTIONS: dict[tuple[str, str, str], str] = {
}


def _modules() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            if "templates" in path.parts:  # a one-off generator, not part of the running program
                continue
            parts = path.relative_to(REPO).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(module: str, path: Path) -> set[str]:
    out: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            out.add(name)
            # `from bot import uploads` imports the module bot.uploads
            out.update(f"{name}.{a.name}" for a in node.names if _is_module(f"{name}.{a.name}"))
    return out


def _is_module(name: str) -> bool:
    path = REPO / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _project(name: str) -> bool:
    return name.split(".")[0] in PACKAGES


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _kind(module: str) -> str:
    if any(_within(module, e) for e in ENTRY) or module in WIRING:
        return "entry"
    return module.split(".")[0]


def _import_violations(module: str, kind: str, name: str) -> Iterator[tuple[str, str, str]]:
    if kind not in ("handlers", "entry") and name.split(".")[0] in NETWORK:
        yield ("network-only-in-handlers", module, name)
    if kind != "entry" and (any(_within(name, e) for e in ENTRY) or name in WIRING):
        yield ("no-entry-import", module, name)
    top = name.split(".")[0]
    if not _project(name):
        return
    if kind == "storage" and top != "storage" and (top != "bot" or (name not in LEAF and name != "bot")):
        yield ("storage-imports-only-leaf-types", module, name)
    if kind == "bot" and top in ("scheduler", "handlers"):
        yield ("bot-does-not-import-scheduler-or-handlers", module, name)
    if kind == "scheduler" and top == "handlers":
        yield ("scheduler-does-not-import-handlers", module, name)
    if module in LEAF and name not in (set() if module in STRICT_LEAF else LEAF):
        yield ("leaf-imports-only-leaf", module, name)


def _violations() -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for module, path in _modules():
        kind = _kind(module)
        for name in _imports(module, path):
            found.update(_import_violations(module, kind, name))
        if kind != "storage" and any(SQL.search(text) for text in _strings(path)):
            found.add(("sql-only-in-storage", module, ""))
    return found


def _strings(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.JoinedStr):  # an f-string: its literal parts joined
            yield " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))


VIOLATIONS = _violations()


@pytest.mark.parametrize("rule", ["network-only-in-handlers", "no-entry-import", "storage-imports-only-leaf-types",
                                  "bot-does-not-import-scheduler-or-handlers", "scheduler-does-not-import-handlers",
                                  "leaf-imports-only-leaf", "sql-only-in-storage"])
def test_the_packages_import_one_way(rule: str) -> None:
    broken = sorted(v for v in VIOLATIONS if v[0] == rule and v not in KNOWN_EXCEPTIONS)
    assert not broken, f"{rule}: " + "; ".join(f"{m} imports {n}" if n else m for _r, m, n in broken)


def test_every_known_exception_is_still_needed() -> None:
    stale = sorted(set(KNOWN_EXCEPTIONS) - VIOLATIONS)
    assert not stale, f"no longer broken, remove from KNOWN_EXCEPTIONS: {stale}"


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The rules are not vacuous: the readers find an import inside a function, a relative import and SQL
    in an f-string, and leave English prose alone."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from telegram import Bot\n    from .x import y\n"
                      "Q = f'SELECT id FROM units WHERE {x}'\nP = 'Select the report you want from the list.'\n",
                      encoding="utf-8")
    imports = _imports("bot.sub.m", source)
    assert "telegram" in imports
    assert "bot.sub.x" in imports
    matched = {s: bool(SQL.search(s)) for s in _strings(source) if s.startswith(("SELECT", "Select"))}
    assert matched["SELECT id FROM units WHERE "] is True
    assert matched["Select the report you want from the list."] is False
    assert all(_within(m, "bot") or _within(m, "handlers") or _within(m, "scheduler") or _within(m, "storage")
               for m, _p in _modules())
    assert sum(1 for _ in _modules()) > 50
