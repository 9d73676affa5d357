"""Helpers for tests against the real thing: the `newsearch serve` process on a free port, and Debian's headless
Chromium driven by Selenium. Without Chromium a test fails in CI (CI=true) with how to install it, and skips
locally."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("NEWSEARCH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NEWSEARCH_CHROMEDRIVER", "/usr/bin/chromedriver"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
    "--lang=zh-CN",
)
START_SECONDS = 60


def require_browser():
    """Skip locally, fail in CI, when the browser or its driver is missing."""
    problems = [f"{path} not found" for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        problems.append("the selenium package is not installed (pip install selenium)")
    if problems:
        message = (
            "browser test needs Chromium and chromedriver: "
            + "; ".join(problems)
            + " — run .ci/install-system-deps (apt-get install chromium chromium-driver)"
        )
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(index_dir: Path, tmp_path: Path, *options: str, process_out: list | None = None):
    """`python -m search.cli serve` on `index_dir` (with extra command-line `options`); yields its base URL once it
    answers, stops it afterwards. `process_out` receives the server's Popen."""
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSEARCH_INDEX", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "search.cli", "serve", "--index", str(index_dir), "--port", str(port), *options],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if process_out is not None:
        process_out.append(process)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                with opener.open(f"{base}/api/stats", timeout=2) as response:
                    if response.status == 200:
                        break
            except urllib.error.HTTPError as exc:  # it answers, but not with the index
                body = exc.read().decode("utf-8", "replace")
                exc.close()
                pytest.fail(f"the server answered /api/stats with {exc.code}: {body}")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the server did not answer within {START_SECONDS} s:\n{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def chrome(tmp_path: Path, browser_log: bool = False, javascript: bool = True):
    """A headless Chromium session (with the console log kept when `browser_log`; scripts off unless
    `javascript`)."""
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    if browser_log:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def child_pids(pid: int) -> set[int]:
    """Live child processes of `pid` (from /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.add(int(stat.parent.name))
    return children
