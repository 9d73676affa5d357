"""A real browser against the real server: Debian's headless Chromium driven by Selenium (chromedriver from
/usr/bin), the `newsearch serve` process on a free port over a copy of the seed index.

Without Chromium the test fails in CI (CI=true) with a message saying how to install it, and skips locally.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("NEWSEARCH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("NEWSEARCH_CHROMEDRIVER", "/usr/bin/chromedriver"))
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1280,1000", "--lang=zh-CN")


def require_browser():
    """Skip locally, fail in CI, when the browser or its driver is missing."""
    problems = [f"{path} not found" for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        problems.append("the selenium package is not installed (pip install selenium)")
    if problems:
        message = "browser test needs Chromium and chromedriver: " + "; ".join(problems) + \
                  " — run .ci/install-system-deps (apt-get install chromium chromium-driver)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def server(seed_index, tmp_path):
    """`python -m search.cli serve` on a copy of the seed index; yields its base URL, stops it afterwards."""
    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    port = free_port()
    log_path = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSEARCH_INDEX", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "search.cli", "serve", "--index", str(index_copy), "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP(S)_PROXY
    try:
        deadline = time.monotonic() + 60
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
                pytest.fail(f"the server did not answer within 60 s:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture()
def browser(tmp_path):
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def test_search_then_narrow_by_region(browser, server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(server + "/")
    assert "新闻检索" in browser.title

    box = browser.find_element(By.CSS_SELECTOR, "form.search-form input[name=q]")
    box.clear()
    box.send_keys("复工")
    box.send_keys(Keys.ENTER)
    wait.until(EC.url_contains("q=%E5%A4%8D%E5%B7%A5"))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.result")))
    before = browser.find_element(By.CSS_SELECTOR, ".totals strong").text
    assert int(before) > 0
    assert browser.find_elements(By.CSS_SELECTOR, "li.result .snippet mark")

    hunan = browser.find_element(By.CSS_SELECTOR, '#facet-region li[data-value="湖南省"] a.facet-toggle')
    assert hunan.text == "湖南省"
    hunan.click()
    wait.until(EC.url_contains("region="))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "a.chip")))

    results = browser.find_elements(By.CSS_SELECTOR, "li.result")
    assert results, "filtered results"
    for result in results:
        regions = " ".join(r.text for r in result.find_elements(By.CSS_SELECTOR, ".regions .region"))
        assert "湖南" in regions, regions
    marks = browser.find_elements(By.CSS_SELECTOR, "li.result .snippet mark")
    assert marks and all(m.text == "复工" for m in marks)
    assert int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text) <= int(before)
    assert browser.find_element(By.CSS_SELECTOR, '#facet-region li[data-value="湖南省"] input').is_selected()
    assert "湖南省" in browser.find_element(By.CSS_SELECTOR, "a.chip").text

    shot = tmp_path / "search-hunan.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # the article page, reached by clicking the first headline, shows the query highlighted
    browser.find_element(By.CSS_SELECTOR, "li.result h3 a").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".story-body")))
    assert browser.find_elements(By.CSS_SELECTOR, ".story-body mark")
    browser.save_screenshot(str(tmp_path / "article.png"))
