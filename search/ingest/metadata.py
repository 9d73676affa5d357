"""Field extractors for one article or page: bylines, dates, captions, the paper's name, kind."""

from __future__ import annotations

import re

HAN = "\u4e00-\u9fff"
# Role words that come before names in a byline, longest first so 本报记者 wins over 记者.
ROLES = (
    "本报首席记者",
    "本报特约记者",
    "本报见习记者",
    "本报实习生",
    "本报记者",
    "本报通讯员",
    "本报评论员",
    "首席记者",
    "特约记者",
    "见习记者",
    "特约撰稿人",
    "实习记者",
    "实习生",
    "通讯员",
    "记者",
    "撰稿",
    "摄影",
    "编辑",
)
# A reporter's outlet before the role word (湖南日报记者, 新华社记者, 人民网记者): an affiliation, neither the source nor
# part of a name.
_AFFILIATION = f"[{HAN}]{{0,10}}?(?:日报|晚报|青年报|法治报|都市报|商报|时报|报社|报|新华社|中新社|通讯社|电视台|网)"
_ROLE_RE = f"(?:{_AFFILIATION})?(?:" + "|".join(ROLES) + ")"
_ROLE_FULL = re.compile(_ROLE_RE)
# The bylines of institutional authors: a paper's editorial voice signs with a pen name that names no person.
INSTITUTIONAL = (
    "本报评论员",
    "评论员",
    "任仲平",
    "国纪平",
    "钟声",
    "仲音",
    "和音",
    "宣言",
    "人民日报评论员",
    "新华社评论员",
    "本报编辑部",
    "编辑部",
)
# Words after a name that say what the person did.
_SUFFIX_ROLES = ("参与采写", "采写", "整理", "报道", "摄影", "供图", "摄", "执笔", "编译")
_SUFFIX_RE = "|".join(_SUFFIX_ROLES)
# Common surnames, used only to split two names printed without a separator (戴雯戴晓山).
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
# Two-character surnames, so a four-character line (欧阳黔森) can still be one person's name.
COMPOUND_SURNAMES = {
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "司徒",
    "夏侯",
    "长孙",
    "宇文",
    "端木",
    "独孤",
    "南宫",
    "西门",
    "轩辕",
    "呼延",
    "万俟",
    "申屠",
    "澹台",
    "太史",
}
_NAME = re.compile(f"^[{HAN}·]{{2,4}}$")
# Words that look like 2–4 character names but are not (labels, common nouns in parentheses).
_NOT_NAMES = {
    "社区",
    "手记",  # 记者手记, 采访手记: a column label after a role word
    "札记",
    "观察",
    "调查",
    "左",
    "右",
    "中",
    "资料图",
    "供图",
    "图片",
    "新华社",
    "本报",
    "记者",
    "通讯员",
    "试行",
    "草案",
    "节选",
    "下同",
    "同上",
    "全文",
    "摘要",
    "上接",
    "下转",
    "续",
    "完",
    "有删节",
    "图",
}

TERMINAL = '。！？!?…；;」』”"）)】'
SENTENCE_END = re.compile(f"[{re.escape(TERMINAL)}]\\s*$")

PAGE_DATE = re.compile(
    r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*(?:[，,]?\s*(?:星期|礼拜|周)[一二三四五六日天])?"
    r"(?:\s*(?:农历|第\s*\d+\s*[期版]).*)?\s*$"
)
EDITOR_LINE = re.compile(
    r"^\s*(?:责编|责任编辑|美编|校对|编辑|版式|组版|审读|本版编辑|见习编辑|版面设计|本期统筹|统筹|策划|"
    r"监制|出品|联合出品|本版策划)\s*[:：]"
)
# A page header's page line: 第10版：各地传真 / 第 3 版 要闻 / A04版 / 10版 经济.
PAGE_LINE = re.compile(
    f"^\\s*(?:第\\s*([A-Za-z]?\\d{{1,3}})\\s*版|([A-Za-z]?\\d{{1,3}})\\s*版)\\s*[:：]?\\s*([{HAN}·]{{0,12}})\\s*$"
)
# The print line under an e-paper article: 本报记者  周  欢《人民日报》（2026年06月11日第 01 版）.
PRINT_LINE = re.compile(
    r"^>?\s*(?P<byline>[^《》]{0,80}?)\s*《(?P<paper>[^《》]{2,16})》\s*[（(]\s*(?P<y>\d{4})\s*年\s*"
    r"(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:第\s*(?P<page>[A-Za-z]?\d{1,3})\s*版)?\s*[)）]\s*$"
)
# Whole-line notes that close an article: （据新华社电） （作者为…） （摘编自…） （本系列评论到此结束） （本报记者 X整理）.
_CLOSING_NOTE = re.compile(r"^[（(][^（）()]{2,120}[)）]$")
_CHART_CREDIT = re.compile(r"^\s*(?:数据来源|资料来源|来源|制图|图表|设计|漫画)\s*[:：]|制图\s*[:：]")
DATE_ONLY = re.compile(r"^\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
# Datelines: 新华社北京3月9日电 / 本报讯 3月9日 / 本报北京2020年3月9日电 / 本报讯(记者 …) 3月9日
_DATELINE_FULL = re.compile(r"^.{0,16}?(\d{4})年(\d{1,2})月(\d{1,2})日(?:电|讯)")
_DATELINE_PARTIAL = re.compile(
    r"^(?:.{0,16}?(?<!\d)(\d{1,2})月(\d{1,2})日(?:电|讯)"
    r"|本报讯\s*(?:[（(][^）)]*[)）])?\s*(\d{1,2})月(\d{1,2})日)"
)
_PAPER = re.compile(f"([{HAN}]{{2,5}}(?:日报|晚报|都市报|商报|时报|青年报|农民报|法制报|经济报))(?:社|报业|记者|讯|电)")
_PAPER_BANNER = re.compile(f"^([{HAN}]{{2,5}}(?:日报|晚报|都市报|商报|时报))$")
CAPTION_MARK = re.compile(r"^[▲△▶►▷▼◀←↑→↓]")
# A photo credit may name its agency after it (张帆摄（影像中国）) and cover several photos (以上图片均为陈畅摄).
_AGENCY = "(?:\\s*[（(][^（）()]{2,10}[)）])?"
_COVERS = "(?:(?:以上|本版|上图|下图|左图|右图|图|组图)?(?:图片)?均?为)?"
CREDIT_TAIL = re.compile(
    f"(?:(?:{_ROLE_RE})?\\s*{_COVERS}([{HAN}]{{2,4}}(?:[、\\s]+[{HAN}]{{2,4}})*)\\s*(?:摄影?|供图)|(?:{_ROLE_RE})?供图)"
    f"{_AGENCY}\\s*$"
)
CREDIT_LINE = re.compile(
    f"^\\s*(?:(?:{_ROLE_RE})\\s*)?{_COVERS}[{HAN}]{{2,4}}(?:[、\\s]+[{HAN}]{{2,4}})*\\s*(?:摄影?|供图){_AGENCY}\\s*$"
    f"|^\\s*(?:{_ROLE_RE})?\\s*供图{_AGENCY}\\s*$"
)
_TITLE_SUFFIX = (
    "书记",
    "主任",
    "局长",
    "县长",
    "市长",
    "镇长",
    "乡长",
    "村长",
    "校长",
    "院长",
    "厂长",
    "部长",
    "教授",
    "研究员",
    "记者",
    "通讯员",
    "委员",
    "代表",
    "主席",
    "经理",
    "董事长",
    "医生",
    "护士",
    "教师",
    "老师",
    "干部",
    "队员",
    "律师",
    "专家",
    "学者",
    "作者",
    "评论员",
    "编辑",
    "馆长",
    "所长",
    "站长",
    "处长",
    "科长",
    "队长",
    "社长",
    "总编辑",
)


def iso(y: str | int, m: str | int, d: str | int) -> str | None:
    y, m, d = int(y), int(m), int(d)
    if 1 <= m <= 12 and 1 <= d <= 31 and 1800 < y < 2200:
        return f"{y:04d}-{m:02d}-{d:02d}"
    return None


def page_date(line: str) -> str | None:
    m = PAGE_DATE.match(line)
    return iso(*m.groups()[:3]) if m and re.search(r"星期|礼拜|周[一二三四五六日天]", line) else None


def dateline(first_para: str) -> tuple[str | None, str]:
    """(full ISO date from a dateline with a year, 'MM-DD' from a year-less dateline); never guesses a year."""
    text = first_para.strip()
    m = _DATELINE_FULL.match(text)
    if m:
        return iso(*m.groups()), ""
    m = _DATELINE_PARTIAL.match(text)
    if m:
        mo, d = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if 1 <= int(mo) <= 12 and 1 <= int(d) <= 31:
            return None, f"{int(mo):02d}-{int(d):02d}"
    return None, ""


def leading_partial_date(text: str) -> str:
    m = re.match(r"^\s*(\d{1,2})月(\d{1,2})日", text)
    if m and 1 <= int(m.group(1)) <= 12 and 1 <= int(m.group(2)) <= 31:
        return f"{int(m.group(1)):02d}-{int(m.group(2)):02d}"
    return ""


def paper_name(page_text: str) -> str:
    for line in page_text.split("\n")[:12]:
        m = _PAPER_BANNER.match(line.strip().lstrip("#").strip())
        if m:
            return m.group(1)
    m = _PAPER.search(page_text)
    return m.group(1) if m else ""


def is_caption(text: str) -> bool:
    t = unpad(text.strip())
    return bool(CAPTION_MARK.match(t)) or (len(t) <= 200 and bool(CREDIT_TAIL.search(t)) and not CREDIT_LINE.match(t))


def is_credit_line(text: str) -> bool:
    return bool(CREDIT_LINE.match(unpad(text.strip())))


def credit_names(text: str) -> list[dict]:
    m = CREDIT_TAIL.search(unpad(text.strip()))
    if not m or not m.group(1):
        return []
    role = "摄" if "摄" in m.group(0) else "供图"
    return [{"name": n, "role": role} for n in _split_names(m.group(1))]


def _joined_padding(tokens: list[str]) -> list[str]:
    """Two-character names printed at three characters' width (曹  娴 = 曹娴): two lone characters in a row join."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if len(tokens[i]) == 1 and i + 1 < len(tokens) and len(tokens[i + 1]) == 1:
            out.append(tokens[i] + tokens[i + 1])
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


_AFTER_NAME = f"(?![{HAN}])|(?=(?:{_SUFFIX_RE}))"  # the name's end, or a credit word right after it (王  帆摄)
_PADDED_NAME = re.compile(f"(?<![{HAN}])([{HAN}])[ \u3000\xa0]{{1,3}}([{HAN}])(?:{_AFTER_NAME})")


def unpad(text: str) -> str:
    """A line with padded two-character names joined (湖南日报记者  曹  娴  彭可心 → 湖南日报记者 曹娴 彭可心)."""
    # a function, not the template r"\1\2", which Python 3.11 expands in Python for each match: a long line of
    # padded names took seconds a megabyte
    return _PADDED_NAME.sub(_joined, text)


def _joined(m: re.Match) -> str:
    return m[1] + m[2]


def _split_names(chunk: str) -> list[str]:
    """Names from a run like '徐元锋、杨文明' or '戴雯戴晓山' or '文露清 吴金伟' or '曹  娴  彭可心'."""
    out = []
    for tok in _joined_padding([t for t in re.split(r"[、，,\s\u3000\xa0/]+", chunk) if t.strip()]):
        tok = tok.strip()
        if not tok:
            continue
        if 5 <= len(tok) <= 6:
            cut = next((i for i in (2, 3) if tok[i] in _SURNAMES and len(tok) - i in (2, 3)), None)
            if cut:
                out += [tok[:cut], tok[cut:]]
                continue
        out.append(tok)
    return out


def parse_byline(content: str, *, strict: bool = True) -> list[dict]:
    """Names and roles from a byline text (without its brackets). [] when it does not read as a byline."""
    text = re.sub(r"[\u3000\xa0]", " ", content).strip()
    if text in INSTITUTIONAL or any(text.startswith(i) and not text[len(i) :].strip() for i in INSTITUTIONAL):
        return []
    if not text or len(text) > 60 or re.search(r"[。！？；;:：“”\"《》\d]", text):
        return []
    parts = re.split(f"({_ROLE_RE})", text)
    out: list[dict] = []
    role = ""
    saw_role = False
    for part in parts:
        if not part:
            continue
        if _ROLE_FULL.fullmatch(part):
            role, saw_role = part, True
            continue
        chunk = part.strip(" 、，,")
        if not chunk:
            continue
        suffix = ""
        m = re.search(f"({_SUFFIX_RE})$", chunk)
        if m and len(chunk) > len(m.group(1)):
            suffix, chunk = m.group(1), chunk[: -len(m.group(1))].strip()
        names = _split_names(chunk)
        if not names or not all(_NAME.match(n) and n not in _NOT_NAMES for n in names):
            return []
        the_role = " ".join(r for r in (role, suffix) if r)
        out += [{"name": n, "role": the_role} for n in names]
        saw_role = saw_role or bool(suffix)
    if strict and not saw_role and not out:
        return []
    return out


# A reprint's bracketed credit names the paper first: （转载自株洲日报 记者 刘敏） / （来源：湖南日报 记者 …）.
_PROVENANCE = re.compile(
    f"^\\s*(?:转载自|转自|原载|来源\\s*[:：]?|据)\\s*[{HAN}]{{2,8}}?(?:日报|晚报|都市报|商报|时报|报|网)\\s*"
)
_BYLINE_LINE = re.compile(f"^(?:{_ROLE_RE})\\s*[{HAN}]")
_BRACKETED = re.compile(r"^[（(]([^（）()]{2,60})[)）]$")
_TRAILING = re.compile(r"[（(]([^（）()]{2,60})[)）]\s*$")


def byline_line(text: str) -> list[dict]:
    """A paragraph that is only a byline: '本报记者 李中文 江南', '（本报记者徐元锋、杨文明）', '(唐熙清 朱茂盛)'."""
    t = text.strip()
    m = _BRACKETED.match(t)
    if m:
        return parse_byline(_PROVENANCE.sub("", m.group(1), count=1))
    if _BYLINE_LINE.match(t):
        return parse_byline(t)
    return []


def loose_byline_line(text: str) -> list[dict]:
    """Forms only trusted right under a headline: a bare name ('赵兵', padded '江  萌') or 'title name'
    ('…第一书记 李科琼')."""
    t = unpad(text.strip())
    if (re.fullmatch(f"[{HAN}]{{2,3}}", t) or (len(t) == 4 and t[:2] in COMPOUND_SURNAMES)) and t not in _NOT_NAMES:
        return [{"name": t, "role": ""}]
    m = re.fullmatch(f"([{HAN}（）()·]{{2,40}})[ \u3000\xa0]+([{HAN}]{{2,3}})", t)
    if m and m.group(1).endswith(_TITLE_SUFFIX):
        return [{"name": m.group(2), "role": m.group(1)}]
    return byline_line(t)


def trailing_byline(text: str) -> tuple[list[dict], str]:
    """A byline in brackets closing a paragraph ('…53%。(记者 戴凛 通讯员 雷江华)'): (names, the paragraph without it)."""
    t = text.rstrip()
    m = _TRAILING.search(t)
    if not m:
        return [], text
    before = t[: m.start()].rstrip()
    if before and not SENTENCE_END.search(before):
        return [], text
    names = parse_byline(m.group(1))
    return (names, before) if names else ([], text)


def inline_dateline_byline(first_para: str) -> list[dict]:
    """Names in a dateline: 本报讯(记者 戴凛 通讯员 雷江华) / 新华社北京3月9日电（记者 王某）."""
    m = re.match(r"^.{0,24}?(?:讯|电)\s*[（(]([^（）()]{2,60})[)）]", first_para.strip())
    return parse_byline(m.group(1)) if m else []


_SIGNED_ESSAY = re.compile(r"[（(]作者(?:为|系|是)[^（）()]{2,60}[)）]\s*$")


def kind_of(headline: str, column: str, body: str, *, notice_end: bool) -> str:
    head = f"{column} {headline}"
    if (
        re.search(r"(公告|通告|启事|公示|声明|通知|招标|拍卖|挂牌)(?:\s*[\[［【(（]?\d{4}.*)?$|公告", headline)
        or notice_end
    ):
        return "notice"
    if re.search(r"评论|时评|短评|社论|观澜|杂谈|随笔|论坛|观察家|言论|漫谈", head):
        return "commentary"
    if _SIGNED_ESSAY.search(body):
        return "commentary"  # signed by an outside author (（作者为…教授）): an essay or a theory piece, not a report
    return "news"


def unique_names(names: list[dict]) -> list[dict]:
    """Names in order, each once (the first role given to a name is kept)."""
    seen: set[str] = set()
    out = []
    for n in names:
        if n["name"] not in seen:
            seen.add(n["name"])
            out.append(n)
    return out


def print_line(text: str) -> dict | None:
    """The print line of an e-paper article (byline, paper, issue date, page), or None:
    {"names": [...], "paper": "人民日报", "date": "2026-06-11", "page": "01"}."""
    m = PRINT_LINE.match(text.strip())
    if not m:
        return None
    date = iso(m.group("y"), m.group("m"), m.group("d"))
    if date is None:
        return None
    page = m.group("page") or ""
    return {
        "names": parse_byline(m.group("byline"), strict=False) if m.group("byline").strip() else [],
        "paper": m.group("paper").strip(),
        "date": date,
        "page": page.zfill(2) if page.isdigit() else page,
    }


def page_line(text: str) -> tuple[str, str] | None:
    """(page number, section name) of a page header's page line (第10版：各地传真 → ("10", "各地传真")), or None."""
    m = PAGE_LINE.match(text)
    if not m:
        return None
    number = m.group(1) or m.group(2)
    return (number.zfill(2) if number.isdigit() else number), m.group(3) or ""


# The sign-off under an editor's note that introduces a package of reports: ——编 者.
EDITOR_SIGNOFF = re.compile(r"^\s*(?:——|──|--|—)\s*编\s*者\s*$")


def closing_note(text: str) -> bool:
    """A whole-line note in brackets, a chart credit or an editor's sign-off: it ends what is above it and heads
    nothing."""
    t = text.strip()
    return bool(_CLOSING_NOTE.match(t) or _CHART_CREDIT.search(t) or EDITOR_SIGNOFF.match(t))


# A series or column tag closing a headline: 老区人民日子越过越好（牢记初心使命 奋进复兴征程）. Part numbers stay.
_HEADLINE_TAG = re.compile(r"[（(]([^（）()。！？]{2,24})[)）]\s*$")
_PART_NUMBER = re.compile(r"^[上中下一二三四五六七八九十\d]+(?:[之篇])?$|^续$|^完$")


def split_headline_tag(headline: str) -> tuple[str, str]:
    """(headline, the trailing column tag or "")."""
    m = _HEADLINE_TAG.search(headline)
    if not m or not headline[: m.start()].strip() or _PART_NUMBER.match(m.group(1).strip()):
        return headline, ""
    return headline[: m.start()].rstrip(), re.sub(r"\s+", " ", m.group(1)).strip()


KICKER_DASH = re.compile(r"\s*(?:——|──|--)\s*$")


def is_kicker(text: str) -> bool:
    """A kicker (引题) ends with a dash leading into the headline below it."""
    return bool(KICKER_DASH.search(text))
