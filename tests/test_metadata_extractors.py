"""Each field extractor against known answers: bylines in every printed form, year-less dates, ambiguous place names,
kickers and decks, captions, notices, reprint credits."""

from __future__ import annotations

import pytest

from search.ingest import split_page
from search.ingest.metadata import byline_line, dateline, is_caption, trailing_byline
from search.text.regions import extract_regions


@pytest.mark.parametrize(
    "line, names",
    [
        ("本报记者 李中文 江南", ["李中文", "江南"]),
        ("（本报记者徐元锋、杨文明、张艺开）", ["徐元锋", "杨文明", "张艺开"]),
        ("本报通讯员 文露清 吴金伟", ["文露清", "吴金伟"]),
        ("(唐熙清 朱茂盛)", ["唐熙清", "朱茂盛"]),
        ("记者 刘敏 通讯员 谭小兵", ["刘敏", "谭小兵"]),
        ("（转载自株洲日报 记者 刘敏 通讯员 谭小兵）", ["刘敏", "谭小兵"]),  # a reprint's credit names the paper first
        ("慈利县召开会议。", []),
    ],
)
def test_byline_lines(line, names):
    assert [n["name"] for n in byline_line(line)] == names


def test_trailing_bylines_keep_their_roles():
    names, rest = trailing_byline("该县复工率达100%。（何萌参与采写）")
    assert names == [{"name": "何萌", "role": "参与采写"}] and rest == "该县复工率达100%。"
    names, _ = trailing_byline("复工率53%。(记者 戴凛 通讯员 雷江华)")
    assert names == [{"name": "戴凛", "role": "记者"}, {"name": "雷江华", "role": "通讯员"}]


@pytest.mark.parametrize(
    "para, full, partial",
    [
        ("本报讯 3月9日，慈利县召开储备土地出让工作会议。", None, "03-09"),  # never a guessed year
        ("本报讯（记者 陈立）3月13日，通州区启动整治行动。", None, "03-13"),
        ("新华社北京3月14日电（记者 张晓明）记者获悉", None, "03-14"),
        ("新华社北京2021年3月14日电 记者从有关部门获悉", "2021-03-14", ""),
        ("连日来，慈利县在全面打好疫情防控阻击战的基础上", None, ""),
    ],
)
def test_datelines(para, full, partial):
    assert dateline(para) == (full, partial)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("朝阳区劲松街道今天开展义诊活动，北京市民踊跃参加。", ["北京市/朝阳区"]),
        ("朝阳市双塔区今年新建公园3处，辽宁省有关部门验收。", ["辽宁省/朝阳市/双塔区"]),
        ("通州区启动春季环境整治行动，北京市民踊跃参加。", ["北京市/通州区"]),
        ("南通市通州区今年新增就业岗位，江苏省有关部门表示。", ["江苏省/南通市/通州区"]),
    ],
)
def test_ambiguous_place_names_are_resolved_by_context(text, expected):
    assert list(extract_regions(text, headline="", page_context="", source="")) == expected


def test_captions():
    assert is_caption("▲志愿者在社区为居民测量体温 记者 戴凛 摄")
    assert not is_caption("志愿者在社区为居民测量体温。")


PLAIN_PAGE = """乡村振兴巾帼行

留守妇女在家门口端上“金饭碗”

——攸县扶持返乡创业带动就业见闻

本报记者 刘敏

走进攸县皇图岭镇的一家服装加工车间，30多台缝纫机一字排开。

醴陵市城区停水公告

因管网改造施工需要，我公司定于2021年4月8日对以下区域暂停供水：

一、瓷城大道沿线；

醴陵市自来水有限公司

2021年4月6日
"""


def test_kicker_above_and_deck_below_the_headline_and_a_notice_after():
    story, notice = split_page(PLAIN_PAGE, file="p.txt")
    assert story.headline == "留守妇女在家门口端上“金饭碗”"
    assert "乡村振兴巾帼行" in story.subheadline + story.column
    assert "攸县扶持返乡创业带动就业见闻" in story.subheadline
    assert story.byline == ["刘敏"] and story.kind == "news"
    assert notice.headline == "醴陵市城区停水公告" and notice.kind == "notice" and notice.byline == []


def test_a_heading_over_a_dateline_opens_a_new_article_on_a_markdown_page():
    page = (
        "# 第一条新闻标题在这里\n\n新华社北京3月14日电（记者 张晓明）记者获悉，今年计划加装电梯300部。\n\n"
        "# 第二条新闻标题在这里\n\n本报讯（记者 陈立）3月13日，通州区启动春季环境整治行动。\n"
    )
    first, second = split_page(page, file="p.md")
    assert first.byline == ["张晓明"] and second.byline == ["陈立"]
    assert second.date is None and second.date_partial == "03-13"
