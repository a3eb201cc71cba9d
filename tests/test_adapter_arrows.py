"""The port between the adapters and the core, checked at the level of the source text: the adapters in
handlers/ talk to the core through bot.port (and the leaf types of bot.channels, bot.domain, ...), never to
storage/ or the command line, and never reach through the conversation to its database or clock; the
messenger libraries are imported in handlers/ only.

handlers/serve.py is the wiring (it opens the database, builds the core and the channels, and runs the
clock): it may build the Conversation, but it imports no storage/ and no command line either."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIRING = {"handlers/serve.py"}
MESSENGER_LIBRARIES = ("telegram", "httpx", "aiohttp")


def modules(package: str) -> list[Path]:
    found = sorted((ROOT / package).rglob("*.py"))
    assert found, f"no modules under {package}/"
    return found


def imported(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (imports inside functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_no_module_in_handlers_imports_storage_or_the_command_line() -> None:
    offenders = {rel(p): sorted(n for n in imported(p) if under(n, "storage") or under(n, "bot.cli"))
                 for p in modules("handlers")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_adapters_reach_the_core_only_through_the_port() -> None:
    """Not bot.conversation, not bot.intake, not the reminder planner: the typed events and responses come
    from bot.port, which is what the adapters are given."""
    inner = ("bot.conversation", "bot.intake", "bot.app", "scheduler")
    offenders = {rel(p): sorted(n for n in imported(p) if any(under(n, i) for i in inner))
                 for p in modules("handlers") if rel(p) not in WIRING}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_adapters_never_touch_the_database_or_the_conversations_clock() -> None:
    reaching = re.compile(r"\b(?:conversation|port|deps)\.(?:db|clock|_conversation)\b|\bDatabase\b")
    offenders = {rel(p): reaching.findall(p.read_text(encoding="utf-8")) for p in modules("handlers")
                 if rel(p) not in WIRING}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_messenger_libraries_are_imported_only_in_handlers() -> None:
    offenders = {rel(p): sorted(n for n in imported(p) if any(under(n, lib) for lib in MESSENGER_LIBRARIES))
                 for package in ("bot", "scheduler", "storage") for p in modules(package)}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checks_above_see_imports_wherever_they_are_written(tmp_path: Path) -> None:
    """The reader finds a storage import inside a function and a `from x import y` form alike."""
    sample = tmp_path / "sample.py"
    sample.write_text("import os\n\ndef f():\n    from storage import people\n    import telegram.ext\n",
                      encoding="utf-8")
    names = imported(sample)
    assert {"os", "storage", "storage.people", "telegram.ext"} <= names
    assert any(under(n, "storage") for n in names)
