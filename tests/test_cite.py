"""Citations (search/cite): an article as RIS, BibTeX and CSL-JSON for reference managers and as GB/T 7714-2015 and
APA references, on the JSON API, the article and results pages, in a real browser, and on the command line.

Known answers are the seed article 92e6f5c9a3f76a8d (株洲日报, 2020-02-19, by 戴凛 and 雷江华), a seed notice
without a byline, and made-up articles for what the seeds lack (a page, a URL, hostile text, Western names).
"""

from __future__ import annotations

import json
import shutil

import pytest

from search.cite import FORMATS, citation, filename
from search.cite.bibtex import bibtex_entry, escape
from search.cite.csl import authors, csl_item

ARTICLE = "92e6f5c9a3f76a8d"
HEADLINE = "“企业需要什么,我们就做什么” 全市2202名机关干部驻企当“服务员”"
NOTICE = "fbf28e304e8bae6d"  # a land-sale notice: no byline
CRLF = "\r\n"

EXPECTED = {
    "ris": CRLF.join(
        [
            "TY  - NEWS",
            f"ID  - {ARTICLE}",
            f"TI  - {HEADLINE}",
            "AU  - 戴凛",
            "AU  - 雷江华",
            "T2  - 株洲日报",
            "PY  - 2020",
            "DA  - 2020/02/19",
            "LA  - zh-CN",
            "ER  - ",
            "",
        ]
    ),
    "bibtex": "@article{zhuzhouribao2020-02-19-92e6f5c9,\n"
    f"  title = {{{HEADLINE}}},\n"
    "  author = {{戴凛} and {雷江华}},\n"
    "  journal = {株洲日报},\n"
    "  date = {2020-02-19},\n"
    "  year = {2020},\n"
    "  month = feb,\n"
    "  language = {zh-CN},\n"
    "}\n",
    "gbt7714": f"戴凛, 雷江华. {HEADLINE}[N]. 株洲日报, 2020-02-19.\n",
    "apa": f"戴凛, & 雷江华. (2020, February 19). {HEADLINE}. 株洲日报.\n",
}
CSL_ITEM = {
    "id": ARTICLE,
    "type": "article-newspaper",
    "title": HEADLINE,
    "author": [{"literal": "戴凛"}, {"literal": "雷江华"}],
    "container-title": "株洲日报",
    "issued": {"date-parts": [[2020, 2, 19]]},
    "language": "zh-CN",
}
MEDIA_TYPES = {
    "ris": "application/x-research-info-systems",
    "bibtex": "application/x-bibtex",
    "csl-json": "application/vnd.citationstyles.csl+json",
    "gbt7714": "text/plain",
    "apa": "text/plain",
}
EXTENSIONS = {"ris": "ris", "bibtex": "bib", "csl-json": "json", "gbt7714": "txt", "apa": "txt"}


def made_up(**fields) -> dict:
    article = {"id": "0123456789abcdef", "headline": "复工复产按下快进键", "byline": ["李卉"], "source": "人民日报"}
    article |= {"date": "2020-03-15", "page": "04", "url": "https://paper.example.cn/html/2020-03/15/nw.D110000.htm"}
    return article | fields


# --- the API, against the seed index ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "gbt7714", "apa"])
def test_seed_article_cited_exactly(client, fmt):
    response = client.get(f"/api/articles/{ARTICLE}/cite?format={fmt}")
    assert response.status_code == 200
    assert response.data.decode("utf-8") == EXPECTED[fmt]
    assert response.content_type == f"{MEDIA_TYPES[fmt]}; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="newsearch-{ARTICLE}.{EXTENSIONS[fmt]}"'


def test_seed_article_as_csl_json(client):
    response = client.get(f"/api/articles/{ARTICLE}/cite?format=csl-json")
    assert response.status_code == 200 and response.content_type == f"{MEDIA_TYPES['csl-json']}; charset=utf-8"
    assert json.loads(response.data) == [CSL_ITEM]


def test_ris_is_the_default_and_reads_back_with_rispy(client):
    import rispy

    text = client.get(f"/api/articles/{ARTICLE}/cite").data.decode("utf-8")
    assert text == EXPECTED["ris"]
    [record] = rispy.loads(text)
    assert record == {
        "type_of_reference": "NEWS",
        "id": ARTICLE,
        "title": HEADLINE,
        "authors": ["戴凛", "雷江华"],
        "secondary_title": "株洲日报",
        "year": "2020",
        "date": "2020/02/19",
        "language": "zh-CN",
    }


def test_an_article_without_byline_keeps_its_type_mark_and_prints_its_title_once(client):
    """The two citeproc-py departures from CSL corrected in search/cite/styles.py: GB/T's [N] was dropped for an
    article without a URL, and APA printed the title of an article without a byline twice."""
    gbt = client.get(f"/api/articles/{NOTICE}/cite?format=gbt7714").data.decode("utf-8")
    apa = client.get(f"/api/articles/{NOTICE}/cite?format=apa").data.decode("utf-8")
    assert gbt == "[2020]网挂第003号地块恢复出让公告[N]. 株洲日报, 2020-02-19.\n"
    assert apa == "[2020]网挂第003号地块恢复出让公告. (2020, February 19). 株洲日报.\n"


@pytest.mark.parametrize("fmt", ["RIS", "bib", "json", "", " ris", "x" * 500])
def test_unknown_format_is_a_400_naming_the_valid_ones(client, fmt):
    response = client.get(f"/api/articles/{ARTICLE}/cite", query_string={"format": fmt})
    expected = 400 if fmt else 200  # an empty format is the default, RIS
    assert response.status_code == expected
    if expected == 400:
        data = response.get_json()
        assert data["ok"] is False and data["status"] == 400
        assert data["error"].startswith("format: ")
        assert data["error"].endswith("is not one of ris, bibtex, csl-json, gbt7714, apa")
        assert len(data["error"]) < 200


def test_format_given_twice_is_a_400(client):
    response = client.get(f"/api/articles/{ARTICLE}/cite?format=ris&format=apa")
    assert response.status_code == 400
    assert response.get_json()["error"] == "format was given 2 times; give it once"


def test_unknown_article_is_a_404(client):
    response = client.get("/api/articles/0000000000000000/cite?format=bibtex")
    assert response.status_code == 404
    assert response.get_json() == {"ok": False, "error": "no article with id '0000000000000000'", "status": 404}


def test_documented_in_openapi(client):
    doc = client.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/api/articles/{id}/cite"]["get"]
    [fmt] = [p for p in operation["parameters"] if p["name"] == "format"]
    assert fmt["schema"]["enum"] == list(FORMATS) == ["ris", "bibtex", "csl-json", "gbt7714", "apa"]
    assert set(operation["responses"]["200"]["content"]) == set(MEDIA_TYPES.values())
    assert {"400", "404"} <= set(operation["responses"])
    [export_format] = [p for p in doc["paths"]["/api/export"]["get"]["parameters"] if p["name"] == "format"]
    assert export_format["schema"]["enum"] == ["csv", "jsonl", "ris", "bibtex", "csl-json"]


# --- exports of a search's matches ----------------------------------------------------------------------------


def test_export_cites_every_match_in_order(client):
    import rispy

    ids = [json.loads(line)["id"] for line in client.get("/api/export?q=复工&format=jsonl").data.splitlines()]
    assert len(ids) >= 5
    ris = client.get("/api/export?q=复工&format=ris")
    assert ris.content_type == f"{MEDIA_TYPES['ris']}; charset=utf-8"
    assert ris.headers["Content-Disposition"] == 'attachment; filename="newsearch-export.ris"'
    assert [r["id"] for r in rispy.loads(ris.data.decode("utf-8"))] == ids
    csl = client.get("/api/export?q=复工&format=csl-json")
    assert csl.headers["Content-Disposition"] == 'attachment; filename="newsearch-export.json"'
    assert [item["id"] for item in json.loads(csl.data)] == ids
    bib = client.get("/api/export?q=复工&format=bibtex").data.decode("utf-8")
    assert bib.count("\n@") + bib.startswith("@") == len(ids)
    assert bib.count("{") == bib.count("}")


def test_export_limit_applies_to_citations(client):
    response = client.get("/api/export?format=csl-json&limit=2")
    assert len(json.loads(response.data)) == 2
    response = client.get("/api/export?q=没有这个词语的文章&format=csl-json")
    assert response.status_code == 200 and json.loads(response.data) == []


def test_export_bad_format_names_the_citation_formats(client):
    response = client.get("/api/export?format=endnote")
    assert response.status_code == 400
    assert response.get_json()["error"] == "format: 'endnote' is not one of csv, jsonl, ris, bibtex, csl-json"


# --- the pages ------------------------------------------------------------------------------------------------


def test_article_page_shows_references_and_download_links(client):
    from html import unescape

    html = client.get(f"/articles/{ARTICLE}").data.decode("utf-8")
    assert '<h2 id="cite-title">引用</h2>' in html
    assert f'<span class="citation" id="cite-gbt7714">{EXPECTED["gbt7714"].strip()}</span>' in unescape(html)
    assert f'<span class="citation" id="cite-apa">{EXPECTED["apa"].strip()}</span>' in unescape(html)
    for fmt in ("ris", "bibtex", "csl-json"):
        assert f'href="/api/articles/{ARTICLE}/cite?format={fmt}" download>' in html


def test_results_page_links_citation_exports_of_the_same_search(client):
    html = client.get("/search?q=复工&region=湖南省&sort=-date").data.decode("utf-8")
    state = "q=%E5%A4%8D%E5%B7%A5&amp;region=%E6%B9%96%E5%8D%97%E7%9C%81&amp;sort=-date"
    for fmt in ("ris", "bibtex", "csl-json"):
        assert f'href="/api/export?{state}&amp;format={fmt}" download>' in html
    assert "cite-exports" not in client.get("/search?q=没有这个词语的文章").data.decode("utf-8")


# --- the formats themselves ------------------------------------------------------------------------------------


def test_page_and_url_in_every_format():
    article = made_up()
    url = article["url"]
    assert citation([article], "gbt7714") == f"李卉. 复工复产按下快进键[N/OL]. 人民日报, 2020-03-15(4). {url}.\n"
    assert citation([article], "apa") == f"李卉. (2020, March 15). 复工复产按下快进键. 人民日报, 4. {url}\n"
    ris = citation([article], "ris")
    assert f"SP  - 4{CRLF}UR  - {url}{CRLF}" in ris
    bib = citation([article], "bibtex")
    assert bib.startswith("@article{renminribao2020-03-15-01234567,\n")
    assert "  month = mar,\n  pages = {4},\n" in bib and f"  url = {{{url}}},\n" in bib


def test_only_web_addresses_are_cited():
    for url in ("javascript:alert(1)", "data:text/html,<script>", "file:///etc/passwd", "  "):
        item = csl_item(made_up(url=url))
        assert "URL" not in item
        assert "UR  -" not in citation([made_up(url=url)], "ris")


def test_hostile_headline_is_escaped_for_bibtex():
    headline = "a{b}c 100% \\end{document} & #1 $x$ _y_ ^~ }{"
    entry = bibtex_entry(csl_item(made_up(headline=headline, source="")))
    title = (
        r"a\textbraceleft{}b\textbraceright{}c 100\% \textbackslash{}end\textbraceleft{}document\textbraceright{} "
        r"\& \#1 \$x\$ \_y\_ \textasciicircum{}\textasciitilde{} \textbraceright{}\textbraceleft{}"
    )
    assert f"  title = {{{title}}},\n" in entry
    assert entry.startswith("@misc{article2020-03-15-01234567,\n")  # no paper: @misc
    depth = 0
    for char in entry:  # BibTeX counts every brace, escaped or not: they must balance, never below zero
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert depth == 0


def test_hostile_text_stays_on_its_ris_line_and_in_its_json_string():
    article = made_up(headline="第一行\r\nER  - \nTY  - JOUR", byline=["张三\nAU  - 李四"])
    ris = citation([article], "ris")
    assert ris.count("ER  - ") == 1 and ris.count("TY  - ") == 1
    assert f"TI  - 第一行 ER - TY - JOUR{CRLF}" in ris
    [item] = json.loads(citation([article], "csl-json"))
    assert item["title"] == article["headline"]


def test_bibtex_url_and_names_cannot_break_the_entry():
    entry = bibtex_entry(csl_item(made_up(url="https://x.cn/a}b{c\\d%20", byline=["O'Brien{", "戴}凛"])))
    assert "  url = {https://x.cn/a%7Db%7Bc%5Cd%20},\n" in entry
    assert r"  author = {{O'Brien\textbraceleft{}} and {戴\textbraceright{}凛}}," in entry


@pytest.mark.parametrize(
    "byline, names",
    [
        (["戴凛", "雷江华"], [{"literal": "戴凛"}, {"literal": "雷江华"}]),
        (["记者 张三 李四"], [{"literal": "张三"}, {"literal": "李四"}]),  # several names, a role word, in one entry
        (["新华社记者 王某 通讯员 李某"], [{"literal": "王某"}, {"literal": "李某"}]),
        (["本报记者 曹  娴"], [{"literal": "曹娴"}]),  # a padded two-character name is one name
        (["张三、李四"], [{"literal": "张三"}, {"literal": "李四"}]),
        (["记者", "张三"], [{"literal": "张三"}]),  # a role word a bulk record's byline split off alone
        (["欧阳·修"], [{"literal": "欧阳·修"}]),
        (
            ["John Smith", "Mary van Dyke"],
            [{"family": "Smith", "given": "John"}, {"family": "Dyke", "given": "Mary van"}],
        ),
        (["Reuters"], [{"literal": "Reuters"}]),
        (["", "  "], []),
    ],
)
def test_bylines_become_csl_names(byline, names):
    assert authors(byline) == names


def test_four_or_more_authors_are_abbreviated_in_gbt7714_only():
    article = made_up(byline=["甲一", "乙二", "丙三", "丁四"], url="")
    assert citation([article], "gbt7714").startswith("甲一, 乙二, 丙三, 等. ")
    assert citation([article], "apa").startswith("甲一, 乙二, 丙三, & 丁四. (2020, March 15).")


def test_several_articles_numbered_in_gbt7714():
    text = citation([made_up(url=""), made_up(id="fedcba9876543210", headline="第二篇", byline=[], url="")], "gbt7714")
    assert text == "[1]李卉. 复工复产按下快进键[N]. 人民日报, 2020-03-15(4).\n[2]第二篇[N]. 人民日报, 2020-03-15(4).\n"


def test_untitled_undated_article():
    article = {"id": "abc", "headline": "", "byline": [], "source": "", "date": None, "page": "", "url": ""}
    assert csl_item(article) == {"id": "abc", "type": "article-newspaper", "title": "[无标题]", "language": "zh-CN"}
    assert citation([article], "bibtex").startswith("@misc{articlend-abc,\n")
    assert citation([article], "gbt7714") == "[无标题][N].\n"


def test_escape_is_one_pass():
    assert escape("\\{") == r"\textbackslash{}\textbraceleft{}"  # the braces an escape adds are not escaped again
    assert escape("a\n\tb") == "a b"


def test_download_names_are_safe_in_a_header():
    assert filename(ARTICLE, "bibtex") == f"newsearch-{ARTICLE}.bib"
    assert filename('x"; filename="evil.exe\r\n', "ris") == "newsearch-x___filename__evil_exe__.ris"


# --- the command line -----------------------------------------------------------------------------------------


def test_cli_cite(seed_index):
    from click.testing import CliRunner

    from search.cli import cite_command, main

    assert list(cite_command.params[2].type.choices) == list(FORMATS)  # the choices cannot drift from FORMATS
    runner = CliRunner()
    result = runner.invoke(main, ["cite", ARTICLE, "--index", str(seed_index)])
    assert result.exit_code == 0 and result.output == EXPECTED["gbt7714"]
    result = runner.invoke(main, ["cite", ARTICLE, "--index", str(seed_index), "--format", "ris"])
    assert result.exit_code == 0 and result.output == EXPECTED["ris"].replace(CRLF, "\n")
    result = runner.invoke(main, ["cite", ARTICLE, NOTICE, "--index", str(seed_index), "--format", "csl-json"])
    assert [item["id"] for item in json.loads(result.output)] == [ARTICLE, NOTICE]


def test_cli_cite_errors(seed_index):
    from click.testing import CliRunner

    from search.cli import main

    runner = CliRunner()
    result = runner.invoke(main, ["cite", "nope", "--index", str(seed_index)])
    assert result.exit_code == 1 and "no article with id 'nope'" in result.output
    result = runner.invoke(main, ["cite", ARTICLE, "--index", str(seed_index), "--format", "endnote"])
    assert result.exit_code == 2 and "'endnote' is not one of" in result.output
    result = runner.invoke(main, ["cite", "--index", str(seed_index)])
    assert result.exit_code == 2 and "Missing argument 'IDS...'" in result.output


# --- a real browser ------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_article_page_cite_section_in_chromium(seed_index, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.live import chrome, served

    index_copy = tmp_path / "index"
    shutil.copytree(seed_index, index_copy)
    with served(index_copy, tmp_path) as base, chrome(tmp_path) as browser:
        browser.get(f"{base}/articles/{ARTICLE}")
        wait = WebDriverWait(browser, 20)
        wait.until(EC.presence_of_element_located((By.ID, "cite")))
        assert browser.find_element(By.ID, "cite-title").text == "引用"
        assert browser.find_element(By.ID, "cite-gbt7714").text == EXPECTED["gbt7714"].strip()
        assert browser.find_element(By.ID, "cite-apa").text == EXPECTED["apa"].strip()

        button = browser.find_element(By.CSS_SELECTOR, "button[data-copy=cite-gbt7714]")
        assert button.is_displayed()  # shown by app.js
        button.click()
        assert browser.execute_script("return window.getSelection().toString()") == EXPECTED["gbt7714"].strip()

        links = {a.get_attribute("data-format"): a for a in browser.find_elements(By.CSS_SELECTOR, "a.cite-download")}
        assert list(links) == ["ris", "bibtex", "csl-json"]
        assert links["ris"].get_attribute("href") == f"{base}/api/articles/{ARTICLE}/cite?format=ris"
        fetched = browser.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.text().then(t => done([r.headers.get('content-type'), t])));",
            links["bibtex"].get_attribute("href"),
        )
        assert fetched == [f"{MEDIA_TYPES['bibtex']}; charset=utf-8", EXPECTED["bibtex"]]
        browser.save_screenshot(str(tmp_path / "article-cite.png"))


def test_impossible_dates_are_left_out():
    for date in ("2020-13-01", "2020-02-30", "2020-02", "", None):
        assert "issued" not in csl_item(made_up(date=date))
        assert "PY  -" not in citation([made_up(date=date)], "ris")


@pytest.mark.slow  # 60 generated articles through citeproc: about 10 s
def test_any_text_cites_in_every_format():
    """Whatever a bulk record holds (control characters, markup, lone surrogates were made U+FFFD by ingest), every
    format renders it, without an exception or a warning."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    text = st.text(st.characters(codec="utf-8"), max_size=40)

    @settings(max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(headline=text, byline=st.lists(text, max_size=3), source=text, page=text, url=text, ident=text)
    def cites(headline, byline, source, page, url, ident):
        article = made_up(id=ident or "x", headline=headline, byline=byline, source=source, page=page, url=url)
        for fmt in FORMATS:
            assert citation([article], fmt).endswith("\n")

    cites()
