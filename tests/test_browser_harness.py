"""The browser tests' harness: without Chromium they skip and say why, except under CI=true, where a missing
browser fails them (.ci/run installs it): CI must never pass by skipping the real-browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser


def test_without_a_browser_the_tests_skip_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"no .*chromium .*apt-get install chromium chromium-driver"):
        browser.require_browser()


def test_without_a_driver_under_ci_the_tests_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"chromedriver .*CI=true: CI must run the browser tests"):
        browser.require_browser()


def test_the_packages_found_the_tests_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("chromium", "chromedriver"):
        (tmp_path / name).write_text("#!/bin/sh\n", encoding="utf-8")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "chromium")
    monkeypatch.setattr(browser, "CHROMEDRIVER", tmp_path / "chromedriver")
    monkeypatch.setenv("CI", "true")
    assert browser.unavailable() is None
    browser.require_browser()
