"""One decoded page → its articles.

Stages: paragraphs (one per non-blank line, with its line number) → roles (furniture, heading, byline, caption, credit,
signature, body) → article segments (title clusters decide where a new article starts) → fields.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from search.ingest import metadata as md
from search.ingest import segmented
from search.ingest.decode import page_lines

_WS = re.compile(r"[\s\u3000\xa0]+")
_SECTION_MARK = re.compile(r"^[■□●◆◇★☆]")
_ENUMERATED = re.compile(
    r"^\s*(?:[（(]\s*[一二三四五六七八九十\d]+\s*[)）]|[一二三四五六七八九十]+、|\d+[、.．](?!\d))"
)
_PHONE = re.compile(r"\d{3,4}-\d{6,8}|电话\s*[:：]")
_ORG_END = re.compile(
    r"(局|中心|委员会|委|办公室|办|公司|政府|法院|检察院|银行|协会|学会|学校|大学|医院|集团|厅|部|所|站|社|会|处|院)$"
)
# A deck under the headline names the story's genre: …复工复产侧记, …纪实, …述评.
_DECK_GENRE = re.compile(r"(?:侧记|纪实|综述|述评|记事|速写|素描|访谈录|调查|观察|手记|札记)\s*$")
_NOTICE = re.compile(r"公告|通告|启事|公示|声明$|招标|挂牌出让")
# Words that often open a headline; used only to find the seam in a pre-segmented title block printed without separators.
_HEADLINE_OPENERS = {"在", "让", "把", "为", "从", "向", "给", "以", "用", "将", "当", "对", "于"}


@dataclass
class Para:
    line: int
    text: str
    level: int = 0  # number of leading '#'
    role: str = "body"
    names: list = field(default_factory=list)
    tokens: list | None = None
    printed: bool = False  # an e-paper print line: its facts are the page's, its text is not the article's


@dataclass
class Segment:
    paras: list = field(default_factory=list)
    title: list = field(default_factory=list)  # the cluster that opened it
    extra_title: list = field(default_factory=list)  # a later headline+byline cluster inside it
    closed: bool = False
    photo: bool = False
    package: bool = False  # an editor's note (——编者) introduced it: the signed sections below are its parts


# ---------------------------------------------------------------- paragraphs


def paragraphs(text: str) -> tuple[list[Para], bool]:
    """Non-blank lines as paragraphs; a pre-segmented text is split at its U+3000 paragraph marks (all on line 1..)."""
    if segmented.is_segmented(text):
        out = []
        for lineno, line in enumerate(page_lines(text), 1):
            for joined, toks in segmented.paragraphs(line):
                out.append(Para(lineno, _WS.sub(" ", joined).strip(), tokens=toks))
        return out, True
    out = []
    for lineno, line in enumerate(page_lines(text), 1):
        stripped = line.strip(" \t\u3000\xa0\r\ufeff")
        if not stripped:
            continue
        m = re.match(r"^(#{1,6})[ \t\u3000]*(.*)$", stripped)
        if m:
            level, body = len(m.group(1)), m.group(2).strip(" \t\u3000\xa0*")
        else:
            level, body = 0, stripped
        if body:
            out.append(Para(lineno, body, level))
    return out, False


def _byline_follows(paras: list[Para], i: int) -> bool:
    """A short line right above a byline line is a headline even where the text around it runs on."""
    return i + 1 < len(paras) and bool(md.byline_line(paras[i + 1].text))


def _visible(text: str) -> str:
    return _WS.sub("", text)


def _is_label(text: str) -> bool:
    """A column label: a short line without punctuation (quotes allowed): 扶贫手记, 红船观澜, “疫”线面孔."""
    t = re.sub(r"[“”‘’「」『』【】\"']", "", _visible(text))
    return 2 <= len(t) <= 6 and bool(re.fullmatch(r"[\u4e00-\u9fff]+", t))


def _plain_heading(text: str) -> bool:
    t = text.strip()
    v = _visible(t)
    if not 2 <= len(v) <= 32 or "\t" in t or "。" in t:
        return False
    if re.search(r"[。！？；;，,、]$", t) or _ENUMERATED.match(t) or _PHONE.search(t):
        return False
    if re.match(r"^\d{1,2}月\d{1,2}日|^本报讯|^\d+[\u4e00-\u9fff]{0,2}$", v) or md.DATE_ONLY.match(t):
        return False
    return True


# ---------------------------------------------------------------- roles


def assign_roles(paras: list[Para], *, is_markdown: bool) -> dict:
    """Mark each paragraph's role in place; returns page metadata (date, banner lines)."""
    page: dict = {"date": None, "banners": [], "paper": "", "page": "", "section": ""}
    # counted once: a page of many thousand lines must not compare each line with every other
    short = Counter(p.text for p in paras if len(_visible(p.text)) <= 30 and not md.SENTENCE_END.search(p.text))
    for p in paras:
        d = md.page_date(p.text)
        printed = md.print_line(p.text)
        number = md.page_line(p.text)
        if d:
            p.role = "furniture"
            page["date"] = page["date"] or d
        elif printed:
            # the print line under an e-paper article: its byline, and the paper, date and page
            p.role, p.names, p.printed = "byline", printed["names"], True
            page["date"] = page["date"] or printed["date"]
            page["paper"] = page["paper"] or printed["paper"]
            page["page"] = page["page"] or printed["page"]
        elif number:
            p.role = "furniture"  # the page header's page line (第10版：各地传真)
            page["page"] = page["page"] or number[0]
            page["section"] = page["section"] or number[1]
        elif md.EDITOR_LINE.match(p.text):
            p.role = "furniture"
    for i, p in enumerate(paras):
        if p.role == "furniture":
            continue
        nxt = paras[i + 1] if i + 1 < len(paras) else None
        repeated = short[p.text] >= 2 and len(_visible(p.text)) <= 30
        headingish = (p.level or _plain_heading(p.text)) and not md.byline_line(p.text) and not md.closing_note(p.text)
        if headingish and (
            (nxt is not None and nxt.role == "furniture" and len(_visible(p.text)) <= 30) or (repeated and p.level)
        ):
            p.role = "furniture"
            page["banners"].append(p.text)
    # Signatures: org-name lines right above a date-only line (the end of a notice).
    for i, p in enumerate(paras):
        if p.role == "body" and md.DATE_ONLY.match(p.text):
            p.role = "sigdate"
            j = i - 1
            while (
                j >= 0
                and paras[j].role == "body"
                and len(_visible(paras[j].text)) <= 30
                and _ORG_END.search(_visible(paras[j].text))
                and not md.SENTENCE_END.search(paras[j].text)
            ):
                paras[j].role = "signature"
                j -= 1
    prev_ends = True
    for i, p in enumerate(paras):
        if p.role != "body":
            prev_ends = True
            continue
        if md.is_credit_line(p.text):
            p.role, p.names = "credit", md.credit_names(p.text)
        elif md.is_caption(p.text):
            p.role = "caption"
        elif names := md.byline_line(p.text):
            p.role, p.names = "byline", names
        elif md.closing_note(p.text):
            p.role = "note"  # （据新华社电） （作者为…） 数据来源：…: closes the article above, heads nothing
        elif (
            p.level
            and len(_visible(p.text)) <= 80
            or not p.level
            and _plain_heading(p.text)
            and (prev_ends or _byline_follows(paras, i))
        ):
            p.role = "heading"
        prev_ends = bool(md.SENTENCE_END.search(p.text)) or p.role != "body"
    # Loose bylines (a bare name, 'title name') are only trusted right under a heading.
    for i in range(1, len(paras)):
        p = paras[i]
        if paras[i - 1].role == "heading" and p.role in ("heading", "body"):
            names = md.loose_byline_line(p.text)
            if names:
                p.role, p.names = "byline", names
    if is_markdown:
        # On a markdown page a plain line is a heading only next to a '#' heading (a kicker, label or subheadline).
        i = 0
        while i < len(paras):
            if paras[i].role in ("heading", "byline") and (
                paras[i].role == "heading" or i and paras[i - 1].role == "heading"
            ):
                j = i
                while j < len(paras) and paras[j].role in ("heading", "byline"):
                    j += 1
                run = paras[i:j]
                if not any(q.level for q in run if q.role == "heading"):
                    for q in run:
                        if q.role == "heading" or not md.byline_line(q.text):
                            q.role, q.names = "body", []
                i = j
            else:
                i += 1
    return page


# ---------------------------------------------------------------- segmentation


def _clusters_and_paras(paras: list[Para]) -> list:
    """Units in order: a list of Para for a title cluster (headings, then bylines), or one Para for anything else."""
    units: list = []
    i = 0
    while i < len(paras):
        p = paras[i]
        if p.role == "furniture":
            i += 1
            continue
        if p.role == "heading":
            cluster = []
            while i < len(paras) and paras[i].role == "heading":
                cluster.append(paras[i])
                i += 1
            while i < len(paras) and paras[i].role == "byline":
                cluster.append(paras[i])
                i += 1
            units.append(cluster)
            continue
        units.append(p)
        i += 1
    return units


def _opens_article(cluster: list[Para]) -> bool:
    heads = [p for p in cluster if p.role == "heading"]
    if _SECTION_MARK.match(heads[0].text):
        return False
    return (
        len(heads) >= 2 or len(heads) < len(cluster) or bool(_NOTICE.search(heads[0].text)) or _is_label(heads[0].text)
    )


def _ends_sentence(p: Para) -> bool:
    return p.role != "body" or bool(md.SENTENCE_END.search(p.text))


def segment(paras: list[Para]) -> list[Segment]:
    units = _clusters_and_paras(paras)
    segs: list[Segment] = []
    cur: Segment | None = None

    def has_body(s: Segment) -> bool:
        return any(p.role in ("body", "caption", "credit", "signature", "sigdate") for p in s.paras if p not in s.title)

    for k, unit in enumerate(units):
        nxt = units[k + 1] if k + 1 < len(units) else None
        if isinstance(unit, list):
            heads = [p for p in unit if p.role == "heading"]
            has_byline = len(heads) < len(unit)
            no_body_after = nxt is None or isinstance(nxt, list)
            if cur is None:
                cur = Segment(paras=list(unit), title=list(unit))
                segs.append(cur)
            elif cur.package and not _new_story(unit, nxt):
                cur.paras += unit  # a section of the package, with its own sub-head and byline
            elif (_SECTION_MARK.match(heads[0].text) and not (cur.closed and len(heads) >= 2)) or not has_body(cur):
                # a ■ section head inside the article; after a signed-off article, ■ label + headline opens one
                cur.paras += unit
            elif has_byline and no_body_after and not _visible_headline(cur):
                cur.paras += unit  # a headline and byline printed after their article's body
                cur.extra_title = list(unit)
                cur.closed = True
            elif has_byline and not cur.closed and cur.paras and not _ends_sentence(cur.paras[-1]):
                cur.paras += unit  # headline printed in the middle of its own article (the sentence goes on after it)
                cur.extra_title = list(unit)
            elif (
                len(unit) == 1
                and not heads[0].level
                and _is_label(heads[0].text)
                and not cur.closed
                and not _dateline_opens(nxt)
            ):
                cur.paras += unit  # a box label inside the article (人物小传, 绝活看点), not a column opening a new one
            elif _opens_article(unit) or cur.closed or _dateline_opens(nxt):
                cur = Segment(paras=list(unit), title=list(unit))
                segs.append(cur)
            else:
                cur.paras += unit  # a sub-head inside the article
            continue
        p = unit
        if p.role == "credit" and cur is not None and (nxt is None or (isinstance(nxt, list) and _opens_article(nxt))):
            photo = _take_photo(cur, p)
            if photo is not None:
                segs.append(photo)
                continue
        if p.role == "note" and cur is None:
            continue  # a note above every article belongs to none
        if cur is None or (cur.closed and p.role not in ("byline", "credit", "note")):
            cur = Segment()
            segs.append(cur)
        cur.paras.append(p)
        if p.role == "note" and md.EDITOR_SIGNOFF.match(p.text):
            cur.package, cur.closed = True, False
        elif cur.package and p.role == "byline":
            pass  # a section's byline inside a package ends nothing
        elif p.role in ("byline", "sigdate", "note") or (p.role == "body" and md.trailing_byline(p.text)[0]):
            cur.closed = True
    return [s for s in segs if s.paras]


def _new_story(cluster: list[Para], nxt) -> bool:
    """What ends a package: a headline with its own column tag or kicker, a notice, or a dateline under it."""
    heads = [p for p in cluster if p.role == "heading"]
    return (
        any(md.split_headline_tag(p.text)[1] or md.is_kicker(p.text) for p in heads)
        or bool(_NOTICE.search(heads[0].text))
        or _dateline_opens(nxt)
    )


def _dateline_opens(unit) -> bool:
    """A heading whose next paragraph opens with a dateline (本报讯…, 新华社北京3月14日电…) heads a new article:
    a dateline only ever starts a story."""
    if not isinstance(unit, Para) or unit.role != "body":
        return False
    t = unit.text.strip()
    return bool(re.match(r"^(?:本报讯|.{0,16}?\d{1,2}月\d{1,2}日电)", t)) or bool(md.inline_dateline_byline(t))


def _visible_headline(seg: Segment) -> bool:
    return any(p.role == "heading" and not _is_label(p.text) for p in seg.title)


def _take_photo(cur: Segment, credit: Para) -> Segment | None:
    """A credit line closing a stand-alone photo: the caption paragraph above it (printed once or repeated) is the item."""
    if not cur.paras or cur.paras[-1].role not in ("body", "caption"):
        return None
    heads = [i for i, p in enumerate(cur.paras) if p.role == "heading" and p not in cur.title]
    if heads and heads[-1] < len(cur.paras) - 1:
        tail = cur.paras[heads[-1] :]
        if all(p.role in ("heading", "body", "caption") and len(_visible(p.text)) <= 200 for p in tail):
            # a sub-head, captions and a short text closed by a credit: a titled photo item of its own
            del cur.paras[heads[-1] :]
            return Segment(paras=tail + [credit], title=tail[:1], photo=True, closed=True)
    last = cur.paras[-1]
    n = 1
    while n < len(cur.paras) and cur.paras[-1 - n].text == last.text:
        n += 1
    taken = cur.paras[-n:]
    earlier = cur.paras[: len(cur.paras) - n]
    if any(p.text != last.text and p.text.startswith(last.text) for p in earlier):
        # the caption was printed with its credit above already: the article's own photo, printed twice
        return None
    rest = [p for p in cur.paras if p not in cur.title]
    signed = any(p.role == "byline" for p in cur.title)
    if len(cur.paras) - n <= len(cur.title) or (
        cur.title and not signed and all(len(_visible(p.text)) <= 200 for p in rest)
    ):
        # a titled photo item (headline, captions, a short text) signed by its photographer
        cur.paras.append(credit)
        cur.photo = True
        return None
    del cur.paras[-n:]
    return Segment(paras=taken + [credit], photo=True, closed=True)


def split_notice_tails(segs: list[Segment]) -> list[Segment]:
    """A notice's tail (numbered clauses, phone lines, signature, date) printed under another article becomes its own item."""
    out = []
    for s in segs:
        if s.paras and s.paras[-1].role == "sigdate" and not any(_NOTICE.search(p.text) for p in s.title):
            i = len(s.paras) - 1
            while (
                i > 0
                and s.paras[i - 1].role in ("body", "signature", "sigdate")
                and (
                    s.paras[i - 1].role != "body"
                    or _ENUMERATED.match(s.paras[i - 1].text)
                    or _PHONE.search(s.paras[i - 1].text)
                    or len(_visible(s.paras[i - 1].text)) <= 40
                )
            ):
                i -= 1
            first_body = next((j for j, p in enumerate(s.paras) if p.role == "body"), 0)
            if i > first_body and any(_ENUMERATED.match(p.text) for p in s.paras[i:]):
                head = Segment(paras=s.paras[:i], title=s.title, extra_title=s.extra_title)
                out += [head, Segment(paras=s.paras[i:], closed=True)]
                continue
        out.append(s)
    return out


# ---------------------------------------------------------------- fields


def _one_line(text: str) -> str:
    return _WS.sub(" ", text).strip()


def interpret_title(cluster: list[Para]) -> dict:
    """headline / subheadline (kicker above, or deck below) / column / byline names from a title cluster."""
    heads = [p for p in cluster if p.role == "heading"]
    names = [n for p in cluster if p.role == "byline" for n in p.names]
    # A headline broken after a colon ('慈利县：' / '扶贫车间…') is one headline.
    lines: list[tuple[str, int, list[Para]]] = []
    for p in heads:
        if lines and re.search(r"[：:]$", lines[-1][0]) and lines[-1][1] == p.level:
            t, lv, ps = lines[-1]
            lines[-1] = (t + p.text, lv, ps + [p])
        else:
            lines.append((p.text, p.level, [p]))
    column = ""
    if len(lines) >= 2 and _is_label(lines[0][0]) and not _SECTION_MARK.match(lines[0][0]):
        column = _one_line(lines[0][0]).strip("【】")  # 【株洲新闻】: the bracket is the label's frame
        lines = lines[1:]
    elif len(lines) >= 2 and _SECTION_MARK.match(lines[0][0]) and _is_label(_SECTION_MARK.sub("", lines[0][0])):
        column = _one_line(_SECTION_MARK.sub("", lines[0][0]))  # ■ 短评 over a headline: the column
        lines = lines[1:]
    elif len(lines) == 1 and _is_label(lines[0][0]) and lines[0][1] != 1:  # a lone '# …' is a (short) headline
        return {
            "headline": "",
            "kicker": "",
            "subheadline": "",
            "column": _one_line(lines[0][0]),
            "names": names,
            "used": [],
        }
    if not lines:
        return {"headline": "", "kicker": "", "subheadline": "", "column": column, "names": names, "used": []}
    tagged = [i for i, (t, _, _) in enumerate(lines) if md.split_headline_tag(t)[1]]
    kickers = [i for i, (t, _, _) in enumerate(lines) if md.is_kicker(t)]
    by_convention = False
    if any(lv for _, lv, _ in lines):
        top = min(lv for _, lv, _ in lines if lv)
        h = next(i for i, (_, lv, _) in enumerate(lines) if lv == top)
        by_convention = True
    elif len(lines) > 1 and (tagged or kickers):
        # the column tag rides on the headline; a kicker ends in a dash leading into the line below it
        h = tagged[0] if tagged else min(kickers[0] + 1, len(lines) - 1)
        by_convention = True
    else:
        joined = [i for i, (_, _, ps) in enumerate(lines) if len(ps) > 1]
        # A deck ('——…') hangs right under its headline, so the line above the first deck is the headline.
        deck = [i for i, (t, _, _) in enumerate(lines) if i and re.match(r"^\s*(?:——|--|—)", t)]
        h = joined[0] if joined else deck[0] - 1 if deck else 0
        if not joined and not deck and names and len(lines) == 2 and not _DECK_GENRE.search(lines[1][0]):
            # Two plain title lines over a byline: a kicker above or a deck below the headline. Either is the
            # explanatory, longer line; when they are about as long, the headline is the one on the byline (papers
            # print kicker, headline, byline in that order).
            first, second = (len(_visible(t)) for t, _, _ in lines)
            h = 0 if first < second - 3 else 1
            by_convention = h == 1
    above, below = lines[:h], lines[h + 1 :]
    if above and not column and not by_convention and len(above) == 1:
        column, above = _one_line(above[0][0]), []  # a plain line over a plain headline: a section banner
    headline, tag = md.split_headline_tag(_one_line(lines[h][0]))
    if tag:
        column = f"{column} {tag}" if column and tag not in column else column or tag
    kicker = " ".join(md.KICKER_DASH.sub("", _one_line(t)) for t, _, _ in above)
    sub = " ".join(_one_line(t) for t, _, _ in below)
    used = [p for _, _, ps in [lines[h]] + above + below for p in ps]
    return {"headline": headline, "kicker": kicker, "subheadline": sub, "column": column, "names": names, "used": used}


def split_glued_title(para: Para) -> dict:
    """A pre-segmented title block: kicker + headline glued, then a bracketed column tag. Uses the token seams."""
    toks = para.tokens or list(para.text)
    column = ""
    text = "".join(toks)
    m = re.search(r"[（(]([^（）()]{2,12})[)）]$", text)
    if m:
        column = m.group(1)
        cut = len(text) - len(m.group(0))
        acc, keep = 0, []
        for t in toks:
            if acc >= cut:
                break
            keep.append(t)
            acc += len(t)
        toks = keep
        text = "".join(toks)
    pos, seam = 0, None
    for i, t in enumerate(toks):
        if i and t in _HEADLINE_OPENERS and pos >= 8 and len(text) - pos >= 4 and toks[i - 1] not in "，,、：:；;":
            seam = pos
            break
        pos += len(t)
    if seam is None:
        return {"headline": text, "subheadline": "", "column": column}
    return {"headline": text[seam:], "subheadline": text[:seam], "column": column}


def _body_text(paras: list[Para]) -> str:
    out = ""
    prev: Para | None = None
    for p in paras:
        if prev is None:
            out = p.text
        elif prev.role == "body" and p.role == "body" and not md.SENTENCE_END.search(prev.text) and not prev.level:
            out += p.text  # a layout break inside a sentence
        else:
            out += "\n" + p.text
        prev = p
    return out


def build_fields(seg: Segment, page: dict) -> dict:
    title_paras = seg.title
    info: dict[str, Any] = (
        interpret_title(title_paras)
        if title_paras
        else {"headline": "", "kicker": "", "subheadline": "", "column": "", "names": [], "used": []}
    )
    if seg.photo and not info["headline"] and info["column"] and len(title_paras) == 1:
        info["headline"], info["column"] = info["column"], ""  # a photo item's short title is its headline
        info["used"] = list(title_paras)
    if title_paras and title_paras[0].tokens is not None:
        info.update(split_glued_title(title_paras[0]), used=[title_paras[0]])
    if seg.extra_title:
        extra = interpret_title(seg.extra_title)
        if extra["headline"]:
            old = info["headline"]
            info["subheadline"] = " ".join(x for x in (info["subheadline"], old) if x)
            info["headline"] = extra["headline"]
            info["used"] = info["used"] + extra["used"]
            info["column"] = info["column"] or extra["column"]
        info["names"] = info["names"] + extra["names"]
    used = {id(p) for p in info["used"]}
    # the title cluster's byline lines are the byline field, not the article's text
    title_bylines = {id(p) for p in title_paras + seg.extra_title if p.role == "byline"}
    body_paras = [p for p in seg.paras if id(p) not in used and id(p) not in title_bylines and not p.printed]
    names = list(info["names"])
    first_body = next((p for p in body_paras if p.role == "body"), None)
    if first_body is not None:
        names += md.inline_dateline_byline(first_body.text)
    for p in body_paras:
        if p.role == "byline" and p not in title_paras and p not in seg.extra_title:
            names += p.names
    last_body = next((p for p in reversed(body_paras) if p.role == "body"), None)
    if last_body is not None:
        names += md.trailing_byline(last_body.text)[0]
    if seg.photo:
        names += [n for p in body_paras if p.role == "credit" for n in p.names]
    roles = md.unique_names(names)
    date, date_source, partial, dateline_date = None, "none", "", ""
    if first_body is not None:
        full, partial = md.dateline(first_body.text)
        dateline_date = full[5:] if full else partial
        if full:
            date, date_source = full, "dateline"  # only when the page names no issue date
        elif seg.photo and not partial:
            partial = md.leading_partial_date(first_body.text)
    if page.get("date"):
        date, date_source = page["date"], "page"  # the date (header or print line), not the dateline's
    body = _body_text(body_paras)
    if title_paras and title_paras[0].tokens is not None and info["column"]:
        body = f"（{info['column']}）\n{body}"  # the glued column tag stays searchable
    notice_end = bool(body_paras) and body_paras[-1].role == "sigdate"
    kind = "photo" if seg.photo else md.kind_of(info["headline"], info["column"], body, notice_end=notice_end)
    lines = [p.line for p in seg.paras]
    return {
        "headline": info["headline"],
        "kicker": info.get("kicker", ""),
        "subheadline": info["subheadline"],
        "column": info["column"],
        "body": body,
        "byline": [n["name"] for n in roles],
        "byline_roles": roles,
        "date": date,
        "date_source": date_source,
        "date_partial": partial,
        "dateline_date": dateline_date,
        "kind": kind,
        "line_start": min(lines),
        "line_end": max(lines),
    }
