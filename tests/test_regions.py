"""Known answers for search.text.regions: gazetteer look-ups, context rules, and region F1 on the labelled seeds."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.text.regions import ancestors, extract_regions, label, mentioned_regions, normalize_path, place_names

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLD = ROOT / "tests" / "data" / "seeds-gold.json"


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


# -- newspaper conventions (paragraphs written for these tests, in the styles of national and local papers) ----


def test_beijing_dateline_on_central_matters_gives_no_beijing():
    text = (
        "新华社北京5月12日电  （记者王某）国务院办公厅日前印发《关于进一步优化营商环境的意见》，要求各地区各部门"
        "抓好落实。意见提出，到2027年，全国统一大市场建设取得重要进展。国家发展改革委有关负责人表示，将加强督促指导。"
    )
    assert extract_regions(text, headline="国务院办公厅印发意见进一步优化营商环境") == []


def test_beijing_dateline_keeps_a_site_with_a_sentence_of_its_own():
    text = (
        "新华社北京3月30日电  首都各界群众当天来到北京市海淀区西山国家森林公园参加义务植树活动。"
        "该公园位于海淀区香山街道，是北京西部重要的生态屏障。大家挥锹铲土、扶苗培土，现场一派繁忙景象。"
    )
    assert extract_regions(text, headline="首都群众参加义务植树") == ["北京市/海淀区"]


def test_beijing_dateline_on_the_city_itself_keeps_beijing():
    text = (
        "本报北京5月6日电  （记者李某）记者从北京市交通委获悉：今年全市将新开通3条轨道交通线路。"
        "市交通委有关负责人介绍，朝阳、通州等区的公交线网也将同步优化。"
    )
    assert extract_regions(text, headline="北京今年新开3条地铁线") == ["北京市"]


def test_capital_dateline_on_a_province_wide_policy_gives_the_province():
    text = (
        "本报杭州5月3日电  （记者赵某）浙江省教育厅近日印发通知，在全省中小学推行课后服务“一校一案”。"
        "通知要求，各地教育部门统筹校内外资源。目前，全省已有超过3000所学校开展试点。"
    )
    assert extract_regions(text, headline="浙江推行课后服务“一校一案”") == ["浙江省"]
    # the capital named in the body is the capital's story; 锦江区、武侯区等 is a list of its districts
    text = (
        "本报成都6月2日电  （记者陈某）成都市近日启动城市公园绿道提升工程，锦江区、武侯区等中心城区将新增绿道"
        "200公里。成都市公园城市建设管理局负责人表示，工程年内完工。"
    )
    assert extract_regions(text, headline="成都新增绿道200公里") == ["四川省/成都市"]


def test_foreign_datelines_and_international_pages_have_no_chinese_region():
    text = (
        "新华社东京6月5日电  （记者某某）日本政府5日发布的数据显示，4月日本实际工资同比下降。"
        "来自上海的一家企业负责人在东京举办的展会上表示，看好中日经贸合作前景。"
    )
    assert extract_regions(text, headline="日本实际工资同比下降") == []
    assert mentioned_regions(text) == ["上海市"]  # still named, for regions_mentioned
    text = (
        "德国联邦统计局日前公布数据，一季度德国经济环比增长0.2%。在柏林举行的中德经济论坛上，"
        "来自江苏苏州的企业代表介绍了在德投资情况。苏州企业在德投资已超过百亿元。"
    )
    assert extract_regions(text, headline="德国经济温和回升", section="国际") == []
    assert extract_regions("本报驻柏林记者  某某  " + text, headline="德国经济温和回升") == []


def test_foreign_names_hide_chinese_short_forms_inside_them():
    # 吉隆坡 is not 吉隆县 (西藏)
    assert extract_regions("马来西亚首都吉隆坡今天举行东盟经贸论坛，吉隆坡街头人流如织。") == []


def test_nationwide_commentary_gets_no_region_even_with_local_examples():
    text = (
        "近年来，各地在优化营商环境上下足功夫。浙江杭州推出“一网通办”，企业开办时间压缩至1天；"
        "广东深圳试点商事登记确认制，市场主体数量持续增长。这些探索表明，营商环境没有最好只有更好。"
    )
    assert extract_regions(text, headline="营商环境没有最好只有更好", section="评论") == []
    text = (
        "一段时间以来，夜间经济持续升温。在湖南长沙，坡子街的夜宵摊位人气火爆，不少游客专程前来打卡。"
        "长沙的夜宵摊位越开越多。在重庆，两江夜游一票难求。夜经济要持续“亮”下去，关键在于提升供给质量。"
    )
    assert extract_regions(text, headline="让夜经济持续亮起来", column="人民时评") == []
    assert extract_regions(text, headline="让夜经济持续亮起来", kind="commentary") == []
    assert extract_regions(text, headline="让夜经济持续亮起来", section="理论") == []
    # the same paragraphs as a news feature are about the places
    assert extract_regions(text, headline="让夜经济持续亮起来") == ["湖南省/长沙市"]


def test_commentary_anchored_in_one_place_keeps_it():
    text = (
        "清晨的宽窄巷子，游人已经不少。记者在成都走访发现，老街区的茶馆、川剧院与新开的书店比邻而居。"
        "成都的做法说明，城市更新要留住烟火气。锦江区的太古里、青羊区的宽窄巷子，都是新旧共生的样本。\n"
        "（作者为本报四川分社记者）"
    )
    assert extract_regions(text, headline="城市更新要留住烟火气", section="评论", column="现场评论") == [
        "四川省/成都市"
    ]
    # the author's bureau anchors it too; the bureau line itself is not a mention
    assert extract_regions(text, headline="城市更新要留住烟火气", section="评论") == ["四川省/成都市"]


def test_places_only_in_a_list_are_examples():
    text = (
        "在山东德州市禹城市，麦收已经开始。禹城市农业农村局负责人说，全市今年小麦长势好于往年。"
        "山东省农业农村厅专家介绍，鲁北地区包括德州、滨州、东营三市，麦收将在一周内全面展开。"
        "禹城市组织农机手跨区作业，确保颗粒归仓。"
    )
    assert extract_regions(text, headline="禹城：麦收开镰") == ["山东省/德州市/禹城市"]
    assert mentioned_regions(text) == ["山东省/德州市/禹城市", "山东省/滨州市", "山东省/东营市"]


def test_photo_captions_that_only_illustrate_do_not_count():
    text = (
        "江西赣州市章贡区，市民在公园里跳广场舞。  某某摄（人民视觉）\n某某摄（人民视觉）\n"
        "四川成都市青羊区，老人在社区健身。  某某摄\n"
        "入夏以来，各地群众健身热情高涨。专家提醒，夏季运动要注意防暑降温，运动强度宜循序渐进。"
        "国家体育总局有关负责人介绍，全民健身公共服务体系不断完善。运动前要做好热身，运动后及时补充水分。"
        "老年人锻炼宜选择清晨或傍晚。"
    )
    assert extract_regions(text, headline="夏季健身注意防暑") == []
    # photo news: the caption is the story
    caption = "6月1日，贵州黔东南苗族侗族自治州雷山县西江千户苗寨，游客在观看苗族歌舞表演。  某某摄（人民视觉）"
    assert extract_regions(caption, headline="苗寨歌舞迎客来") == ["贵州省/黔东南苗族侗族自治州/雷山县"]


def test_local_paper_county_from_the_papers_name():
    text = (
        "本报讯（记者 张某 通讯员 李某）近日，我县召开乡村振兴工作推进会。会议要求，全县各乡镇要抓好特色产业发展。"
        "县委书记强调，要确保各项任务落地见效。"
    )
    assert extract_regions(text, headline="我县召开乡村振兴推进会", source="攸县日报") == ["湖南省/株洲市/攸县"]


@pytest.mark.parametrize(
    "text, want",
    [
        (
            "南京市鼓楼区今年新建社区养老服务站12个。鼓楼区民政局负责人介绍，服务站覆盖全区所有街道。",
            ["江苏省/南京市/鼓楼区"],
        ),
        ("福州市鼓楼区三坊七巷迎来旅游旺季。鼓楼区文旅局负责人说，今年将推出更多夜游项目。", ["福建省/福州市/鼓楼区"]),
    ],
)
def test_gulou_resolved_by_its_city(text, want):
    assert extract_regions(text, headline="鼓楼新事") == want


def test_origins_and_word_pieces_are_not_regions():
    text = (
        "在云南大理古城，来自广东的游客张女士一家正在品尝乳扇。大理古城管理局负责人介绍，今年以来，"
        "大理接待游客同比增长两成。"
    )
    assert extract_regions(text, headline="大理古城游人如织") == ["云南省/大理白族自治州"]
    assert extract_regions("会议强调，要深入研究事关全局的重大理论和实践问题，推进理论创新。") == []


def test_opening_scene_after_a_time_word_sets_the_county():
    text = (
        "日前，在湖北宜昌市夷陵区，一场柑橘产销对接会吸引了200多家采购商。夷陵区农业农村局负责人介绍，"
        "全区柑橘种植面积达30万亩。宜昌市今年将继续推进柑橘品牌建设。"
    )
    assert extract_regions(text, headline="柑橘产销对接会举行") == ["湖北省/宜昌市/夷陵区"]


def test_section_read_from_archive_front_matter():
    body = "近年来，各地在优化营商环境上下足功夫。浙江杭州推出“一网通办”，杭州企业开办时间压缩至1天。"
    page = '---\ntitle: "营商环境"\nsection_name: "评论"\n---\n\n' + body
    assert extract_regions(body, headline="营商环境没有最好只有更好", page_context=page) == []
    assert extract_regions(body, headline="营商环境没有最好只有更好") == ["浙江省/杭州市"]
