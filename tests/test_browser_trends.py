"""Trends and the zooming date histogram in a real browser (Debian's headless Chromium through Selenium, the
`newsearch serve` process over the dated archive of tests/test_trends.py): the chart is drawn, the table beside it
shows the API's numbers, clicking a point, a table link or Enter on the focused chart opens the search of that query
and period, and the results page's histogram zooms from years to months to days. Screenshots stay in the test's
temporary directory, as tests/test_browser.py keeps its own."""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from tests.live import chrome, served
from tests.test_trends import build_index, write_archive

pytestmark = pytest.mark.browser  # Chromium through Selenium


@pytest.fixture(scope="module")
def dated_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("trends-served")
    (root / "archive").mkdir()
    index_dir = build_index(write_archive(root / "archive"), root / "index")
    with served(index_dir, root) as base:
        yield base


@pytest.fixture()
def browser(tmp_path):
    with chrome(tmp_path, browser_log=True) as driver:
        yield driver


def api(base: str, path: str) -> dict:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(base + path, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))


def search_state(url: str) -> tuple[str, list[str], list[str], list[str]]:
    query = parse_qs(urlsplit(url).query)
    return urlsplit(url).path, query.get("q", []), query.get("date_from", []), query.get("date_to", [])


def test_compare_two_queries_by_month_and_click_into_a_month(browser, dated_server, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    params = f"q={quote('复工')}&q={quote('口罩')}&bucket=month&norm=share"
    data = api(dated_server, f"/api/trends?{params}")
    browser.get(f"{dated_server}/trends?{params}")
    canvas = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas#trend-canvas[data-ready=true]")))
    assert canvas.size["width"] > 300 and canvas.size["height"] > 200
    assert "折线图" in canvas.get_attribute("aria-label") and canvas.get_attribute("tabindex") == "0"
    drawn = browser.execute_script(
        "var c = Chart.getChart(arguments[0]); return [c.data.datasets.length, c.data.labels.length,"
        " c.data.datasets[0].data];",
        canvas,
    )
    assert drawn[:2] == [2, len(data["periods"])] and drawn[2] == data["series"][0]["values"]
    assert not [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]

    # the table beside the chart: the same numbers, a caption, a link per point
    table = browser.find_element(By.CSS_SELECTOR, "table#trend-table")
    assert "复工、口罩" in table.find_element(By.TAG_NAME, "caption").text
    rows = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) == len(data["periods"])
    for row, period, share_a, count_a in zip(
        rows, data["periods"], data["series"][0]["shares"], data["series"][0]["counts"]
    ):
        cells = row.find_elements(By.TAG_NAME, "td")
        assert row.find_element(By.TAG_NAME, "th").text == period["value"]
        assert cells[0].text == f"{'—' if share_a is None else share_a} ({count_a})"
        assert cells[-1].text == str(period["articles"])
    shot = tmp_path / "trends-month-share.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # clicking a point of the first line opens that query's search for that month
    at = max(range(len(data["periods"])), key=lambda i: data["series"][0]["counts"][i])
    period, count = data["periods"][at], data["series"][0]["counts"][at]
    x, y = browser.execute_script(
        "var p = Chart.getChart(arguments[0]).getDatasetMeta(0).data[arguments[1]]; return [p.x, p.y];", canvas, at
    )
    left = x - canvas.size["width"] / 2
    top = y - canvas.size["height"] / 2
    ActionChains(browser).move_to_element_with_offset(canvas, int(left), int(top)).click().perform()
    wait.until(EC.url_contains("/search?"))
    assert search_state(browser.current_url) == ("/search", ["复工"], [period["from"]], [period["to"]])
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".totals strong")))
    assert int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text) == count
    shot = tmp_path / "trends-clicked-month.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # the table's link for another month, of the second query
    browser.back()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas#trend-canvas[data-ready=true]")))
    other = next(i for i, c in enumerate(data["series"][1]["counts"]) if c)
    link = browser.find_elements(By.CSS_SELECTOR, "table#trend-table tbody tr")[other].find_elements(
        By.CSS_SELECTOR, "a.trend-point"
    )[1]
    assert "口罩" in link.get_attribute("aria-label")
    link.click()
    wait.until(EC.url_contains("/search?"))
    p = data["periods"][other]
    assert search_state(browser.current_url) == ("/search", ["口罩"], [p["from"]], [p["to"]])
    assert int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text) == data["series"][1]["counts"][other]

    # the keyboard: focus the chart, two periods right, the second query, Enter
    browser.back()
    canvas = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas#trend-canvas[data-ready=true]")))
    canvas.send_keys(Keys.ARROW_RIGHT, Keys.ARROW_RIGHT, Keys.ARROW_DOWN)
    browser.save_screenshot(str(tmp_path / "trends-keyboard.png"))
    canvas.send_keys(Keys.ENTER)
    wait.until(EC.url_contains("/search?"))
    p = data["periods"][2]
    assert search_state(browser.current_url) == ("/search", ["口罩"], [p["from"]], [p["to"]])


def test_the_results_histogram_zooms_from_years_to_months_to_days(browser, dated_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    # collapse=false: the archive's short bodies are alike enough to be folded as reprints, and the page's total
    # then counts clusters where the histogram counts articles
    browser.get(f"{dated_server}/search?q={quote('复工')}&collapse=false")
    histogram = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#facet-date ul.histogram")))
    assert histogram.get_attribute("aria-label") == "按年分布"
    labels = [e.text for e in histogram.find_elements(By.CSS_SELECTOR, ".bar-label")]
    assert labels == ["2019", "2020", "2021", "2022", "2023"]
    browser.save_screenshot(str(tmp_path / "histogram-years.png"))

    histogram.find_elements(By.CSS_SELECTOR, "li a")[1].click()  # 2020
    wait.until(EC.url_contains("date_from=2020-01-01"))
    assert "date_to=2020-12-31" in browser.current_url
    histogram = browser.find_element(By.CSS_SELECTOR, "#facet-date ul.histogram")
    assert histogram.get_attribute("aria-label") == "按月分布"
    items = histogram.find_elements(By.CSS_SELECTOR, "li")
    assert [i.find_element(By.CSS_SELECTOR, ".bar-label").text for i in items] == [
        f"2020-{m:02d}" for m in range(1, 13)
    ]
    assert items[5].find_element(By.CSS_SELECTOR, ".count").text == "0"  # June: an empty month still shows
    counts = [int(i.find_element(By.CSS_SELECTOR, ".count").text) for i in items]
    assert sum(counts) == int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text)
    shot = tmp_path / "histogram-months.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    items[2].find_element(By.TAG_NAME, "a").click()  # March 2020
    wait.until(EC.url_contains("date_from=2020-03-01"))
    histogram = browser.find_element(By.CSS_SELECTOR, "#facet-date ul.histogram")
    assert histogram.get_attribute("aria-label") == "按日分布"
    assert len(histogram.find_elements(By.CSS_SELECTOR, "li")) == 31
    assert int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text) == counts[2]
    browser.save_screenshot(str(tmp_path / "histogram-days.png"))

    # the trends link under the histogram carries the query and the range
    browser.find_element(By.CSS_SELECTOR, "#facet-date a.trend-link").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas#trend-canvas[data-ready=true]")))
    query = parse_qs(urlsplit(browser.current_url).query)
    assert query["q"] == ["复工"] and query["date_from"] == ["2020-03-01"] and query["date_to"] == ["2020-03-31"]
    assert len(browser.find_elements(By.CSS_SELECTOR, "table#trend-table tbody tr")) == 31  # auto: days


@pytest.mark.real_archive
def test_on_a_real_archive_compare_by_month_as_a_share_and_click_into_a_month(browser, tmp_path):
    """乡村振兴 against 脱贫攻坚 by month, per 10,000 articles; the busiest month of 乡村振兴 clicked on the chart
    opens its search, whose total is the point's count."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    index_copy = tmp_path / "index"
    shutil.copytree(os.environ["NEWSEARCH_REAL_INDEX"], index_copy)
    with served(index_copy, tmp_path) as base:
        wait = WebDriverWait(browser, 60)
        params = f"q={quote('乡村振兴')}&q={quote('脱贫攻坚')}&bucket=month&norm=share"
        data = api(base, f"/api/trends?{params}")
        browser.get(f"{base}/trends?{params}")
        canvas = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "canvas#trend-canvas[data-ready=true]")))
        rows = browser.find_elements(By.CSS_SELECTOR, "table#trend-table tbody tr")
        assert len(rows) == len(data["periods"]) > 100
        shot = tmp_path / "real-trends-month-share.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
        at = max(range(len(data["periods"])), key=lambda i: data["series"][0]["counts"][i])
        period, count = data["periods"][at], data["series"][0]["counts"][at]
        x, y = browser.execute_script(
            "var p = Chart.getChart(arguments[0]).getDatasetMeta(0).data[arguments[1]]; return [p.x, p.y];",
            canvas,
            at,
        )
        offset = (int(x - canvas.size["width"] / 2), int(y - canvas.size["height"] / 2))
        ActionChains(browser).move_to_element_with_offset(canvas, *offset).click().perform()
        wait.until(EC.url_contains("/search?"))
        assert search_state(browser.current_url) == ("/search", ["乡村振兴"], [period["from"]], [period["to"]])
        assert int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text) == count
        search = api(base, f"/api/search?q={quote('乡村振兴')}&date_from={period['from']}&date_to={period['to']}")
        assert search["total"] == count
        histogram = browser.find_element(By.CSS_SELECTOR, "#facet-date ul.histogram")
        assert histogram.get_attribute("aria-label") == "按日分布"  # the month's days, zeros included
        shot = tmp_path / "real-trends-clicked-month.png"
        assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000
