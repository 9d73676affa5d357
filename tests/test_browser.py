"""A real browser against the real server: Debian's headless Chromium driven by Selenium (chromedriver from
/usr/bin), the `newsearch serve` process on a free port over a copy of the seed index.

Without Chromium the test fails in CI (CI=true) with a message saying how to install it, and skips locally.
"""

from __future__ import annotations

import shutil

import pytest

from tests.live import chrome, served

pytestmark = pytest.mark.browser  # Chromium through Selenium


@pytest.fixture()
def server(seed_index, tmp_path):
    """`python -m search.cli serve` on a copy of the seed index; yields its base URL, stops it afterwards."""
    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    with served(index_copy, tmp_path) as base:
        yield base


@pytest.fixture()
def browser(tmp_path):
    with chrome(tmp_path) as driver:
        yield driver


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


def test_region_checkboxes_drill_down_and_back_up(browser, server):
    """With scripts on, a region's checkbox does what its link does: checking a city under the chosen province
    narrows to the city, checking the province again widens to it (seeds: 湖南省 17, 株洲市 9)."""
    from urllib.parse import parse_qs, urlsplit

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)

    def check(value: str) -> None:
        box = browser.find_element(By.CSS_SELECTOR, f'#facet-region li[data-value="{value}"] input[type=checkbox]')
        assert not box.is_selected()
        url = browser.current_url
        browser.execute_script("arguments[0].click()", box)  # the box may sit under its label
        wait.until(EC.url_changes(url))
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#facet-region")))

    def state() -> tuple[list[str], int]:
        regions = parse_qs(urlsplit(browser.current_url).query).get("region", [])
        return regions, int(browser.find_element(By.CSS_SELECTOR, ".totals strong").text)

    browser.get(server + "/search?region=湖南省")
    assert state() == (["湖南省"], 17)
    check("湖南省/株洲市")
    assert state() == (["湖南省/株洲市"], 9)
    check("湖南省")
    assert state() == (["湖南省"], 17)


def test_similar_reports_and_the_source_page(browser, server, tmp_path):
    """A folded hit opens its "相似报道" list without JavaScript; the article page leads to the source page, which
    jumps to the article's first line and marks its lines; a query error is marked under its character."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.get(server + "/search?q=恢复出让")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.result")))
    assert len(browser.find_elements(By.CSS_SELECTOR, "li.result")) == 1  # two copies of one notice, folded
    details = browser.find_element(By.CSS_SELECTOR, "li.result details.similar")
    summary = details.find_element(By.TAG_NAME, "summary")
    assert summary.text == "另有 1 篇相似报道"
    link = details.find_element(By.CSS_SELECTOR, "ul a")
    assert not link.is_displayed()
    summary.click()
    wait.until(EC.visibility_of(link))
    assert details.get_attribute("open") is not None
    other_headline = link.text
    assert other_headline.endswith("恢复出让公告")
    browser.save_screenshot(str(tmp_path / "search-similar.png"))

    # the similar article's page: provenance, then "查看原版面"
    link.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".provenance")))
    assert browser.find_element(By.CSS_SELECTOR, ".story-headline").text == other_headline
    provenance = browser.find_element(By.CSS_SELECTOR, ".provenance").text
    assert "株洲日报" in provenance and "003_a8830f866c506400.txt" in provenance and "行" in provenance
    assert browser.find_element(By.CSS_SELECTOR, ".date-source").text == "版面日期"
    shot = tmp_path / "article.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    source_link = browser.find_element(By.CSS_SELECTOR, "a.source-link")
    assert source_link.text == "查看原版面"
    source_link.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "ol.source-lines")))
    marked = browser.find_elements(By.CSS_SELECTOR, "li.line.in-article")
    start = int(browser.current_url.rsplit("#L", 1)[1])
    assert marked and marked[0].get_attribute("id") == f"L{start}"
    assert other_headline in marked[0].text
    plain = browser.find_element(By.CSS_SELECTOR, "li.line:not(.in-article)")
    assert marked[-1].value_of_css_property("background-color") != plain.value_of_css_property("background-color")
    assert browser.execute_script("return window.scrollY") > 0, "the page opens at the article's first line"
    top = browser.execute_script("return arguments[0].getBoundingClientRect().top", marked[0])
    assert 0 <= top < browser.execute_script("return window.innerHeight")
    shot = tmp_path / "source.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    # the search box leads to the query language help; a bad query is marked where it went wrong
    browser.find_element(By.CSS_SELECTOR, "a.syntax-help").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.syntax")))
    assert browser.find_element(By.TAG_NAME, "h1").text == "搜索语法"
    browser.get(server + "/search?q=" + '复工 "企业')
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".query-marker")))
    assert (
        browser.find_element(By.CSS_SELECTOR, "form.search-form input[name=q]").get_attribute("value") == '复工 "企业'
    )
    fault = browser.find_element(By.CSS_SELECTOR, ".query-marker .fault")
    caret = browser.find_element(By.CSS_SELECTOR, ".query-marker .caret")
    box = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom];", fault
    )
    mark = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.top];", caret
    )
    assert box[0] <= (mark[0] + mark[1]) / 2 <= box[1], "the caret stands under the faulty character"
    assert mark[2] > (box[2] + box[3]) / 2, "… below it"
    browser.save_screenshot(str(tmp_path / "query-error.png"))
