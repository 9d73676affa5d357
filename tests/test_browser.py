"""A real browser against the real server: Debian's headless Chromium driven by Selenium (chromedriver from
/usr/bin), the `newsearch serve` process on a free port over a copy of the seed index.

Without Chromium the test fails in CI (CI=true) with a message saying how to install it, and skips locally.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.live import chrome, served

pytestmark = pytest.mark.browser  # Chromium through Selenium
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


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


# --- a phone's width, and the keyboard ----------------------------------------------------------------------------

PHONE = (390, 844)
LONG_URL = "https://example.com/archive/" + "/".join(f"section-{i:02d}-a-path-segment-without-breaks" for i in range(8))
LONG_ID = "ZZRB" + "0123456789ABCDEF" * 8  # an archive's reference number: no break opportunity in 132 characters
LONG_FILE = "zhuzhou-daily-2020-03-05-page-04-" + "x" * 60 + ".jsonl"


@pytest.fixture(scope="module")
def wide_server(tmp_path_factory):
    """The seeds and one article whose url, reference number and file name are each wider than a phone."""
    import json

    from search.index.sync import index_paths

    root = tmp_path_factory.mktemp("wide")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    record = {
        "headline": "株洲长链接文章",
        "date": "2020-03-05",
        "region": "湖南省/株洲市",
        "source": "株洲日报",
        "url": f"{LONG_URL}?id={LONG_ID}",
        "body": f"株洲市复工复产有序推进。档案编号{LONG_ID}。原文见 {LONG_URL} 。",
    }
    (corpus / LONG_FILE).write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = index_paths(root / "index", [corpus])
    assert summary.ok, summary.errors
    with served(root / "index", root) as base:
        yield base


def article_id_of(base: str, q: str) -> str:
    import json
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"{base}/api/search?q={quote(q)}") as response:
        return json.load(response)["hits"][0]["id"]


def test_no_page_scrolls_sideways_on_a_phone(browser, wide_server, tmp_path):
    """At 390 px every page fits its width: long urls, reference numbers and file names wrap, the help table
    scrolls inside its own box."""
    from selenium.webdriver.common.by import By

    browser.set_window_size(*PHONE)
    article = "/articles/" + quote(article_id_of(wide_server, "株洲长链接文章"), safe="")
    pages = {
        "home": "/",
        "results": "/search?q=" + quote("复工"),
        "results-wide": "/search?q=" + quote("档案编号"),
        "article-wide": article,
        "source-wide": article + "/source",
        "help": "/help",
        "query-error": "/search?q=" + quote('复工 "' + LONG_ID),
        "not-found": "/articles/" + LONG_ID * 2,
    }
    for name, path in pages.items():
        browser.get(wide_server + path)
        scroll_width, inner_width = browser.execute_script(
            "return [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        browser.save_screenshot(str(tmp_path / f"phone-{name}.png"))
        assert scroll_width <= inner_width, (name, scroll_width, inner_width)
    # the long url is shown whole, broken over lines, and inside the screen
    browser.get(wide_server + article)
    link = browser.find_element(By.CSS_SELECTOR, ".story-meta a[rel~=noopener]")
    assert link.text.replace("\n", "") == f"{LONG_URL}?id={LONG_ID}"
    right = browser.execute_script("return arguments[0].getBoundingClientRect().right", link)
    assert right <= browser.execute_script("return window.innerWidth")
    # the help table is wider than the phone: it scrolls in its box
    browser.get(wide_server + "/help")
    box = browser.find_element(By.CSS_SELECTOR, ".table-scroll")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", box)


def test_filter_drawer_on_a_phone(browser, server, tmp_path):
    """On a phone a "筛选" button stands before the results and opens the facets in a drawer; choosing a region
    filters; Escape closes the drawer and gives focus back to the button. The desktop keeps its sidebar."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, 20)
    browser.set_window_size(*PHONE)
    browser.get(server + "/search?q=" + quote("复工"))
    toggle = browser.find_element(By.CSS_SELECTOR, "button.filter-toggle")
    first = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
    region = browser.find_element(By.ID, "facet-region")
    assert toggle.text == "筛选" and toggle.get_attribute("aria-expanded") == "false"
    assert toggle.location["y"] < first.location["y"], "the button comes before the results"
    assert not region.is_displayed()

    toggle.click()
    wait.until(EC.visibility_of(region))
    assert toggle.get_attribute("aria-expanded") == "true"
    drawer = browser.find_element(By.ID, "filters")
    left, right, top = browser.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.top];", drawer
    )
    assert left >= 0 and right <= PHONE[0] and top == 0, "the drawer lies over the page, inside the screen"
    assert browser.find_element(By.ID, "facet-date").is_displayed()
    inside = "return document.getElementById('filters').contains(document.activeElement)"
    assert browser.execute_script(inside), "focus moves into the drawer"
    for _ in range(3):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        assert browser.execute_script(inside), "Tab stays in the open drawer"
    browser.save_screenshot(str(tmp_path / "phone-drawer.png"))

    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait.until(EC.invisibility_of_element(region))
    assert toggle.get_attribute("aria-expanded") == "false"
    assert browser.switch_to.active_element == toggle

    toggle.click()
    browser.find_element(By.CSS_SELECTOR, '#facet-region li[data-value="湖南省"] a.facet-toggle').click()
    wait.until(EC.url_contains("region="))
    assert browser.find_element(By.CSS_SELECTOR, "button.filter-toggle").text == "筛选（1）"
    assert not browser.find_element(By.ID, "facet-region").is_displayed()

    # the desktop: no button, the facets beside the results on their left
    browser.set_window_size(1280, 1000)
    assert not browser.find_element(By.CSS_SELECTOR, "button.filter-toggle").is_displayed()
    sidebar = browser.find_element(By.ID, "filters")
    results = browser.find_element(By.ID, "results")
    assert sidebar.is_displayed()
    assert sidebar.location["x"] + sidebar.size["width"] < results.location["x"]
    assert sidebar.location["y"] == results.location["y"]


def test_filter_link_without_javascript(server, tmp_path):
    """Without scripts the "筛选" before the results is a link down to the facets, which follow the results."""
    from selenium.webdriver.common.by import By

    (tmp_path / "no-js").mkdir()
    with chrome(tmp_path / "no-js", javascript=False) as browser:
        browser.set_window_size(*PHONE)
        browser.get(server + "/search?q=" + quote("复工"))
        assert "js" not in (browser.find_element(By.TAG_NAME, "html").get_attribute("class") or "")
        link = browser.find_element(By.CSS_SELECTOR, "a.filter-toggle")
        first = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
        assert link.text == "筛选" and link.location["y"] < first.location["y"]
        link.click()
        assert browser.current_url.endswith("#filters")
        region = browser.find_element(By.ID, "facet-region")
        top = browser.execute_script("return arguments[0].getBoundingClientRect().top", region)
        assert region.is_displayed() and 0 <= top < PHONE[1] / 2, top
        browser.save_screenshot(str(tmp_path / "phone-no-js-filters.png"))


def tabs_until(browser, target, limit: int = 100) -> int:
    """How many presses of Tab move focus from where it is to `target`."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    for count in range(1, limit + 1):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.switch_to.active_element == target:
            return count
    raise AssertionError(f"{limit} Tabs did not reach {target.text!r}")


def test_keyboard_skip_link_slash_and_autofocus(browser, server, tmp_path):
    """The home page focuses the search box, a results page does not; the first Tab reaches "跳到结果", which
    leads to the results; "/" focuses the box unless one is typing in a field; from the box the first result is a
    few Tabs away (the facets come after the results)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/")
    assert browser.switch_to.active_element.get_attribute("id") == "q", "the home page focuses the box"

    browser.get(server + "/search?q=" + quote("复工"))
    assert browser.execute_script("return document.activeElement === document.body"), "results keep their place"
    skip = browser.find_element(By.CSS_SELECTOR, "a.skip-link")
    assert tabs_until(browser, skip) == 1
    assert skip.text == "跳到结果" and skip.is_displayed()
    assert browser.execute_script("return arguments[0].getBoundingClientRect().top", skip) >= 0
    browser.save_screenshot(str(tmp_path / "skip-link.png"))
    skip.send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#results")
    assert browser.switch_to.active_element.get_attribute("id") == "results"
    first = browser.find_element(By.CSS_SELECTOR, "li.result h3 a")
    toolbar_links = len(browser.find_elements(By.CSS_SELECTOR, ".results .summary a"))
    assert tabs_until(browser, first) == toolbar_links + 1  # the sort, folding and format links, then the result

    # "/" from the page: focus in the box, the query untouched; "/" typed in a field stays in it
    browser.find_element(By.CSS_SELECTOR, ".totals").click()
    ActionChains(browser).send_keys("/").perform()
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "q" and box.get_attribute("value") == "复工"
    date_from = browser.find_element(By.CSS_SELECTOR, ".date-form input[name=date_from]")
    date_from.send_keys("2020/03")
    assert browser.switch_to.active_element == date_from and date_from.get_attribute("value") == "2020/03"
    region = browser.find_element(By.CSS_SELECTOR, "#facet-region input[type=checkbox]")
    browser.execute_script("arguments[0].focus()", region)
    ActionChains(browser).send_keys("/").perform()
    assert browser.switch_to.active_element.get_attribute("id") == "q", "a checkbox takes no typing"

    # from the box: the search button and the syntax help, the links above the results, then the first result
    box = browser.find_element(By.ID, "q")
    box.click()
    tabs = tabs_until(browser, first)
    assert tabs == 2 + toolbar_links + 1 and tabs <= 7, tabs  # 35 before the facets moved after the results
    # … and the facets after the results: Tab from the first result runs through the results into the facets
    in_filters = "return document.getElementById('filters').contains(document.activeElement)"
    in_results = "return document.getElementById('results').contains(document.activeElement)"
    for _ in range(100):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        if browser.execute_script(in_filters):
            break
        assert browser.execute_script(in_results), browser.switch_to.active_element.get_attribute("outerHTML")
    assert browser.switch_to.active_element.get_attribute("id") == "region-1"


def test_the_understood_as_line_shows_synonyms_and_turns_them_off(browser, seed_index, tmp_path):
    """`serve --synonyms FILE`: the page says how the query was expanded (the default list and the archive's own),
    marks the forms the articles print, and its link searches the words as typed."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    archive_list = tmp_path / "archive-synonyms.txt"
    archive_list.write_text("白衣天使, 医护人员\n", encoding="utf-8")
    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    wait = WebDriverWait(browser, 20)
    with served(index_copy, tmp_path, "--synonyms", str(archive_list)) as base:
        browser.get(base + "/")
        box = browser.find_element(By.CSS_SELECTOR, "form.search-form input[name=q]")
        box.send_keys("新型冠状病毒")
        box.send_keys(Keys.ENTER)
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.result")))
        parsed = browser.find_element(By.CSS_SELECTOR, ".summary .parsed")
        assert parsed.find_element(By.CSS_SELECTOR, "code").text == "新型冠状病毒 OR 新冠"
        assert "同义词：新型冠状病毒 → 新冠" in parsed.find_element(By.CSS_SELECTOR, ".synonyms").text
        assert browser.find_element(By.CSS_SELECTOR, ".totals strong").text == "6"
        marks = {m.text for m in browser.find_elements(By.CSS_SELECTOR, "li.result .snippet mark")}
        assert marks == {"新冠", "新型冠状病毒"}  # each article marked where it prints a form

        parsed.find_element(By.CSS_SELECTOR, "a.synonyms-toggle").click()
        wait.until(EC.url_contains("synonyms=false"))
        assert browser.find_element(By.CSS_SELECTOR, ".totals strong").text == "1"
        parsed = browser.find_element(By.CSS_SELECTOR, ".summary .parsed")
        assert parsed.find_element(By.CSS_SELECTOR, "code").text == "新型冠状病毒"
        assert "未用同义词" in parsed.text
        assert {m.text for m in browser.find_elements(By.CSS_SELECTOR, "li.result .snippet mark")} == {"新型冠状病毒"}
        browser.save_screenshot(str(tmp_path / "synonyms-off.png"))

        browser.get(base + "/search?q=白衣天使")  # the archive's own list
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "li.result")))
        assert browser.find_element(By.CSS_SELECTOR, ".totals strong").text == "2"
        assert {m.text for m in browser.find_elements(By.CSS_SELECTOR, "li.result .snippet mark")} == {"医护人员"}
