"""Known answers for search.text.regions: gazetteer look-ups, context rules, and region F1 on the labelled seeds."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.text.regions import ancestors, extract_regions, label, normalize_path, place_names

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT.parent / "shared" / "eval" / "seeds-gold.json"


@pytest.mark.parametrize(
    "value, path",
    [
        ("株洲", "湖南省/株洲市"),
        ("慈利", "湖南省/张家界市/慈利县"),
        ("永康", "浙江省/金华市/永康市"),
        ("镇雄", "云南省/昭通市/镇雄县"),
        ("湖北/武汉/江岸区", "湖北省/武汉市/江岸区"),
        ("湖北省武汉市江岸区", "湖北省/武汉市/江岸区"),
        ("湖南省 › 株洲市 › 石峰区", "湖南省/株洲市/石峰区"),
        ("北京市通州区", "北京市/通州区"),
        ("浙江", "浙江省"),
        ("新疆阿克苏乌什", "新疆维吾尔自治区/阿克苏地区/乌什县"),
        ("江干区", "浙江省/杭州市/江干区"),  # merged away in 2021; old articles keep the name they print
        ("火星", None),
        ("湖南省/杭州市", None),  # not one chain
        ("吉林/吉林/桦甸市", "吉林省/吉林市/桦甸市"),  # the city named like its province, by its place in the path
        ("吉林 › 吉林", "吉林省/吉林市"),
        ("青海/西宁/湟中区", "青海省/西宁市/湟中县"),  # the gazetteer still has the county's old name
        ("", None),
    ],
)
def test_normalize_path(value, path):
    assert normalize_path(value) == path


def test_ancestors_and_label():
    assert ancestors("湖南省/株洲市/石峰区") == ["湖南省", "湖南省/株洲市", "湖南省/株洲市/石峰区"]
    assert ancestors("北京市/通州区") == ["北京市", "北京市/通州区"]
    assert label("湖南省/株洲市/石峰区") == "石峰区"
    assert label("浙江省") == "浙江省"


def test_place_names_has_full_and_short_forms():
    names = place_names()
    assert {"株洲市", "株洲", "慈利县", "慈利", "浙江省", "浙江", "通州区"} <= names
    assert "北京市北京市" not in names


def test_short_forms_resolve_in_text():
    assert extract_regions("湖南株洲1.7万多名党员干部下沉一线。株洲市委书记介绍，株洲将继续推进。") == ["湖南省/株洲市"]
    assert extract_regions("慈利县委县政府聚焦园区企业，慈利各级党组织护航复工复产。") == ["湖南省/张家界市/慈利县"]


@pytest.mark.parametrize(
    "text, want",
    [
        ("记者从辽宁省获悉，朝阳今年粮食产量再创新高，朝阳的农民收入稳步增长。", ["辽宁省/朝阳市"]),
        ("北京市今年将在朝阳新建三所学校，朝阳居民期待已久。", ["北京市/朝阳区"]),
        ("北京今年将加快城市副中心建设，通州区新开工项目30个，通州正在变样。", ["北京市/通州区"]),
        ("江苏南通今年推进沿江开发，通州区新开工项目30个，通州正在变样。", ["江苏省/南通市/通州区"]),
    ],
)
def test_ambiguous_names_resolved_by_context(text, want):
    assert extract_regions(text) == want


def test_ambiguous_name_resolved_by_page_context():
    text = "通州区纪委监委有关负责人介绍，通州区探索监察干事制度。"
    assert extract_regions(text, page_context="南通日报 江苏省南通市 南通市委") == ["江苏省/南通市/通州区"]
    assert extract_regions(text, page_context="北京日报 北京市 北京市委") == ["北京市/通州区"]


def test_dateline_outweighs_passing_mentions():
    # a province-wide story (全省) filed from the provincial capital is the province's, not the capital's
    text = "新华社长沙3月9日电 全省中小学今天开学。一位在武汉工作的家长说，孩子很高兴。"
    assert extract_regions(text) == ["湖南省"]
    text = "新华社长沙3月9日电 长沙市今天启动地铁新线建设。一位在武汉工作的家长说，出行更方便了。"
    assert extract_regions(text) == ["湖南省/长沙市"]
    text = "本报北京2月20日电 记者从有关部门获悉，全市今年新开工项目30个。上海、广州、深圳也在推进。"
    assert extract_regions(text) == ["北京市"]


def test_local_paper_we_city_takes_page_place():
    text = "我市组建驻企联络员队伍，全市2202名机关干部下沉一线。市委组织部负责人介绍了情况。"
    page = "坚决打赢疫情防控阻击战\n株洲市公共资源交易中心\n株洲市人民医院护士\n株洲市渌口区自然资源局\n" + text
    assert extract_regions(text, page_context=page) == ["湖南省/株洲市"]
    assert extract_regions(text, source="株洲日报") == ["湖南省/株洲市"]
    assert extract_regions(text) == []  # no place named anywhere


def test_sole_sub_area_is_the_most_specific():
    text = "36岁的市水利局防汛物资储备站站长肖烈赶到了石峰区云峰阁社区。"
    assert extract_regions(text, source="株洲日报") == ["湖南省/株洲市/石峰区"]


def test_multi_place_story():
    text = (
        "云南镇雄县芒部镇劳保所所长组织务工人员到浙江永康打工。镇雄是百万人口大县。"
        "永康企业缺工，镇雄人到永康务工。黑龙江哈尔滨经开区派驻驻厂员，哈尔滨物流园复工。"
    )
    assert sorted(extract_regions(text)) == ["云南省/昭通市/镇雄县", "浙江省/金华市/永康市", "黑龙江省/哈尔滨市"]


def test_province_wide_story_stays_at_province():
    text = (
        "浙江全省基层党组织迅速行动。全省规模以上工业企业复工率99.9%。浙江省委要求，"
        "杭州、宁波、温州、湖州、金华等地加快复工。浙江上下认真落实。"
    )
    assert extract_regions(text) == ["浙江省"]


@pytest.mark.parametrize(
    "text",
    [
        "在和平镇城区新区，记者江南和公安干警一起走访了永乐店镇的居民，大家祈愿和平。",
        "中华人民共和国成立以来，新华社报道，长安街上人民路边，东方红太阳升。",
        "青山湖科技城的企业复工了，南部山区和新城建设也在推进。",
        "（记者 戴凛 通讯员 雷江华）刘白云一边指着表格，一边说。",
        "",
    ],
)
def test_no_false_regions_from_ordinary_words(text):
    assert extract_regions(text) == []


# -- region F1 on the labelled seeds (same definition as shared/eval/tools/score_metadata.py) --------------

_SEP = re.compile(r"[/›>\s]+")


def _most_specific(values):
    vals = [_SEP.sub("", v) for v in values]
    return {v for v in vals if v and not any(o != v and o.startswith(v) for o in vals)}


def _f1(a, b):
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def _gold_articles():
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    for r in gold:
        raw = (SEEDS / r["file"]).read_text(encoding="utf-8")
        b0 = r["boundaries"][0]
        if b0.get("start_char") is not None:
            text = raw[b0["start_char"] : b0["end_char"]]
        else:
            lines = raw.split("\n")
            text = "\n".join("\n".join(lines[b["start_line"] - 1 : b["end_line"]]) for b in r["boundaries"])
        yield r, text, raw


@pytest.mark.skipif(not GOLD.exists(), reason="shared/eval gold not present")
def test_gold_region_f1():
    scores, misses = [], []
    for r, text, raw in _gold_articles():
        got = extract_regions(text, page_context=raw)
        s = _f1(_most_specific(got), _most_specific(r["regions"]))
        scores.append(s)
        if s < 1:
            misses.append(f"{r['id']}: {got} want {r['regions']}")
    avg = sum(scores) / len(scores)
    assert len(scores) == 22
    assert avg >= 0.9, f"region F1 {avg:.3f}; misses: {misses}"


def test_import_and_load_emit_no_warnings():
    code = "import search.text.regions as r; r.place_names(); r.extract_regions('湖南株洲')"
    proc = subprocess.run([sys.executable, "-W", "error", "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_on_a_local_page_one_mention_of_its_own_county_outweighs_a_passing_mention_elsewhere():
    local_page = "\n".join(
        ["慈利县：扶贫车间复工助力脱贫攻坚", "本报讯 近日，在慈利县象市镇坪岩村，慈利县农户正在锄草。"] * 6
    )
    article = (
        "村里后备干部主动报名参加疫情防控工作，按时为湖北返乡人员检测体温。"
        "自疫情发生以来，慈利县各级党组织已收到88份来自防疫一线的入党申请。"
    )
    assert extract_regions(article, page_context=local_page) == ["湖南省/张家界市/慈利县"]
    # on a page about many places the same two passing mentions decide nothing
    national_page = "\n".join(["浙江党组织凝心聚力", "在浙江湖州市长兴县", "北京通州区一线", "湖南株洲、云南镇雄"] * 3)
    assert extract_regions(article, page_context=national_page) == []
