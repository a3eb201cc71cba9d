"""Headless Chromium for the dashboard's end-to-end tests: Debian's `chromium` and `chromium-driver`, driven by
Selenium with both paths given, so that Selenium Manager never runs and nothing is downloaded (SE_OFFLINE=true
as well); a temporary profile, downloads into a folder, screenshots at a phone's and a desktop's size.

Without a browser the tests skip and say why; under CI=true (.ci/run installs the packages) that is a failure."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = Path(os.environ.get("TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("TEST_CHROMEDRIVER", "/usr/bin/chromedriver"))
PHONE = (360, 740)
DESKTOP = (1280, 800)
SIZES = {"360x740": PHONE, "1280x800": DESKTOP}
WAIT = 20.0  # seconds for a page or a download: generous on 2 busy cores, a hang still ends
T = TypeVar("T")

# Chromium stays off the network: no component or safe-browsing updates, no sync, no first-run pages.
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-features=Translate,OptimizationHints,MediaRouter", "--metrics-recording-only",
         "--disable-gpu", "--disable-dev-shm-usage", "--lang=vi")


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return 'selenium is not installed (python3 -m pip install -e ".[test]")'
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"no {path} (apt-get install chromium chromium-driver; .ci/run installs them)"
    return None


def require_browser() -> None:
    """Skip with the reason when there is no browser; under CI=true fail instead: CI must run these tests."""
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: CI must run the browser tests)")
    pytest.skip(reason)


class Browser:
    """One headless Chromium for a test module, and the few things the tests ask of it."""

    def __init__(self, driver: WebDriver, base_url: str, downloads: Path, shots: Path) -> None:
        self.driver = driver
        self.base_url = base_url
        self.downloads = downloads
        self.shots = shots
        self.size = DESKTOP
        self._requested: list[str] = []
        self.resize(*DESKTOP)

    def open(self, path: str) -> None:
        """Load `path` afresh. An address with a fragment (#tgWebAppData=...) loads from a blank page, as Telegram
        opens a Mini App: from a page of the same path, changing only the fragment would not load anything."""
        if "#" in path:
            self.driver.get("about:blank")
        self.driver.get(self.base_url + path)

    def path(self) -> str:
        url = str(self.driver.current_url)
        return url[len(self.base_url):] if url.startswith(self.base_url) else url

    def resize(self, width: int, height: int) -> None:
        """The viewport exactly width×height (a window's size would include its frame): a phone's is a mobile
        viewport, as Telegram's in-app browser has."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 720})
        self.size = (width, height)

    def find(self, css: str) -> WebElement:
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[WebElement]:
        from selenium.webdriver.common.by import By
        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def wait_for(self, css: str, timeout: float = WAIT) -> WebElement:
        """The first element matching `css` once the page has it (pages that sign in move by script)."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.wait import WebDriverWait
        try:
            found: WebElement = WebDriverWait(self.driver, timeout).until(
                expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css)))
        except Exception as exc:
            raise AssertionError(f"no {css} on {self.path()} after {timeout:.0f} s; the page says: "
                                 f"{self.text()[:600]!r}") from exc
        return found

    def text(self) -> str:
        from selenium.webdriver.common.by import By
        return str(self.driver.find_element(By.TAG_NAME, "body").text)

    def submit(self, button: WebElement) -> None:
        """Press a form's button and accept the confirmation a form may ask for (data-confirm), then wait until
        the next page has loaded (the old document carried a mark the new one has not)."""
        from selenium.common.exceptions import NoAlertPresentException, WebDriverException
        self.driver.execute_script("window.__leaving = true")
        button.click()
        with suppress(NoAlertPresentException):
            self.driver.switch_to.alert.accept()
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            try:
                if self.driver.execute_script("return window.__leaving !== true && document.readyState === 'complete'"):
                    return
            except WebDriverException:  # between two documents
                pass
            time.sleep(0.05)
        raise AssertionError(f"pressing the button on {self.path()} did not load a page")

    def overflow(self) -> list[str]:
        """What sticks out past the viewport's right edge, outside `.scroll` boxes (empty: no horizontal
        scrollbar on the document)."""
        found: list[str] = self.driver.execute_script("""
            const root = document.documentElement, width = root.clientWidth;
            if (root.scrollWidth <= width) { return []; }
            const wide = [...document.body.querySelectorAll('*')].filter(
              el => !el.closest('.scroll') && el.getBoundingClientRect().right > width + 0.5);
            // The innermost ones name the culprit: an element none of whose children sticks out.
            const inner = wide.filter(el => !wide.some(other => other !== el && el.contains(other)));
            const out = inner.slice(0, 6).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
              ' right=' + Math.round(el.getBoundingClientRect().right) + ' ' +
              JSON.stringify((el.textContent || '').trim().slice(0, 60)));
            return out.length ? out : ['document scrollWidth ' + root.scrollWidth + ' > ' + width];
        """)
        return found

    def shoot(self, name: str) -> dict[str, list[str]]:
        """Screenshots of the page open now at every size (`name-360x740.png`, `name-1280x800.png`); returns
        what overflows the document horizontally at each size."""
        problems: dict[str, list[str]] = {}
        for label, (width, height) in SIZES.items():
            self.resize(width, height)
            self.driver.execute_script("window.scrollTo(0, 0)")
            problems[label] = self.overflow()
            path = self.shots / f"{name}-{label}.png"
            if not self.driver.save_screenshot(str(path)):
                raise AssertionError(f"no screenshot written to {path}")
        self.resize(*DESKTOP)
        return problems

    def downloaded(self, suffix: str, timeout: float = WAIT) -> Path:
        """The file with `suffix` in the download folder, once Chromium has finished writing it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = [p for p in self.downloads.iterdir() if p.name.endswith(suffix)]
            partial = [p for p in self.downloads.iterdir() if p.name.endswith(".crdownload")]
            if done and not partial:
                return done[0]
            time.sleep(0.1)
        raise AssertionError(f"no *{suffix} in {self.downloads} after {timeout:.0f} s: "
                             f"{sorted(p.name for p in self.downloads.iterdir())}")

    def requested(self) -> list[str]:
        """Every address the pages have asked for since the browser started (Chromium's network log)."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") == "Network.requestWillBeSent":
                self._requested.append(str(message["params"]["request"]["url"]))
        return list(self._requested)

    def cookies(self) -> dict[str, str]:
        return {str(c["name"]): str(c["value"]) for c in self.driver.get_cookies()}


@contextmanager
def chromium(base_url: str, shots: Path) -> Iterator[Browser]:
    """A headless Chromium with a temporary profile and download folder, closed at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    offline = os.environ.get("SE_OFFLINE")
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager may never reach the network
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    downloads = Path(tempfile.mkdtemp(prefix="chromium-downloads-"))
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    options.add_argument("--headless=new")
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to start as root
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={DESKTOP[0]},{DESKTOP[1]}")
    for flag in QUIET:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the pages make
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False, "intl.accept_languages": "vi,en"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    finally:
        if offline is None:
            del os.environ["SE_OFFLINE"]
        else:
            os.environ["SE_OFFLINE"] = offline
    try:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {
            "behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": False})
        driver.set_page_load_timeout(WAIT)
        yield Browser(driver, base_url, downloads, shots)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)


class LoopThread:
    """An asyncio loop in a thread of its own: the bot's web server runs there while the test (Selenium is
    synchronous) drives the browser; `run` executes a coroutine on that loop and waits for its result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="web-server", daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()
