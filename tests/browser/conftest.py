"""Fixtures of the browser tests: reports generated through the real library
(scalene._core, built in-tree by `make lib python`), opened in Debian's
headless Chromium through chromedriver and selenium.

Needs: apt-get install chromium chromium-driver; pip install selenium.
Without Chromium, chromedriver or selenium the tests are skipped, unless
SCALENE_REQUIRE_BROWSER=1, which turns that into a failure (CI sets it).
Screenshots and failing pages go to build/test-artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "build" / "test-artifacts"
sys.path.insert(0, str(ROOT / "bindings" / "python"))
sys.path.insert(0, str(HERE))

DEFAULT_TIMEOUT = 30  # seconds per test; @pytest.mark.browser_timeout(n) overrides


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser_timeout(seconds): per-test time limit")


@pytest.fixture(autouse=True)
def _time_limit(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test gets a wall-clock limit (SIGALRM: interrupts a blocked
    selenium call too)."""
    m = request.node.get_closest_marker("browser_timeout")
    limit = int(m.args[0]) if m else DEFAULT_TIMEOUT

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"test exceeded its {limit} s limit")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(limit)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _missing(what: str) -> None:
    msg = f"browser tests need {what} (apt-get install chromium chromium-driver; pip install selenium)"
    if os.environ.get("SCALENE_REQUIRE_BROWSER") == "1":
        pytest.fail(msg, pytrace=False)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def core() -> Any:
    from scalene import _core  # built by `make python`; a missing build is an error, not a skip
    return _core


def chrome_paths() -> Dict[str, str]:
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    driver = os.environ.get("CHROMEDRIVER") or shutil.which("chromedriver")
    if not driver and Path("/usr/bin/chromedriver").exists():
        driver = "/usr/bin/chromedriver"
    return {"chromium": chromium or "", "chromedriver": driver or ""}


def new_driver(width: int = 1400, height: int = 1000) -> Any:
    """A headless Chromium; the binary and the driver are given explicitly so
    selenium never tries to download either."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chrome_paths()
    opts = webdriver.ChromeOptions()
    opts.binary_location = paths["chromium"]
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              f"--window-size={width},{height}", "--disable-extensions", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-default-apps", "--mute-audio", "--lang=en-US"):
        opts.add_argument(a)
    # An alert must stay open so the XSS test can see it.
    opts.unhandled_prompt_behavior = "ignore"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=paths["chromedriver"]), options=opts)
    drv.set_page_load_timeout(20)
    drv.set_script_timeout(15)
    return drv


@pytest.fixture(scope="session")
def _driver() -> Iterator[Any]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("selenium")
    paths = chrome_paths()
    if not paths["chromium"]:
        _missing("chromium")
    if not paths["chromedriver"]:
        _missing("chromedriver")
    drv = new_driver()
    yield drv
    drv.quit()


@pytest.fixture
def driver(_driver: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The shared browser, with no alert left open and an empty
    localStorage (for file:// pages) at the start of each test."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        _driver.switch_to.alert.dismiss()
    except NoAlertPresentException:
        pass
    _driver.get("about:blank")
    yield _driver
    # keep evidence of a failure
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            _driver.save_screenshot(str(ARTIFACTS / f"failed-{request.node.name}.png"))
        except Exception:
            pass


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


@pytest.fixture
def make_report(core: Any, tmp_path: Path) -> Callable[..., Path]:
    """make_report(doc, name="report") -> path of the HTML report that the
    library renders from `doc` (JSON -> sc_profile_load -> sc_profile_export)."""

    def make(doc: Dict[str, Any], name: str = "report") -> Path:
        src = tmp_path / f"{name}.json"
        dst = tmp_path / f"{name}.html"
        src.write_text(json.dumps(doc), encoding="utf-8")
        core.convert_profile(str(src), str(dst))
        return dst

    return make


@pytest.fixture
def open_report(driver: Any) -> Callable[..., Any]:
    """open_report(path, clear_storage=True, wait_idle=True): load a report,
    wait until it is ready (and fully rendered), return the driver."""
    from selenium.webdriver.support.ui import WebDriverWait

    def open_(path: Path, clear_storage: bool = True, wait_idle: bool = True) -> Any:
        url = path.resolve().as_uri()
        driver.get(url)
        if clear_storage:
            driver.execute_script("localStorage.clear()")
            driver.get(url)
        WebDriverWait(driver, 10).until(
            lambda d: d.execute_script("return window.__scaleneReady !== undefined"))
        if wait_idle:
            WebDriverWait(driver, 15).until(
                lambda d: d.execute_script("return window.__scaleneIdle !== undefined"))
        return driver

    return open_


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
