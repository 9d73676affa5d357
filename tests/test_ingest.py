"""Ingest: decoding, pre-segmented text, page splitting, metadata, jsonl, and bad input that must not stop a batch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from search.ingest import FileResult, iter_files, read_file, read_paths, split_page
from search.ingest.segmented import is_segmented

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed(prefix: str) -> Path:
    return next(SEEDS.glob(f"{prefix}_*.txt"))


@pytest.fixture(scope="module")
def seeds() -> dict[str, FileResult]:
    return {Path(r.path).name[:3]: r for r in read_paths([SEEDS])}


# ---------------------------------------------------------------- seeds


def test_every_seed_ingests_with_the_gold_article_counts(seeds):
    assert {k: (r.error, len(r.articles)) for k, r in seeds.items()} == {
        "000": (None, 1),
        "001": (None, 1),
        "002": (None, 4),
        "003": (None, 8),
        "004": (None, 8),
    }


def test_presegmented_seed_rejoins_to_the_raw_characters(seeds):
    raw = seed("000").read_text(encoding="utf-8")
    assert is_segmented(raw)
    a = seeds["000"].articles[0]
    # Every printed character comes back, in order, across the article's fields; no bar survives.
    printed = re.sub(r"[\s\u3000|（）]", "", raw)
    got = re.sub(r"[\s\u3000（）]", "", a.subheadline + a.headline + a.body)
    assert "|" not in a.body + a.headline
    assert sorted(got) == sorted(printed)
    assert "焦湘平和" in a.body and "毛腾飞" in a.body


def test_presegmented_title_block_is_split_into_kicker_headline_column(seeds):
    a = seeds["000"].articles[0]
    assert (a.headline, a.subheadline, a.column) == (
        "在基层，越是出力越能长力",
        "湖南株洲1.7万多名党员干部下沉一线，参与疫情防控和复工复产",
        "干部状态新观察",
    )
    assert a.byline == ["何萌"] and a.byline_roles == [{"name": "何萌", "role": "参与采写"}]
    assert (a.line_start, a.line_end) == (1, 1)


@pytest.mark.parametrize(
    ("file", "ordinal", "headline", "byline"),
    [
        ("001", 0, "", ["徐元锋", "杨文明", "张艺开", "郝迎灿", "宋豪新", "窦瀚洋"]),
        ("002", 0, "疫情防得住 发展搞得更好", ["李中文", "江南"]),
        ("002", 1, "防控一线是『试金石』", ["赵兵"]),
        ("002", 2, "村民就业培训 纳入日常工作", ["李科琼", "李亚楠"]),
        ("002", 3, "口罩消毒液算出明白账", ["李琳"]),
        ("003", 1, "日志、信息,可手机直报 派驻队员用上微信小程序", ["戴凛", "雷江华"]),
        ("003", 2, "", []),
        ("003", 5, "少讲条件多作贡献,这名派驻干部好作风", ["李卉"]),
        ("004", 1, "慈利县：扶贫车间复工助力脱贫攻坚", ["宋世秀", "戴雯", "戴晓山"]),
        ("004", 6, "", ["唐丽君"]),
        ("004", 7, "陈瑶：柔肩挑重担", ["谢海军"]),
    ],
)
def test_seed_headlines_and_bylines_match_the_gold(seeds, file, ordinal, headline, byline):
    a = seeds[file].articles[ordinal]
    assert (a.headline, a.byline) == (headline, byline)


def test_seed_boundaries_and_kinds(seeds):
    spans = [(a.line_start, a.line_end, a.kind) for a in seeds["003"].articles]
    assert spans == [
        (12, 46, "news"),
        (48, 58, "news"),
        (60, 75, "notice"),
        (87, 121, "news"),
        (123, 130, "notice"),
        (132, 170, "news"),
        (172, 179, "notice"),
        (181, 198, "notice"),
    ]
    assert [(a.line_start, a.line_end) for a in seeds["002"].articles] == [(3, 64), (66, 82), (84, 102), (104, 128)]
    assert seeds["004"].articles[6].kind == "photo"


def test_page_date_dates_every_article_and_furniture_is_no_article(seeds):
    arts = seeds["003"].articles
    assert {(a.date, a.date_source) for a in arts} == {("2020-02-19", "page")}
    assert all("责编" not in a.body and "坚决打赢疫情防控阻击战" not in a.body for a in arts)
    assert {a.source for a in arts} == {"株洲日报"}


def test_yearless_dateline_is_partial_and_never_completed(seeds):
    a = seeds["004"].articles[2]
    assert (a.date, a.date_source, a.date_partial) == (None, "none", "03-09")
    assert all(a.date is None for k in ("000", "001", "002", "004") for a in seeds[k].articles)


def test_captions_and_column_labels_stay_searchable_in_the_body(seeds):
    assert "谭云俸摄" in seeds["002"].articles[0].body
    assert "▲株洲日报社驻企联络员龚国良" in seeds["003"].articles[0].body
    assert seeds["002"].articles[1].column == "红船观澜"
    # a layout break inside a word is joined in the body
    assert "全国有名的艺术小镇" in seeds["002"].articles[3].body


def test_ids_are_stable_and_distinct(seeds):
    ids = [a.id for r in seeds.values() for a in r.articles]
    assert len(set(ids)) == len(ids)
    assert [a.id for a in read_file(seed("003")).articles] == [a.id for a in seeds["003"].articles]


# ---------------------------------------------------------------- pages the seeds lack

XINHUA_PAGE = """人民日报

2020年03月10日 星期二

# 全国规上工业企业开工率超95%

新华社北京3月9日电（记者 王小明 李华）国务院联防联控机制9日召开新闻发布会，介绍企业复工复产情况。

发布会上，有关负责人表示，截至3月8日，全国规模以上工业企业平均开工率超过95%。

下一步，将继续加大对中小企业的支持

力度，帮助企业解决用工、资金等实际困难。

## 春耕时节田间忙

本报记者 张伟

眼下正值春耕时节，在江苏省南京市江宁区的田野里，农民们正忙着翻地播种。

▲农民在田间劳作 本报记者 张伟 摄

当地农业部门派出技术人员下田指导。

责编：王芳 美编：李强
"""


def test_xinhua_dateline_under_a_page_date():
    arts = split_page(XINHUA_PAGE, file="p.md")
    assert [a.headline for a in arts] == ["全国规上工业企业开工率超95%", "春耕时节田间忙"]
    first, second = arts
    assert (first.date, first.date_source, first.date_partial) == ("2020-03-10", "page", "03-09")
    assert first.byline == ["王小明", "李华"] and first.byline_roles[0] == {"name": "王小明", "role": "记者"}
    assert "加大对中小企业的支持力度" in first.body
    assert second.byline == ["张伟"]
    assert first.source == "人民日报"
    assert all("责编" not in a.body for a in arts)
    assert (second.line_start, second.line_end) == (15, 23)


def test_dateline_with_a_year_dates_the_article_without_a_page_date():
    arts = split_page("# 某地召开会议\n\n新华社长沙2020年3月9日电 今天上午，会议在长沙召开。\n", file="x.md")
    assert (arts[0].date, arts[0].date_source) == ("2020-03-09", "dateline")


PLAIN_PAGE = """县域新闻

乡村振兴看产业

——某县发展特色种植侧记

本报通讯员 王明 李强

近年来，某县立足资源优势，大力发展特色种植业，带动群众增收致富。

规模化种植，拓宽增收路

在某镇某村，连片的茶园一眼望不到边。村党支部书记介绍，全村种茶2000多亩。

茶叶加工厂里机器轰鸣，工人们正在加工今年的春茶。(本报记者 赵六)

某县：

春季植树造林全面展开

本报讯 3月12日，某县林业局组织干部职工到某山开展义务植树活动，共栽种树苗3000余株。

活动现场，干部职工分工协作，挖坑、扶苗、培土、浇水。

(刘一 陈二)

某县人民政府办公室

关于做好春季森林防火工作的通知

各乡镇人民政府，县直各单位：

一、高度重视，加强组织领导。

二、加强巡查，严格火源管理。

某县人民政府办公室

2020年3月1日
"""


def test_plain_line_page_headings_sections_and_items():
    arts = split_page(PLAIN_PAGE, file="plain.txt")
    assert [a.headline for a in arts][:2] == ["乡村振兴看产业", "某县：春季植树造林全面展开"]
    first, second = arts[0], arts[1]
    assert first.subheadline == "——某县发展特色种植侧记"
    assert first.byline == ["王明", "李强", "赵六"]
    assert "规模化种植，拓宽增收路" in first.body  # an in-article sub-head stays in the body
    assert (second.date, second.date_partial, second.byline) == (None, "03-12", ["刘一", "陈二"])
    assert arts[-1].kind == "notice" and "一、高度重视" in arts[-1].body
    assert len(arts) == 3


# ---------------------------------------------------------------- files and encodings


def test_gb18030_and_utf8_bom_files_decode(tmp_path):
    text = "# 春耕时节田间忙\n\n本报记者 张伟\n\n眼下正值春耕时节，农民们正忙着翻地播种。\n"
    (tmp_path / "gbk.txt").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for name in ("gbk.txt", "bom.txt"):
        res = read_file(tmp_path / name)
        assert res.error is None
        assert [(a.headline, a.byline) for a in res.articles] == [("春耕时节田间忙", ["张伟"])]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            "中文".encode() + b"\xff\xff\x80",
            "cannot decode as UTF-8 or GB18030 (UTF-8: byte 0xff at offset 6; GB18030: byte 0xff at offset 6)",
        ),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (NUL byte at offset 8)"),
        (b"", "empty file"),
        (b"  \n\t\n", "file holds only whitespace"),
    ],
)
def test_bad_files_report_an_error_naming_the_file_and_the_batch_goes_on(tmp_path, data, reason):
    bad = tmp_path / "a_bad.txt"
    bad.write_bytes(data)
    (tmp_path / "b_good.txt").write_text("# 某地举行春季植树活动\n\n本报讯 近日，某地举行活动。\n", encoding="utf-8")
    results = list(read_paths([tmp_path]))
    assert [Path(r.path).name for r in results] == ["a_bad.txt", "b_good.txt"]
    assert results[0].articles == [] and results[0].error.startswith(f"{bad}: ")
    assert reason in results[0].error
    assert results[1].error is None and results[1].articles[0].headline == "某地举行春季植树活动"


def test_missing_file_is_an_error_not_an_exception(tmp_path):
    res = read_file(tmp_path / "nope.txt")
    assert res.articles == [] and "nope.txt: cannot read" in res.error


def test_iter_files_recurses_sorted_and_skips_hidden_catalog_and_other_files(tmp_path):
    for rel in (
        "b/2.md",
        "b/1.txt",
        "a.jsonl",
        ".hidden.txt",
        ".git/x.txt",
        "catalog.jsonl",
        "notes.pdf",
        "c.markdown",
    ):
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x", encoding="utf-8")
    got = [p.relative_to(tmp_path).as_posix() for p in iter_files([tmp_path])]
    assert got == ["a.jsonl", "b/1.txt", "b/2.md", "c.markdown"]


def test_jsonl_good_lines_ingest_and_bad_lines_are_reported_by_number(tmp_path):
    lines = [
        {
            "headline": "标题一",
            "byline": "王明 李强",
            "date": "2020-03-09",
            "region": "湖北/武汉/江岸区",
            "body": "正文一。",
            "source": "长江日报",
            "url": "http://x/1",
            "id": "a1",
        },
        {"headline": "没有正文"},
        "{not json",
        {"body": "正文二。", "byline": ["赵六"], "region": ["湖南省/长沙市"]},
    ]
    path = tmp_path / "bulk.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
        encoding="utf-8",
    )
    res = read_file(path)
    assert [a.body for a in res.articles] == ["正文一。", "正文二。"]
    one, two = res.articles
    assert (one.headline, one.byline, one.date, one.date_source, one.source, one.id) == (
        "标题一",
        ["王明", "李强"],
        "2020-03-09",
        "given",
        "长江日报",
        "a1",
    )
    assert one.region and one.region[0].endswith("江岸区")
    assert two.byline == ["赵六"] and two.id  # a content id when none is given
    assert f"{path}:2: no body" in res.error and f"{path}:3: invalid JSON" in res.error
    assert ":1:" not in res.error and ":4:" not in res.error
