"""--help in the administrator's language.

Typer reads every help text when the commands are declared, before --config is parsed, so the language is
read here cheaply from what configures it: BOT__APP__LANGUAGE, else [app] language of the config file that
--config or BOT_CONFIG names (or the default one); Vietnamese when none says otherwise.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from typer.core import TyperGroup

from bot.config import CONFIG_ENV, DEFAULT_CONFIG, ENV_PREFIX
from bot.i18n import DEFAULT_LOCALE, N_, Translator, normalise_locale

LANGUAGE_ENV = f"{ENV_PREFIX}APP__LANGUAGE"

# The framework's own words on a help screen, marked so that the catalogs carry them.
_FRAMEWORK = {
    "ARGUMENTS_PANEL_TITLE": N_("Arguments"),
    "OPTIONS_PANEL_TITLE": N_("Options"),
    "COMMANDS_PANEL_TITLE": N_("Commands"),
    "ERRORS_PANEL_TITLE": N_("Error"),
    "ABORTED_TEXT": N_("Aborted."),
    "REQUIRED_LONG_STRING": N_("[required]"),
    "DEFAULT_STRING": N_("[default: {}]"),
    "RICH_HELP": N_("Try [blue]'{command_path} {help_option}'[/] for help."),
}
HELP_OPTION = N_("Show this message and exit.")
USAGE = N_("Usage:")


def _config_path(argv: Sequence[str], environ: Mapping[str, str]) -> Path:
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.partition("=")[2])
    return Path(environ[CONFIG_ENV]) if environ.get(CONFIG_ENV) else DEFAULT_CONFIG


def cli_language(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The language the configuration asks for; a missing or broken file is reported later, by the command."""
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    if environ.get(LANGUAGE_ENV):
        return normalise_locale(environ[LANGUAGE_ENV])
    try:
        data = tomllib.loads(_config_path(argv, environ).read_text(encoding="utf-8"))
        app = data.get("app", {})
        language = app.get("language") if isinstance(app, dict) else None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return DEFAULT_LOCALE
    return normalise_locale(language) if isinstance(language, str) else DEFAULT_LOCALE


HELP = Translator(cli_language())
# Named gettext so that the catalog extractor finds every help text: help=gettext("...").
gettext = HELP.gettext


def _localise_framework() -> None:
    from typer import rich_utils  # imported by typer only when a help screen or an error is printed

    for name, message in _FRAMEWORK.items():
        setattr(rich_utils, name, HELP(message))


@lru_cache(maxsize=4)
def _local_context(base: type) -> type:
    """The command's context class, with a help formatter that heads the usage line in the language."""

    class LocalFormatter(base.formatter_class):  # type: ignore[name-defined]
        def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
            super().write_usage(prog, args, f"{HELP(USAGE)} " if prefix is None else prefix)

    return type("LocalContext", (base,), {"formatter_class": LocalFormatter})


class LocalGroup(TyperGroup):
    """A command group whose help screens, and those of its commands, speak the configured language."""

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP(HELP_OPTION)
        return option

    def get_usage(self, ctx: Any) -> str:
        usage = super().get_usage(ctx)
        return usage.replace("Usage: ", f"{HELP(USAGE)} ", 1) if usage.startswith("Usage: ") else usage

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        _localise_framework()  # a subcommand's help screen and its usage errors pass here first
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, LocalGroup):
            context_type: type = type(ctx)
            command.context_class = _local_context(context_type)
            option = command.get_help_option(ctx)
            if option is not None:
                option.help = HELP(HELP_OPTION)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _localise_framework()
        super().format_help(ctx, formatter)
