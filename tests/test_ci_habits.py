"""The habits the CI script and the suite's options keep: a run that tests nothing fails loudly, the type checker
runs after the tests, slow tests run unless a run asks to skip them, and then each skip says why."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import REPO

pytest_plugins = ["pytester"]

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed: .ci/run is a bash script")


def run_ci(tmp_path: Path, pytest_status: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """.ci/run in a copy of the repository's layout, with a python3 on PATH that records each call and answers
    `pytest_status` for pytest (0 for everything else), so nothing is installed or run for real."""
    (tmp_path / "repo" / ".ci").mkdir(parents=True)
    script = tmp_path / "repo" / ".ci" / "run"
    shutil.copy(REPO / ".ci" / "run", script)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    calls = tmp_path / "calls.txt"
    fake.write_text(textwrap.dedent(f"""\
        #!/usr/bin/env bash
        echo "$*" >> "{calls}"
        if [ "$2" = pytest ]; then exit {pytest_status}; fi
        exit 0
        """), encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    for tool in ("apt-get", "sudo"):  # an install is recorded, never run
        (bin_dir / tool).write_text(f'#!/usr/bin/env bash\necho "{tool} $*" >> "{tmp_path / "installs.txt"}"\n',
                                    encoding="utf-8")
        (bin_dir / tool).chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", **(env or {})}
    return subprocess.run(["bash", str(script)], capture_output=True, text=True, env=env, timeout=60, check=False)


@needs_bash
def test_ci_fails_loudly_when_pytest_collects_no_tests(tmp_path: Path) -> None:
    result = run_ci(tmp_path, pytest_status=5)
    assert result.returncode == 5
    assert "collected no tests" in result.stderr
    assert "-m ruff" not in (tmp_path / "calls.txt").read_text(encoding="utf-8")


@needs_bash
def test_ci_stops_with_the_tests_exit_status_when_a_test_fails(tmp_path: Path) -> None:
    result = run_ci(tmp_path, pytest_status=1)
    assert result.returncode == 1
    assert "CI FAILED" in result.stderr


@needs_bash
def test_ci_runs_the_linter_and_then_the_type_checker_after_green_tests(tmp_path: Path) -> None:
    result = run_ci(tmp_path, pytest_status=0)
    assert result.returncode == 0, result.stderr
    calls = [line.split()[:2] for line in (tmp_path / "calls.txt").read_text(encoding="utf-8").splitlines()]
    assert calls == [["-m", "pip"], ["-m", "pytest"], ["-m", "ruff"], ["-m", "mypy"]]


@needs_bash
def test_ci_installs_the_browser_for_the_dashboard_tests_when_it_is_missing(tmp_path: Path) -> None:
    result = run_ci(tmp_path, pytest_status=0, env={"TEST_CHROMIUM": str(tmp_path / "no-chromium"),
                                                    "TEST_POSTGRES_URL": "postgresql://ci@127.0.0.1/x"})
    assert result.returncode == 0, result.stderr
    installs = (tmp_path / "installs.txt").read_text(encoding="utf-8")
    assert "install -y -qq --no-install-recommends chromium chromium-driver" in installs
    assert "postgresql" not in installs


@needs_bash
def test_ci_installs_nothing_when_the_browser_is_there(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\n", encoding="utf-8")
    fake.chmod(0o755)
    result = run_ci(tmp_path, pytest_status=0, env={"TEST_CHROMIUM": str(fake), "TEST_CHROMEDRIVER": str(fake),
                                                    "TEST_POSTGRES_URL": "postgresql://ci@127.0.0.1/x"})
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "installs.txt").exists()


SUITE = """
import pytest

@pytest.mark.slow
def test_long():
    pass

def test_short():
    pass
"""


def suite_with_our_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest("from tests.conftest import pytest_addoption, pytest_collection_modifyitems, "
                          "pytest_configure  # noqa: F401")
    pytester.makepyfile(test_suite=SUITE)


def test_slow_tests_run_by_default(pytester: pytest.Pytester) -> None:
    suite_with_our_options(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_skip_slow_skips_only_the_slow_tests_and_says_why(pytester: pytest.Pytester) -> None:
    suite_with_our_options(pytester)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", "--skip-slow")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*SKIPPED*marked slow*--skip-slow*"])
