"""Trends (/api/trends, /trends, `newsearch trends`) and the zooming date histogram, over an archive whose dates
and words are known: every period listed (empty ones too), each count equal to the search total of its query and
period, the shares' arithmetic, a sharded index's answers equal to one index's, and one error shape for bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from search.query.periods import period_count, periods

START = date(2019, 11, 1)
STEP = 11  # days between articles: 120 articles span 2019-11-01 … 2023-03
GAP = (2020, 6)  # no article in June 2020: a period with no articles at all
UNDATED = 5  # undated articles, each with 复工


def dated_articles() -> list[dict]:
    """The archive's dated articles: (i, date) with 复工 in every third and 口罩 in every fourth, alternately in
    Hunan and Zhejiang; none in June 2020."""
    out = []
    for i in range(120):
        day = START + timedelta(days=i * STEP)
        if (day.year, day.month) == GAP:
            continue
        words = (["复工"] if i % 3 == 0 else []) + (["口罩"] if i % 4 == 0 else [])
        out.append({"i": i, "date": day, "words": words, "region": "湖南省/株洲市" if i % 2 else "浙江省/杭州市"})
    return out


ARTICLES = dated_articles()
FILLERS = ["稻田", "高铁", "桥梁", "书店", "茶园", "渔港", "果园", "车间", "码头", "校园", "社区", "菜场"]


def record(n: int, words: list[str], day: date | None, region: str) -> dict:
    # bodies differ in several words, so no two are near-duplicates; no date or place is named in the text
    filler = "".join(FILLERS[(n * k) % len(FILLERS)] for k in (1, 3, 5, 7))
    body = f"第{n}号稿。{filler}建设进展顺利，{'、'.join(words) or '日常工作'}情况良好，群众{FILLERS[n % 12]}满意。"
    out = {"id": f"t{n:04d}", "headline": f"测试稿件{n}号{filler}", "body": body, "region": region, "source": "测试报"}
    if day is not None:
        out["date"] = day.isoformat()
    return out


def write_archive(root: Path) -> Path:
    """The dated articles and the undated ones, as one bulk file in `root`."""
    lines = [record(a["i"], a["words"], a["date"], a["region"]) for a in ARTICLES]
    lines += [record(1000 + k, ["复工"], None, "湖南省/株洲市") for k in range(UNDATED)]
    (root / "articles.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lines) + "\n")
    return root


def build_index(archive: Path, index_dir: Path) -> Path:
    from search.index.sync import index_paths

    summary = index_paths(index_dir, [archive])
    assert summary.ok and summary.added == len(ARTICLES) + UNDATED, summary.errors
    return index_dir


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return write_archive(tmp_path_factory.mktemp("trends-archive"))


@pytest.fixture(scope="module")
def dated_index(archive, tmp_path_factory):
    return build_index(archive, tmp_path_factory.mktemp("trends-index"))


@pytest.fixture(scope="module")
def dated_client(dated_index):
    from web import create_app

    return create_app({"INDEX_DIR": str(dated_index), "TESTING": True}).test_client()


@pytest.fixture()
def api(dated_client):
    def get(path: str, status: int = 200) -> dict:
        response = dated_client.get(path)
        assert response.status_code == status, (path, response.get_data(as_text=True)[:300])
        return response.get_json()

    return get


def expected_count(word: str | None, lo: date, hi: date, region: str | None = None) -> int:
    return sum(
        1
        for a in ARTICLES
        if lo <= a["date"] <= hi and (word is None or word in a["words"]) and (region is None or a["region"] == region)
    )


# --- periods ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bucket", ["year", "month", "week", "day"])
def test_periods_cover_the_range_without_gaps_and_are_clipped(bucket):
    lo, hi = date(2019, 12, 25), date(2021, 3, 3)
    listed = periods(lo, hi, bucket)
    assert len(listed) == period_count(lo, hi, bucket)
    assert listed[0].start == lo and listed[-1].end == hi
    for before, after in zip(listed, listed[1:]):
        assert after.start == before.end + timedelta(days=1)


def test_weeks_are_iso_weeks():
    listed = periods(date(2019, 12, 25), date(2020, 1, 12), "week")
    assert [(p.value, p.start.isoformat(), p.end.isoformat()) for p in listed] == [
        ("2019-W52", "2019-12-25", "2019-12-29"),
        ("2020-W01", "2019-12-30", "2020-01-05"),  # ISO week 1 of 2020 starts on Monday 30 December 2019
        ("2020-W02", "2020-01-06", "2020-01-12"),
    ]


# --- /api/trends -----------------------------------------------------------------------------------------------
def test_compare_by_month_lists_every_month_with_the_known_counts(api):
    data = api("/api/trends?q=复工&q=口罩&bucket=month")
    assert data["queries"] == ["复工", "口罩"] and data["bucket"] == "month" and data["norm"] == "count"
    first, last = ARTICLES[0]["date"], ARTICLES[-1]["date"]
    months = [p["value"] for p in data["periods"]]
    assert months[0] == "2019-11" and months[-1] == f"{last:%Y-%m}"
    assert len(months) == period_count(first, last, "month") == len(set(months))
    june = data["periods"][months.index("2020-06")]
    assert june["articles"] == 0  # listed though nothing is dated in it
    for s, word in zip(data["series"], ("复工", "口罩")):
        assert s["counts"][months.index("2020-06")] == 0 and s["shares"][months.index("2020-06")] is None
        assert s["counts"] == [
            expected_count(word, date.fromisoformat(p["from"]), date.fromisoformat(p["to"])) for p in data["periods"]
        ]
        assert s["total"] == sum(1 for a in ARTICLES if word in a["words"])
        assert 0 in s["counts"]
    assert data["series"][0]["undated"] == UNDATED and data["series"][1]["undated"] == 0
    assert [p["articles"] for p in data["periods"]] == [
        expected_count(None, date.fromisoformat(p["from"]), date.fromisoformat(p["to"])) for p in data["periods"]
    ]


@pytest.mark.parametrize(
    "params",
    [
        "q=复工&q=口罩&bucket=year",
        "q=复工&q=口罩&bucket=month&region=湖南省",
        "q=复工 OR 口罩&q=复工 -口罩&bucket=week&date_from=2020-03&date_to=2020-08-15",
        "q=复工&bucket=day&date_from=2021-02&date_to=2021-03",
        "q=headline:测试稿件&q=口罩&bucket=auto&date_from=2020-12-20",
    ],
)
def test_each_count_is_the_search_total_of_its_query_and_period(api, params):
    data = api(f"/api/trends?{params}")
    region = parse_qs(params).get("region", [])
    region_part = "".join(f"&region={r}" for r in region)
    assert data["periods"]
    for s in data["series"]:
        for p, count, url in zip(data["periods"], s["counts"], s["search_urls"]):
            total = api(f"/api/search?q={s['q']}&date_from={p['from']}&date_to={p['to']}{region_part}")["total"]
            assert count == total, (s["q"], p)
            # the point's link is the HTML search of that query and period, every article listed
            link = parse_qs(urlsplit(url).query)
            assert urlsplit(url).path == "/search"
            assert (link["q"], link["date_from"], link["date_to"]) == ([s["q"]], [p["from"]], [p["to"]])
            assert link["collapse"] == ["false"] and link.get("region", []) == region
    for p in data["periods"]:  # the denominators: every article of the period under the same filters
        assert p["articles"] == api(f"/api/search?date_from={p['from']}&date_to={p['to']}{region_part}")["total"]


def test_share_is_per_ten_thousand_articles_of_the_period(api):
    counts = api("/api/trends?q=复工&q=口罩&bucket=year")
    shares = api("/api/trends?q=复工&q=口罩&bucket=year&norm=share")
    assert shares["norm"] == "share" and shares["share_per"] == 10_000
    assert shares["periods"] == counts["periods"]
    for s in shares["series"]:
        assert s["values"] == s["shares"]
        assert s["shares"] == [
            round(c * 10_000 / p["articles"], 4) if p["articles"] else None
            for c, p in zip(s["counts"], shares["periods"])
        ]
    year_2021 = next(i for i, p in enumerate(shares["periods"]) if p["value"] == "2021")
    articles = expected_count(None, date(2021, 1, 1), date(2021, 12, 31))
    fugong = expected_count("复工", date(2021, 1, 1), date(2021, 12, 31))
    assert shares["series"][0]["shares"][year_2021] == round(fugong * 10_000 / articles, 4)
    assert counts["series"][0]["values"] == counts["series"][0]["counts"]


@pytest.mark.parametrize(
    "params, bucket",
    [
        ("", "month"),  # 1,300 days: 186 weeks is past the 150 periods auto allows
        ("&date_from=2020", "month"),
        ("&date_from=2020&date_to=2020", "week"),
        ("&date_from=2020-03&date_to=2020-05", "day"),
    ],
)
def test_auto_picks_the_finest_bucket_within_150_periods(api, params, bucket):
    assert api(f"/api/trends?q=复工{params}")["bucket"] == bucket


@pytest.mark.parametrize(
    "params, message",
    [
        (
            "q=复工&bucket=day",
            f"bucket: day periods from 2019-11-01 to {ARTICLES[-1]['date']} would be 1,310 (the limit",
        ),
        ("q=复工&bucket=hour", "bucket: 'hour' is not one of auto, year, month, week, day"),
        ("q=复工&norm=percent", "norm: 'percent' is not one of count, share"),
        ("", "q: give between 1 and 6 queries"),
        ("q=", "q: give between 1 and 6 queries"),
        ("q=复工&q=", "q: query 2 is empty"),
        ("q=a&q=b&q=c&q=d&q=e&q=f&q=g", "q: 7 queries given; compare at most 6"),
        ('q=复工&q="口罩', "q: query 2 ('\"口罩'): unbalanced quote"),
        ("q=复工&date_from=2020-13", "date_from: invalid date"),
        ("q=复工&date_from=2021&date_to=2020", "date_from/date_to: the date range is empty"),
        ("q=复工&region=火星", "region: '火星' is not a known administrative division"),
        ("q=复工&bucket=year&bucket=month", "bucket was given 2 times"),
        ("q=复工&format=xml", "format: 'xml' is not one of json, csv"),
    ],
)
def test_bad_parameters_are_a_400_with_the_json_error(api, params, message):
    data = api(f"/api/trends?{params}", status=400)
    assert data["ok"] is False and data["status"] == 400
    assert data["error"].startswith(message), data["error"]


def test_csv_has_a_row_per_period(dated_client, api):
    response = dated_client.get("/api/trends?q=复工&q=-口罩 复工&bucket=year&norm=share&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    data = api("/api/trends?q=复工&q=-口罩 复工&bucket=year")
    assert lines[0] == "period,from,to,articles,复工 count,复工 share,'-口罩 复工 count,'-口罩 复工 share"
    assert len(lines) == 1 + len(data["periods"])
    first = lines[1].split(",")
    assert first[:5] == ["2019", "2019-11-01", "2019-12-31", str(data["periods"][0]["articles"]), "2"]


def test_a_sharded_index_answers_as_one_index(archive, dated_index, tmp_path):
    from search.cluster.layout import index_sharded
    from search.query.trends import TrendsRequest
    from search.service import open_engine

    root = tmp_path / "sharded"
    assert index_sharded(root, [archive], shards=3, in_process=True).ok
    single, sharded = open_engine(dated_index), open_engine(root)
    for params in (
        {"q": ["复工", "口罩"], "bucket": "month", "norm": "share"},
        {"q": ["复工 OR 口罩"], "region": ["湖南省"], "date_from": "2020-02", "date_to": "2020-09", "bucket": "week"},
    ):
        req = TrendsRequest.from_params(params)
        one, many = single.trends(req), sharded.trends(req)
        assert many.pop("partial") is False and many.pop("missing_shards") == []
        one.pop("took_ms"), many.pop("took_ms")
        assert many == one
    sharded.close()


# --- the command line ----------------------------------------------------------------------------------------
def test_the_command_prints_a_table_csv_and_json(dated_index, api):
    from click.testing import CliRunner

    from search.cli import main

    runner = CliRunner()
    index = ["--index", str(dated_index)]
    as_json = runner.invoke(main, ["trends", "复工", "口罩", "--bucket", "year", "--norm", "share", "--json", *index])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    api_data = api("/api/trends?q=复工&q=口罩&bucket=year&norm=share")
    assert data["series"][0]["counts"] == api_data["series"][0]["counts"] and data["periods"] == api_data["periods"]
    as_csv = runner.invoke(main, ["trends", "复工", "--bucket", "year", "--csv", "--region", "湖南", *index])
    assert as_csv.exit_code == 0
    rows = as_csv.output.splitlines()
    assert rows[0] == "period,from,to,articles,复工 count,复工 share" and len(rows) == 1 + len(data["periods"])
    table = runner.invoke(main, ["trends", "复工", "口罩", "--bucket", "year", *index])
    assert table.exit_code == 0
    assert table.output.splitlines()[0].split() == ["period", "articles", "复工", "口罩"]
    assert f"复工: {data['series'][0]['total']} articles by year" in table.output
    assert f"{UNDATED} undated left out" in table.output
    bad = runner.invoke(main, ["trends", "复工", "--bucket", "day", *index])
    assert bad.exit_code != 0 and "the limit is 400" in bad.output and "Traceback" not in bad.output


# --- the zooming date histogram ---------------------------------------------------------------------------------
def test_the_histogram_zooms_from_years_to_months_to_days(api):
    years = api("/api/search?q=复工")
    assert years["date_bucket"] == "year"
    assert [i["value"] for i in years["facets"]["date"]] == ["2019", "2020", "2021", "2022", "2023"]
    year_2020 = next(i for i in years["facets"]["date"] if i["value"] == "2020")
    assert year_2020["count"] == expected_count("复工", date(2020, 1, 1), date(2020, 12, 31))

    months = api(urlsplit(year_2020["toggle_url"]).path + "?" + urlsplit(year_2020["toggle_url"]).query)
    assert months["total"] == year_2020["count"]
    assert months["date_bucket"] == "month"
    items = months["facets"]["date"]
    assert [i["value"] for i in items] == [f"2020-{m:02d}" for m in range(1, 13)]  # every month, empty ones too
    assert items[5]["count"] == 0  # June 2020
    assert [i["count"] for i in items] == [
        expected_count("复工", date.fromisoformat(i["from"]), date.fromisoformat(i["to"])) for i in items
    ]

    days = api("/api/search?q=复工&date_from=2021-02&date_to=2021-03")
    assert days["date_bucket"] == "day"
    assert len(days["facets"]["date"]) == 59  # 1 February … 31 March 2021
    assert sum(i["count"] for i in days["facets"]["date"]) == days["total"]
    march = next(i for i in months["facets"]["date"] if i["value"] == "2020-03")
    narrowed = api("/api/search?" + urlsplit(march["toggle_url"]).query)
    assert (narrowed["query"]["filters"]["date_from"], narrowed["query"]["filters"]["date_to"]) == (
        "2020-03-01",
        "2020-03-31",
    )
    assert narrowed["date_bucket"] == "day" and narrowed["total"] == march["count"]


def test_an_open_or_too_wide_range_is_bounded_by_the_archive(api):
    wide = api("/api/search?q=复工&date_from=1900&date_to=2999")
    assert wide["date_bucket"] == "year"
    assert [i["value"] for i in wide["facets"]["date"]] == ["2019", "2020", "2021", "2022", "2023"]
    since = api("/api/search?q=复工&date_from=2022-06")
    assert since["facets"]["date"][0]["from"] == "2022-06-01"
    assert since["facets"]["date"][-1]["to"] == ARTICLES[-1]["date"].isoformat()


def test_the_trends_page_has_the_chart_the_table_and_links(dated_client):
    response = dated_client.get("/trends?q=复工&q=口罩&bucket=month&norm=share")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<canvas id="trend-canvas" tabindex="0" role="img"' in html and "aria-label=" in html
    assert '<table class="trend-table"' in html and "<caption" in html
    assert "vendor/chart-4.6.1.umd.min.js" in html and 'type="application/json" id="trend-data"' in html
    assert html.count('class="trend-point"') == 2 * period_count(ARTICLES[0]["date"], ARTICLES[-1]["date"], "month")
    assert "另有 5 篇日期不详" in html
    bad = dated_client.get("/trends?q=复工&bucket=day")
    assert bad.status_code == 400 and "the limit is 400" in bad.get_data(as_text=True)
    # the form as submitted, its unused boxes and blank dates included
    submitted = dated_client.get("/trends?q=复工&q=&q=+&bucket=month&norm=count&date_from=&date_to=")
    assert submitted.status_code == 200 and 'id="trend-canvas"' in submitted.get_data(as_text=True)
    empty = dated_client.get("/trends")
    assert empty.status_code == 200 and "trend-canvas" not in empty.get_data(as_text=True)


def test_the_seed_index_counts_equal_its_search_totals(client):
    for q in ("复工", "口罩 OR 株洲", "region:湖南"):
        data = client.get(f"/api/trends?q={q}&bucket=day").get_json()
        assert data["periods"], q
        for p, count in zip(data["periods"], data["series"][0]["counts"]):
            search = client.get(f"/api/search?q={q}&date_from={p['from']}&date_to={p['to']}").get_json()
            assert count == search["total"], (q, p)
        undated = client.get(f"/api/search?q={q}").get_json()["total"] - data["series"][0]["total"]
        assert data["series"][0]["undated"] == undated
