"""What place an article is about, as full Chinese administrative names.

The gazetteer is the province / prefecture / county table that ships with the ``jionlp`` package
(``jionlp/dictionary/china_location.zip``, current divisions with adcodes and short names) plus its list of
renamed or merged divisions (``china_location_change.txt``), so that an archive article about 江干区 or 株洲县
keeps the name it printed.  The data files are read directly: ``import jionlp`` itself takes about a second
and prints a banner, and nothing here needs its code.  The table is loaded lazily, once, into flat lookup
tables and one trie-shaped regular expression.

A path is the chain of full names joined with "/": "湖南省/株洲市/石峰区".  Municipalities have two levels
("北京市/通州区"); a province-level story is just "浙江省".

How a region is chosen (``extract_regions``):
1. Every gazetteer name in the text (whitespace and jieba's "|" removed, so layout line breaks inside names
   do not hide them) is found by a longest-match scan.
2. Adjacent names that form a chain ("浙江湖州市长兴县", "云南镇雄县") count once, for the deepest one.
3. Weak names need context: a short form of a county ("慈利", "和平") or a one-character full name ("城区",
   "和县") counts only when its full name, a parent, or the page's dominant place supports it; a short form
   followed by 镇/乡/村/路/湖/… is part of a town, street or lake name and is dropped.  Ambiguous names
   ("朝阳", "通州") go to the candidate whose province or city is mentioned nearest, then in the article,
   then on the page, then by source.
4. Mentions are weighted (headline and dateline count more, "贵州籍" less) and summed up the tree.  "我市",
   "全市", "全县", "全省" … give weight to the dominant place of that level, in the article or else on the
   page (a local paper's "我市" with no place named).
5. From the top: every province-level branch with enough of the weight is a region (several for a
   multi-place story); within a branch the choice goes down to the child that carries the story, stops where
   several children share it or where the text speaks of the whole area (全省, 全市), and goes down to a
   sole sub-area when nothing speaks for the whole.
6. Newspaper conventions (see ``_Reading`` and docs/gazetteers.md): a 北京 dateline counts for nothing, a provincial
   capital's dateline on a province-wide story gives the province, foreign datelines and international pages give
   [], opinion and theory pieces keep places only when anchored in one area; lists, examples, captions, origins
   and firm names weigh less; a paragraph opening on its place weighs more.

``mentioned_regions`` lists every Chinese place named, whether or not the article is about it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import zipfile
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

__all__ = ["extract_regions", "mentioned_regions", "normalize_path", "ancestors", "label", "place_names"]

SEP = "/"

# A short form followed by one of these is the start of a town, village, street, lake … name
# ("和平镇", "永乐店镇", "北京路", "青山湖"), not the division itself.
_AFTER_SHORT_BAD = set("镇乡村路街巷道湖山河江桥寺庙庵港湾岭峰岛庄屯寨坝洲门")
# A short form followed by a few characters and a zone word names a zone or a new town ("钱塘智慧城",
# "青山湖科技城", "慈利工业集中区"), which need not lie in the division of that name.
_ZONE_AFTER_RE = re.compile(
    r"[\u4e00-\u9fff]{0,4}?(?:新城|新区|开发区|园区|工业区|集中区|高新区|经开区)"
    r"|[\u4e00-\u9fff]{1,3}城(?![区市])"
)
# After a short form, "籍" means where someone comes from: a passing mention.
_ORIGIN = "籍"

# Whole-area words of a local paper.  Strong ones say the article is about the whole area; agency ones
# ("市委", "县政府") only say which area's authorities act.
_SCOPE_STRONG = {
    "我市": 1,
    "全市": 1,
    "本市": 1,
    "我省": 0,
    "全省": 0,
    "本省": 0,
    "我县": 2,
    "全县": 2,
    "本县": 2,
    "我区": 2,
    "全区": 2,
    "本区": 2,
    "我州": 1,
    "全州": 1,
}
_SCOPE_AGENCY = {
    "市委": 1,
    "市政府": 1,
    "市本级": 1,
    "省委": 0,
    "省政府": 0,
    "县委": 2,
    "县政府": 2,
    "区委": 2,
    "区政府": 2,
    "州委": 1,
}
_SCOPE_RE = re.compile("|".join(sorted(list(_SCOPE_STRONG) + list(_SCOPE_AGENCY), key=len, reverse=True)))

# Datelines: 本报北京2月20日电, 新华社长沙3月9日电, 本报讯(…) has no place.
_DATELINE_RE = re.compile(
    r"(?:本报|新华社|中新社|中新网|人民网|新华网|央视网|记者)"
    r"([\u4e00-\u9fff]{2,12}?)(?:\d{1,2}月\d{1,2}日)?电"
)
_STRIP_RE = re.compile(r"[\s|\u3000\xa0\u200b]+")
_PATH_SEP_RE = re.compile(r"[/›>\s|,，、]+")

W_HEAD = 3.0  # a mention in the headline
W_DATELINE = 4.0  # the dateline's place
W_LEAD = 2.0  # a mention in the first characters (kicker, headline printed in the text)
LEAD_CHARS = 20
W_ORIGIN = 0.3  # "贵州籍"
W_UNCONFIRMED = 0.5  # a prefecture short form with nothing else pointing at it
W_SCOPE = 1.0
W_AGENCY = 0.3

ROOT_SHARE = 0.1  # a province-level branch needs this share of all weight …
ROOT_MIN = 2.0  # … and this much weight when several branches compete
LOCAL_PAGE_SHARE = 0.75  # a page whose place weight lies this much in one city or county is that place's local page
W_LOCAL = 2.0  # on a local page, a mention of its own place counts double against passing mentions elsewhere
CHILD_SHARE = 0.15  # a child must carry this share of its parent's subtree to count
NEAR = 30  # characters: an ancestor this close decides an ambiguous name


class _Gazetteer:
    """Flat tables over the three administrative levels."""

    def __init__(self):
        self.path: list[str] = []
        self.name: list[str] = []
        self.level: list[int] = []  # 0 province, 1 prefecture, 2 county
        self.parent: list[int] = []  # -1 for provinces
        self.hist: list[bool] = []  # renamed or merged away
        self.short: list[str] = []
        self.by_path: dict[str, int] = {}
        # surface -> ((node, is_short), …)
        self.surface: dict[str, tuple[tuple[int, bool], ...]] = {}
        self.lengths: dict[str, tuple[int, ...]] = {}  # first char -> name lengths, longest first
        self.anc_cache: list[tuple[int, ...]] = []
        self.foreign: set[str] = (
            set()
        )  # foreign countries and cities: matched so that they hide nothing, never a region

    def children(self) -> dict[int, list[int]]:
        """parent → child nodes (-1 → the provinces), built on first use."""
        table = getattr(self, "_children", None)
        if table is None:
            table = {}
            for i, parent in enumerate(self.parent):
                table.setdefault(parent, []).append(i)
            self._children = table
        return table

    # -- building -------------------------------------------------------------------------------------
    def add(self, name, level, parent, short, hist=False):
        path = name if parent < 0 else self.path[parent] + SEP + name
        if path in self.by_path:
            return self.by_path[path]
        i = len(self.path)
        self.path.append(path)
        self.name.append(name)
        self.level.append(level)
        self.parent.append(parent)
        self.hist.append(hist)
        self.short.append(short)
        self.by_path[path] = i
        return i

    def finish(self):
        surf: dict[str, list[tuple[int, bool]]] = defaultdict(list)
        for i, name in enumerate(self.name):
            surf[name].append((i, False))
            for s in self.short[i].split("/"):
                if s and s != name and len(s) >= 2:
                    surf[s].append((i, True))
        self.surface = {k: tuple(v) for k, v in surf.items()}
        for name in self.foreign:
            self.surface.setdefault(name, ())  # an empty entry: a foreign name, consumed by the scan
        self.anc_cache = []
        for i in range(len(self.path)):
            chain = []
            j = i
            while j >= 0:
                chain.append(j)
                j = self.parent[j]
            self.anc_cache.append(tuple(reversed(chain)))
        lengths: dict[str, set[int]] = defaultdict(set)
        for w in self.surface:
            lengths[w[0]].add(len(w))
        self.lengths = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in lengths.items()}


def _data_dir() -> str:
    spec = importlib.util.find_spec("jionlp")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("search.text.regions needs the jionlp package for its gazetteer (pip install jionlp)")
    return os.path.join(list(spec.submodule_search_locations)[0], "dictionary")


_LINE_RE = re.compile(r"^(\t{0,2})([^\t\r\n]+)\t(\d{6})\t([^\t\r\n]*)\r?$", re.M)


@lru_cache(maxsize=1)
def _gaz() -> _Gazetteer:
    g = _Gazetteer()
    d = _data_dir()
    with zipfile.ZipFile(os.path.join(d, "china_location.zip")) as z:
        text = z.read("china_location.txt").decode("utf-8")
    prov = city = -1
    for m in _LINE_RE.finditer(text):
        depth, name, code, short = len(m.group(1)), m.group(2), m.group(3), m.group(4)
        if depth == 0:
            prov = g.add(name, 0, -1, short)
            city = prov
        elif depth == 1:
            # Municipalities repeat themselves as their only prefecture; 省直辖… is a bucket, not a place.
            if name == g.name[prov] or name.endswith(("直辖行政区划", "直辖县级行政区划")):
                city = prov
            else:
                city = g.add(name, 1, prov, short)
        else:
            if "70" <= code[4:6] <= "79":  # development zones (经开区, 高新区), not divisions
                continue
            g.add(name, 2, city, short)
    _add_history(g, os.path.join(d, "china_location_change.txt"))
    g.foreign = _foreign_names(os.path.join(d, "world_location.txt"), g)
    g.finish()
    return g


def _add_history(g: _Gazetteer, fname: str) -> None:
    """Old names from jionlp's change list, at their old place: 江干区 stays 浙江省/杭州市/江干区."""
    try:
        with open(fname, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    for line in lines:
        if "=>" not in line:
            continue
        old = line.split("=>")[0].split("\t")[2:]
        names = old[0::2]
        shorts = old[1::2]
        if not names:
            continue
        parent = -1
        for lvl, (name, short) in enumerate(zip(names, shorts + [""] * len(names))):
            path = name if parent < 0 else g.path[parent] + SEP + name
            if path in g.by_path:
                parent = g.by_path[path]
                continue
            if lvl == 1 and parent >= 0 and name == g.name[parent]:
                continue
            parent = g.add(name, lvl, parent, short, hist=True)


# Two-character foreign names that are also ordinary word pieces ("沿海地区", "增加纳税"): left out of the scan.
_FOREIGN_SKIP = {"海地", "加纳", "多哥", "亚伦", "罗索", "巴新", "纽埃", "利兹", "中非", "南非", "京都"}


def _foreign_names(fname: str, g: _Gazetteer) -> set[str]:
    """Countries, capitals and big cities from jionlp's world list (a report from 新加坡 has no Chinese region).
    Names that are also Chinese divisions (黑山, 西贡) stay Chinese."""
    try:
        with open(fname, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return set()
    out: set[str] = set()
    for line in lines:
        parts = line.split("\t")
        if len(parts) < 2 or parts[0] == "中国":
            continue
        names = parts[:3] + (parts[3].split("/") if len(parts) > 3 else [])
        out.update(n.strip() for n in names if len(n.strip()) >= 2)
    china = set(g.name) | {sh for x in g.short for sh in x.split("/") if sh}
    return {n for n in out if n not in china and n not in _FOREIGN_SKIP}


# ------------------------------------------------------------------------------------------------------
# Public helpers


def ancestors(path: str) -> list[str]:
    """ "湖南省/株洲市/石峰区" -> ["湖南省", "湖南省/株洲市", "湖南省/株洲市/石峰区"]."""
    parts = [p for p in path.split(SEP) if p]
    return [SEP.join(parts[: i + 1]) for i in range(len(parts))]


def label(path: str) -> str:
    """The last component: "石峰区"."""
    parts = [p for p in path.split(SEP) if p]
    return parts[-1] if parts else ""


def place_names() -> set[str]:
    """Every full and short name in the gazetteer (株洲市, 株洲, 慈利县, 慈利 …)."""
    return set(_gaz().surface)


@lru_cache(maxsize=1)
def division_paths() -> tuple[str, ...]:
    """The full path of every current division (a renamed one's old path resolves to its new one), in gazetteer
    order: the values a region filter takes as they are."""
    # past normalize_path's cache, which these three thousand paths would flush
    return tuple(path for path in _gaz().path if normalize_path.__wrapped__(path) == path)


@lru_cache(maxsize=4096)
def normalize_path(value: str) -> str | None:
    """ "湖北/武汉/江岸区", "湖北省武汉市江岸区", "株洲" -> a full path; None if the names are unknown or
    do not form one chain."""
    g = _gaz()
    s = _PATH_SEP_RE.sub("", value or "")
    if not s:
        return None
    if s in g.by_path:
        return s
    by_parts = _path_by_parts(g, value)
    if by_parts is not None:
        return by_parts
    cands: set[int] | None = None
    pos = 0
    for m in _find(g, s):
        if m.start != pos:
            return None
        pos = m.end
        here = set(m.cands)
        if cands is None:
            cands = here
        else:
            # each new name must lie under one of the previous candidates
            nxt = {i for i in here if any(a in cands for a in g.anc_cache[i][:-1])}
            if not nxt:
                return None
            cands = nxt
    if pos != len(s) or not cands:
        return None
    return g.path[_prior_best(g, cands)]


_ADMIN_SUFFIXES = ("市", "省", "区", "县", "盟", "地区", "自治州", "自治县", "自治区", "特别行政区", "林区", "新区")


def _path_by_parts(g: _Gazetteer, value: str) -> str | None:
    """A separated path ("吉林/吉林/桦甸市") resolved part by part among each level's children, by full or short
    name — where the run-together text is ambiguous (吉林吉林桦甸市: the second 吉林 is the city)."""
    parts = [p for p in re.split(r"[/／›>＞\\|｜]+", value) if p.strip()]
    if len(parts) < 2:
        return None
    children = g.children()
    node = -1
    for part in (p.strip() for p in parts):
        kids = children.get(node, ())
        found = [
            i
            for i in kids
            if part in (g.name[i], g.short[i])
            or (len(part) >= 2 and g.name[i].startswith(part) and g.name[i][len(part) :] in _ADMIN_SUFFIXES)
        ]
        if not found and part[-1:] in ("区", "县"):  # a county made a district (湟中县 → 湟中区, 2019), or back
            other = part[:-1] + ("县" if part[-1] == "区" else "区")
            found = [i for i in kids if g.name[i] == other]
        if not found:
            return None
        node = _prior_best(g, found)
    return g.path[node]


def _prior_best(g: _Gazetteer, cands) -> int:
    # Without context: current over historical, higher level over lower, then gazetteer order.
    return min(cands, key=lambda i: (g.hist[i], g.level[i], i))


# ------------------------------------------------------------------------------------------------------
# Extraction


class _Mention:
    __slots__ = ("start", "end", "cands", "short", "weight", "node")

    def __init__(self, start, end, cands, short):
        self.start, self.end = start, end
        self.cands = cands  # candidate node ids
        self.short = short  # matched a short form, not a full name
        self.weight = 1.0
        self.node = -1


def _find(g: _Gazetteer, s: str) -> list[_Mention]:
    """Leftmost-longest, non-overlapping gazetteer names in s."""
    out = []
    surface, lengths = g.surface, g.lengths
    i, n = 0, len(s)
    while i < n:
        lens = lengths.get(s[i])
        if lens:
            for ln in lens:  # longest first
                entries = surface.get(s[i : i + ln]) if i + ln <= n else None
                if entries is not None:
                    if entries:  # an empty entry is a foreign name: consumed, never a mention
                        out.append(_Mention(i, i + ln, tuple(e for e, _ in entries), all(sh for _, sh in entries)))
                    i += ln
                    break
            else:
                i += 1
        else:
            i += 1
    return out


def _splits_word(s: str, m: _Mention) -> bool:
    """A short form whose first character jieba joins to the character before it is part of another word."""
    if m.start == 0 or not ("\u4e00" <= s[m.start - 1] <= "\u9fff"):
        return False
    a = max(0, m.start - 6)
    pos = a
    for tok in _cut(s[a : m.end + 6]):
        end = pos + len(tok)
        if pos < m.start < end:
            return True
        if end > m.start:
            return False
        pos = end
    return False


def _cut(text: str) -> list[str]:
    try:
        import rjieba
    except ImportError:  # the segmenter is the index's; without it every short form counts
        return [text]
    return rjieba.cut(text, hmm=True)


def _chain(g: _Gazetteer, ms: list[_Mention]) -> list[_Mention]:
    """Merge adjacent names into one mention of the deepest: 浙江|湖州市|长兴县 -> 长兴县 under 湖州市."""
    out: list[_Mention] = []
    for m in ms:
        if out and out[-1].end == m.start:
            prev = out[-1]
            under = tuple(i for i in m.cands if any(a in prev.cands for a in g.anc_cache[i][:-1]))
            if under:
                merged = _Mention(prev.start, m.end, under, False)  # the chain confirms a short form
                out[-1] = merged
                continue
        out.append(m)
    return out


def _weak(g: _Gazetteer, s: str, m: _Mention) -> bool:
    """Needs support from context before it counts."""
    text = s[m.start : m.end]
    if m.short:
        return any(g.level[i] == 2 for i in m.cands) or len(text) < 2
    return len(text) <= 2 and all(g.level[i] == 2 for i in m.cands)  # 城区, 郊区, 和县, 沙县


def _analyse(g: _Gazetteer, s: str, lead, head_spans, dateline_spans, context_nodes, page_weights):
    """Resolve and weight the mentions of one normalised text. Returns (weights per node, mentions)."""
    # Drop short forms that begin a town/street/lake/zone name, then merge chains.
    kept = []
    for m in _find(g, s):
        if m.short and _splits_word(s, m):
            continue  # "重大理论" is not 大理, "鲁中山丘" not 中山
        nxt = s[m.end : m.end + 1]
        if m.short and (
            nxt in _AFTER_SHORT_BAD or (all(g.level[i] == 2 for i in m.cands) and _ZONE_AFTER_RE.match(s, m.end))
        ):
            continue
        kept.append(m)
    ms = _chain(g, kept)
    # Places that stand on their own in this text: full names (not one-character stems), and every
    # ancestor of them.  These support weak names and ambiguous ones.
    support: dict[int, list[int]] = defaultdict(list)  # node -> positions
    for m in ms:
        if len(m.cands) == 1 and not _weak(g, s, m):
            for a in g.anc_cache[m.cands[0]]:
                support[a].append(m.start)
    seen_in_text: dict[str, bool] = {}

    def printed(name: str) -> bool:  # one search of the text per name, however often it is asked
        if name not in seen_in_text:
            seen_in_text[name] = name in s
        return seen_in_text[name]

    resolved = []
    for m in ms:
        if len(m.cands) > 1:
            # A short form shared by a city and a county of its own (长沙 → 长沙市, not 长沙县) names the city.
            text = s[m.start : m.end]
            m.cands = (
                tuple(
                    c for c in m.cands if text.endswith(g.name[c]) or not any(a in m.cands for a in g.anc_cache[c][:-1])
                )
                or m.cands
            )
        best, best_score = -1, None
        for c in m.cands:
            score = 0.0
            for a in g.anc_cache[c]:
                if a == c and len(m.cands) > 1:
                    continue
                pos = support.get(a)
                if pos:
                    at = bisect_left(pos, m.start - NEAR)  # positions are in text order: no scan of them all
                    near = at < len(pos) and pos[at] <= m.start + NEAR
                    score += 3.0 if near else 1.0
                if a in context_nodes:
                    score += 0.5 + min(page_weights.get(a, 0.0), 20.0) / 40.0
            key = (score, not g.hist[c], -g.level[c], -c)
            if best_score is None or key > best_score:
                best, best_score = c, key
        assert best_score is not None  # every mention has a candidate
        score = best_score[0]
        if _weak(g, s, m):
            # A short county name or a one-character stem needs its own prefecture (the province for a
            # municipality's district) in the article or on the page, or its full name printed too
            # ("慈利" where "慈利县" is printed); a province alone is too broad to vouch for "江华", "公安".
            par = g.parent[best]
            self_full = m.short and printed(g.name[best])
            if not (self_full or (par >= 0 and (par in support or par in context_nodes))):
                if m.short and g.level[best] == 1:
                    m.weight = W_UNCONFIRMED
                else:
                    continue
        elif m.short and g.level[best] == 1 and score == 0 and not printed(g.name[best]) and len(m.cands) == 1:
            m.weight = W_UNCONFIRMED
        m.node = best
        if s[m.end : m.end + 1] == _ORIGIN:
            m.weight = W_ORIGIN
        if any(a <= m.start < b for a, b in lead):
            m.weight *= W_LEAD
        if any(a <= m.start < b for a, b in dateline_spans):
            m.weight = max(m.weight, 1.0) * W_DATELINE
        resolved.append(m)
    weights: dict[int, float] = defaultdict(float)
    for m in resolved:
        weights[m.node] += m.weight
    return weights, resolved


def _subtree(g: _Gazetteer, weights: dict[int, float]) -> dict[int, float]:
    tot: dict[int, float] = defaultdict(float)
    for n, w in weights.items():
        for a in g.anc_cache[n]:
            tot[a] += w
    return tot


def _dominant(g: _Gazetteer, tot: dict[int, float], level_ok) -> int:
    best, bw = -1, 0.0
    for n, w in tot.items():
        if level_ok(n) and (w > bw or (w == bw and best >= 0 and g.level[n] > g.level[best])):
            best, bw = n, w
    return best


def _scope_target(g: _Gazetteer, tot, page_tot, level: int) -> int:
    """The place that 我市/全县/全省 refers to: the dominant one of that level in the article, else on the page."""

    def ok(n):
        if level == 0:
            return g.level[n] == 0
        if level == 1:  # 市: a prefecture, or a county-level city, or a municipality
            return g.level[n] == 1 or g.name[n].endswith("市")
        return g.level[n] == 2

    for table in (tot, page_tot):
        n = _dominant(g, table, ok)
        if n >= 0:
            return n
    return -1


_PAPER_SUFFIX_RE = re.compile(r"(?:日报|晚报|早报|都市报|融媒体中心|新闻网|报)$")
_page_cache: dict[tuple[str, str], tuple[dict, dict]] = {}


def _page(g: _Gazetteer, page_context: str, source: str):
    """Weights of the page (and of the paper's name), cached: the indexer passes the same page for each
    of its articles."""
    key = (page_context, source)
    hit = _page_cache.get(key)
    if hit is not None:
        return hit
    s = _STRIP_RE.sub("", page_context)
    weights, _ = _analyse(g, s, (), (), (), set(), {})
    src = _STRIP_RE.sub("", source)
    if src:
        sw, _ = _analyse(g, src, (), (), (), set(), {})
        # A paper named after its county (攸县日报, 和县报) vouches for the name even where a two-character county
        # name would need support in running text.
        stem = _PAPER_SUFFIX_RE.sub("", src)
        if not sw and stem in g.surface and g.surface[stem]:
            sw = {_prior_best(g, [i for i, _ in g.surface[stem]]): 1.0}
        for n, w in sw.items():
            weights[n] += 5.0 * w
    tot = _subtree(g, weights)
    if len(_page_cache) > 16:
        _page_cache.clear()
    _page_cache[key] = (weights, tot)
    return weights, tot


def _select(
    g: _Gazetteer, weights: dict[int, float], scope: dict[int, float], root_min: float = 0.0, org_w=None
) -> list[int]:
    tot = _subtree(g, weights)
    children: dict[int, list[int]] = defaultdict(list)
    for n in tot:
        p = g.parent[n]
        children[p].append(n)
    total = sum(tot[n] for n in children[-1])
    if total <= 0:
        return []
    roots = children[-1]
    # With several branches, one needs a place named repeatedly (or once prominently): a list of
    # examples ("上海、广州、深圳") adds up to nothing.
    best_single: dict[int, float] = defaultdict(float)
    for n, w in weights.items():
        r = g.anc_cache[n][0]
        best_single[r] = max(best_single[r], w)
    for n, w in scope.items():  # 全市 in a 本报北京 dispatch: the text speaks of the area as a whole
        best_single[g.anc_cache[n][0]] += w
    need = max(ROOT_MIN, root_min) if len(roots) > 1 else 0.0
    picked = [r for r in roots if tot[r] >= ROOT_SHARE * total and best_single[r] >= need and tot[r] > 0]
    out: list[int] = []

    def down(n: int):
        kids = [c for c in children.get(n, []) if tot[c] > 0 and tot[c] >= CHILD_SHARE * tot[n]]
        if not kids:
            out.append(n)
            return
        own = weights.get(n, 0.0) - (org_w.get(n, 0.0) if org_w else 0.0)
        sc = scope.get(n, 0.0)
        if sc >= max(1.0, 0.5 * max(tot[k] for k in kids)) and (len(kids) > 1 or sc >= tot[kids[0]]):
            # The text speaks of the whole area (全省, 全市) — unless one sub-area alone carries more: a county
            # reported from, with the province's campaign as its background.
            out.append(n)
            return
        if len(kids) == 1:
            # The sole sub-area is the most specific level the text supports — unless the area itself is
            # named far more often: one venue (a court, a village) inside a city-wide story stays the city.
            if tot[kids[0]] >= SOLE_CHILD_SHARE * own:
                down(kids[0])
            else:
                out.append(n)
            return
        kids.sort(key=lambda k: -tot[k])
        if tot[kids[0]] >= 0.7 * tot[n]:
            down(kids[0])
        elif own >= sum(tot[k] for k in kids):
            out.append(n)  # spread over several sub-areas, and named for itself more than all of them
        else:
            for k in kids:  # an enumeration of sub-areas, each with weight of its own
                down(k)

    for r in sorted(picked, key=lambda r: -tot[r]):
        down(r)
    return out


def _local_place(g: _Gazetteer, page_tot: dict[int, float]) -> int | None:
    """The city or county a page is nearly all about (a local paper's page), if any: there a passing mention of the
    page's own place is the article's place, not one example among others."""
    total = sum(w for n, w in page_tot.items() if g.parent[n] == -1)
    local = [
        (g.level[n], w, n)
        for n, w in page_tot.items()
        if g.level[n] >= 1 and total > 0 and w >= LOCAL_PAGE_SHARE * total
    ]
    return max(local)[2] if local else None


# ------------------------------------------------------------------------------------------------------
# Newspaper conventions: page types, datelines, captions, lists, bylines


# Pages and columns of opinion and theory: their local examples illustrate a national argument (rule: nationwide
# commentary gets no region).  Section names are the printed page names (评论, 理论, 观点 …).
_OPINION_SECTION_RE = re.compile(r"评论|理论|观点|言论|时评|社论|论坛|学术|思想")
# 手记 is an editor's voice only as 编辑手记: a reporter's or a cadre's notes (采访手记, 扶贫手记) report from a place.
_OPINION_COLUMN_RE = re.compile(
    r"时评|评论|锐评|短评|快评|社论|论坛|随笔|纵横|编辑手记|札记|杂谈|漫谈|观澜|笔谈|编后|(?<!访)谈$|评$|(?<![理讨])论$"
)
# An opinion piece from the spot ("现场评论", "现场观察") is about that spot.
_ON_SITE_RE = re.compile(r"现场")
# International pages: places there are foreign; Chinese ones are speakers' origins or comparisons.
_FOREIGN_SECTION_RE = re.compile(r"国际|环球|世界|全球|海外")

# Where the author works: （作者为本报天津分社记者）, （作者单位：…）, 本报驻南宁记者站 — not a place the article is about,
# but an opinion piece by a local bureau about its own area is anchored there.
_AFFIL_RE = re.compile(
    r"[（(]\s*作者(?:为|系|是|单位[:：]?)[^（）()]{0,80}[）)]|本报(?:驻)?[\u4e00-\u9fff]{2,8}?(?:分社|记者站|站)"
)
# The 电头 at the start of the body: 本报南宁4月8日电, 新华社北京4月8日电, 新华社记者 (in the dispatch), 本报驻新加坡记者 X.
_DATELINE_HEAD_RE = re.compile(
    r"[　\s]*(?:本报|新华社|中新社|中新网|人民网|新华网|央视网|央广网|光明网|[\u4e00-\u9fff]{2,6}(?:日报|晚报|社|网)讯?)"
    r"(?:驻)?([\u4e00-\u9fff]{2,12}?)(?:\d{1,2}月\d{1,2}日)?电"
)
_FOREIGN_BYLINE_RE = re.compile(r"(?:本报|新华社|中新社)驻([\u4e00-\u9fff]{2,8}?)记者")
# A photo credit closes a caption: "张  帆摄（影像中国）", "受访者供图", "（资料图片）".
_CREDIT_RE = re.compile(
    r"(?:摄(?:影)?|供图|图片|提供)\s*(?:[（(][^（）()]{0,12}[）)])?\s*$|^图为|^[（(]?资料图片[）)]?$"
)
_CREDIT_LINE_MAX = 24
# Enumerations: "聊城、菏泽、济宁三市", "嘉定、宝山、长宁等区": places in a list are examples unless they get a
# sentence of their own elsewhere.
_LIST_SEP = {"、", "和", "与", "及", "以及", "或"}
_LIST_TAIL_RE = re.compile(r"(?:等(?:地|省|市|县|区)?|[两二三四五六七八九十]+(?:个)?(?:省|市|县|区|地|州))")
# Example markers: "比如湖南长沙", "如河南洛阳".
_EXAMPLE_BEFORE = ("比如", "例如", "譬如", "诸如", "如", "像")
# A place that names a firm or a school (云南铜业, 南京林业大学): the organisation's name, weak evidence of the scene.
_ORG_AFTER_RE = re.compile(
    r"[\u4e00-\u9fff]{0,8}?(?:集团|公司|股份|有限|大学|学院|银行|铜业|钢铁|控股|实业|电力|航空|证券|日报|电视台|卫视)"
)
_ORG_STOP = set("，。；：、！？“”（）()")
# "来自江苏的游客", "祖籍山西": where a person comes from, a passing mention.
_ORIGIN_BEFORE = ("来自", "祖籍", "老家", "出生于", "生于")
# "位于贵州省毕节市黔西市", "家住湖北省黄石市": the text states where the story is.
_LOCATIVE = ("位于", "地处", "坐落于", "坐落在", "家住", "地址在")
# Scope words of a nationwide story ("我国", "全国" alone name the country in any story: 全国人大, 我国钢铁产量).
_NATION_RE = re.compile(r"各地|各省|多地|不少地方|许多地方|一些地方|全国各地")
# A paragraph that opens on its place after a time word: "日前，广东佛山市…", "近日，在湖南长沙…".
_OPENING_RE = re.compile(r"(?:近日|日前|近期|近年来|连日来|今年以来|眼下|如今|目前|当天|今年|去年)[，,]?(?:在|据)?")

# Provincial capitals: a province-wide story datelined from the capital is the province's (本报南宁电 on a 广西 policy).
_CAPITAL_LIST = (
    "河北省/石家庄市 山西省/太原市 内蒙古自治区/呼和浩特市 辽宁省/沈阳市 吉林省/长春市 黑龙江省/哈尔滨市 江苏省/南京市 "
    "浙江省/杭州市 安徽省/合肥市 福建省/福州市 江西省/南昌市 山东省/济南市 河南省/郑州市 湖北省/武汉市 湖南省/长沙市 "
    "广东省/广州市 广西壮族自治区/南宁市 海南省/海口市 四川省/成都市 贵州省/贵阳市 云南省/昆明市 西藏自治区/拉萨市 "
    "陕西省/西安市 甘肃省/兰州市 青海省/西宁市 宁夏回族自治区/银川市 新疆维吾尔自治区/乌鲁木齐市 台湾省/台北市"
)
_CAPITALS = frozenset(_CAPITAL_LIST.split(" "))
_NATIONAL_CAPITAL = "北京市"

W_CAPTION = 0.2  # a place only in a photo caption that illustrates the topic
W_LIST = 0.3  # one item of a list of places
W_EXAMPLE = 0.5  # after 比如/如
W_ORG = 0.5  # inside a firm's or school's name
W_SCENE = 2.0  # a paragraph opening on its place ("在山东济宁市汶上县，…", "云南省安宁市，…"), or 位于/家住 X
SOLE_CHILD_SHARE = 0.5
ROOT_MIN_NATION = 3.0  # ROOT_MIN in a story that speaks of the whole country  # a sole sub-area needs this share of its parent's own weight
OPINION_ROOT_SHARE = 0.7  # an anchored opinion piece: one province-level branch holds this share of the weight


class _Text:
    """One article's text as the extractor reads it: whitespace removed (layout line breaks may cut names), with the
    offsets of its paragraphs, captions, credits and author lines."""

    def __init__(self, text: str, headline: str):
        head = _STRIP_RE.sub("", headline or "")
        parts: list[str] = [head + "\n"] if head else []
        pos = len(parts[0]) if parts else 0
        self.head_len = pos
        self.paras: list[tuple[int, int]] = []
        self.captions: list[tuple[int, int]] = []
        seen: set[str] = set()
        raw = [p for p in (_STRIP_RE.sub("", line) for line in re.split(r"[\r\n]+", text or "")) if p]
        for k, para in enumerate(raw):
            if len(para) >= 8 and para in seen:
                continue  # a caption printed twice (the archive repeats them under the photo)
            seen.add(para)
            nxt = raw[k + 1] if k + 1 < len(raw) else ""
            credit_line = len(para) <= _CREDIT_LINE_MAX and bool(_CREDIT_RE.search(para))
            is_caption = not para.startswith("#") and (
                credit_line
                or bool(_CREDIT_RE.search(para))
                or (len(nxt) <= _CREDIT_LINE_MAX and bool(_CREDIT_RE.search(nxt)) and "。" not in para[:-1])
            )
            span = (pos, pos + len(para))
            (self.captions if is_caption else self.paras).append(span)
            parts.append(para)
            pos += len(para)
        self.s = "".join(parts)
        self.caption_chars = sum(b - a for a, b in self.captions)
        self.body_chars = sum(b - a for a, b in self.paras)
        self.starts = {a for a, _ in self.paras}
        first = self.paras[0][0] if self.paras else self.head_len
        self.lead = (first, first + LEAD_CHARS)
        self.affil = [(m.start(), m.end()) for m in _AFFIL_RE.finditer(self.s)]

    def in_caption(self, i: int) -> bool:
        return any(a <= i < b for a, b in self.captions)

    def in_affil(self, i: int) -> bool:
        return any(a <= i < b for a, b in self.affil)

    def body_text(self) -> str:
        return "".join(self.s[a:b] for a, b in self.paras)


def _dateline_place(g: _Gazetteer, t: _Text, dateline: str) -> tuple[str, tuple[int, int] | None]:
    """The 电头's place as printed ("南宁", "北京", "新加坡") and its span in the text, if the body opens with one;
    else the place of the caller's dateline string."""
    body = t.s[t.head_len :]
    for start in sorted(a for a, _ in t.paras)[:3]:  # a kicker or a deck may come first
        m = _DATELINE_HEAD_RE.match(t.s, start)
        if m:
            return m.group(1), (m.start(1), m.end(1))
    m = _FOREIGN_BYLINE_RE.search(body[:80])
    if m and m.group(1) in g.foreign:
        return m.group(1), None
    m = _DATELINE_HEAD_RE.match(_STRIP_RE.sub("", dateline or ""))
    return (m.group(1), None) if m else ("", None)


def _is_list_item(s: str, ms: list[_Mention], k: int) -> bool:
    """Is mention k one item of an enumeration of places: three or more joined by 、/和, or two and 等/三市?"""

    def joined(a: _Mention, b: _Mention) -> bool:
        return s[a.end : b.start] in _LIST_SEP

    lo = hi = k
    while lo > 0 and joined(ms[lo - 1], ms[lo]):
        lo -= 1
    while hi + 1 < len(ms) and joined(ms[hi], ms[hi + 1]):
        hi += 1
    if hi - lo + 1 >= 3:
        return True
    return hi > lo and bool(_LIST_TAIL_RE.match(s, ms[hi].end))


def _caption_confirmed(t: _Text, m: _Mention, body: str) -> bool:
    """A caption's place is the story's when what follows it in the caption (the village, the park) is in the body too:
    "贞丰县平街乡花江村" under a story about 花江村."""
    tail = []
    for ch in t.s[m.end : m.end + 10]:
        if ch in _ORG_STOP or not ("\u4e00" <= ch <= "\u9fff"):
            break
        tail.append(ch)
    tail_s = "".join(tail)
    return any(tail_s[i : i + 3] in body for i in range(max(0, len(tail_s) - 2)))


def _opens_paragraph(t: _Text, m: _Mention) -> bool:
    """Does a (non-caption) paragraph open on this place: "在山东济宁市汶上县，…", "日前，广东佛山市…"?"""
    if t.in_caption(m.start):
        return False
    s = t.s
    for a in t.starts:
        if a <= m.start <= a + 12:
            o = _OPENING_RE.match(s, a)
            at = o.end() if o else a
            if s[at : at + 1] in ("在", "据"):
                at += 1
            if at == m.start:
                return True
    return False


_BORN_BEFORE = re.compile(r"(?:年生|年出生|出生)[，,、]?[^，。；]{0,6}$")
_NATIVE_AFTER = re.compile(r"^[^，。；]{0,4}人[，,。；）)]")


def _birthplace(s: str, m: _Mention) -> bool:
    """A biography's birthplace (陈利，1968年生，山西太谷人): who someone is, not where the story is."""
    return bool(_BORN_BEFORE.search(s, max(0, m.start - 16), m.start)) and bool(
        _NATIVE_AFTER.match(s[m.end : m.end + 8])
    )


def _is_org(s: str, m: _Mention) -> bool:
    o = _ORG_AFTER_RE.match(s, m.end)
    return o is not None and not any(ch in _ORG_STOP for ch in o.group())


class _Reading:
    """Everything one call works out: the weighted mentions and the facts about the page and the dateline."""

    def __init__(self, g, text, headline, page_context, source, dateline, section, column, kind):
        t = self.t = _Text(text, headline)
        s = t.s
        self.g = g
        self.empty = not s.strip()
        page_w, page_tot = _page(g, page_context, source) if (page_context or source) else ({}, {})
        self.page_tot = page_tot
        section = section or _front_matter_section(page_context)
        self.section, self.column, self.source = section, column, source
        self.opinion = bool(
            kind == "commentary"
            or _OPINION_SECTION_RE.search(section or "")
            or _OPINION_COLUMN_RE.search(_STRIP_RE.sub("", column or ""))
        )
        self.on_site = bool(_ON_SITE_RE.search((column or "") + (headline or "")))
        self.foreign_page = bool(_FOREIGN_SECTION_RE.search(section or ""))
        place, dl_span = _dateline_place(g, t, dateline)
        self.dl_place, self.dl_span = place, dl_span
        self.dl_foreign = bool(place) and (place in g.foreign or place.rstrip("市") in g.foreign)
        lead_spans = [(0, t.head_len + 1), t.lead] if t.head_len else [t.lead]
        weights, mentions = _analyse(g, s, lead_spans, (), (), set(page_tot), page_tot)
        self.mentions = mentions
        body = t.body_text()
        short_caption_story = t.body_chars < 200  # photo news: the caption is the story
        self.affil_nodes: set[int] = set()
        self.org: set[int] = set()  # positions of mentions inside a firm's or school's name
        self.dl_node = -1
        for k, m in enumerate(mentions):
            if dl_span and dl_span[0] <= m.start < dl_span[1]:
                self.dl_node = m.node
                m.weight = max(m.weight, 1.0) * W_DATELINE
                continue
            if t.in_affil(m.start):
                self.affil_nodes.add(m.node)
                m.weight = 0.0  # where the author works, not what the article is about
                continue
            if t.in_caption(m.start) and not short_caption_story and not _caption_confirmed(t, m, body):
                m.weight *= W_CAPTION
            if _is_list_item(s, mentions, k):
                m.weight *= W_LIST
            if any(s.endswith(w, 0, m.start) for w in _EXAMPLE_BEFORE):
                m.weight *= W_EXAMPLE
            if _is_org(s, m):
                m.weight *= W_ORG
                self.org.add(m.start)
            if any(s.endswith(w, 0, m.start) for w in _ORIGIN_BEFORE) or _birthplace(s, m):
                m.weight = min(m.weight, W_ORIGIN)  # 来自江苏的游客, 1968年生，山西太谷人: where someone comes from
            if _opens_paragraph(t, m) or any(s.endswith(w, 0, m.start) for w in _LOCATIVE):
                m.weight *= W_SCENE
        self._dateline_rules()
        self.weights = self._sum()
        home = _local_place(g, page_tot)
        self.home = home
        if home is not None:
            for n in list(self.weights):
                if home in g.anc_cache[n]:
                    self.weights[n] *= W_LOCAL
        if t.head_len:
            for m in mentions:
                if m.start < t.head_len:
                    self.weights[m.node] += m.weight * (W_HEAD / W_LEAD - 1.0)  # W_HEAD instead of the lead factor
        self.scope = self._scope()

    def _sum(self) -> dict[int, float]:
        weights: dict[int, float] = defaultdict(float)
        for m in self.mentions:
            if m.weight > 0:
                weights[m.node] += m.weight
        return weights

    def _dateline_rules(self) -> None:
        g, n = self.g, self.dl_node
        if n < 0:
            return
        dl = [m for m in self.mentions if m.node == n and m.weight >= W_DATELINE]
        others = [m for m in self.mentions if m not in dl and m.weight > 0]
        if g.path[n] == _NATIONAL_CAPITAL:
            # 新华社北京/本报北京: where the agency files from on central and nationwide matters.  Beijing counts only
            # when the body itself speaks of it (北京市丰台区…, 全市).
            for m in dl:
                m.weight = 0.0
        elif g.path[n] in _CAPITALS and not any(n in g.anc_cache[m.node] for m in others):
            # A provincial capital's dateline, the city never named again: a province-wide story, filed from the
            # capital — the province's, not the city's.
            for m in dl:
                m.node = g.parent[n]

    def _scope(self) -> dict[int, float]:
        """全省/全市/我县 … go to the dateline's place of that level, else to the dominant one in the article or page."""
        g, s = self.g, self.t.s
        covered = [(m.start, m.end) for m in self.mentions]
        tot = _subtree(g, self.weights)
        scope: dict[int, float] = defaultdict(float)
        dl_chain = g.anc_cache[self.dl_node] if self.dl_node >= 0 else ()
        for m in _SCOPE_RE.finditer(s):
            if any(a <= m.start() < b for a, b in covered) or self.t.in_affil(m.start()):
                continue  # 永康市委: the 市 belongs to a name
            word = m.group()
            strong = word in _SCOPE_STRONG
            level = _SCOPE_STRONG[word] if strong else _SCOPE_AGENCY[word]
            tgt = next((a for a in dl_chain if _level_ok(g, a, level)), -1)
            if tgt < 0:
                tgt = _scope_target(g, tot, self.page_tot, level)
            if tgt < 0:
                continue
            if level == 2 and word.endswith(("区", "区委", "区政府")) and not g.name[tgt].endswith("区"):
                continue
            w = W_SCOPE if strong else W_AGENCY
            self.weights[tgt] += w
            if strong:
                scope[tgt] += w
        return scope

    def regions(self) -> list[int]:
        g = self.g
        if self.empty or self.dl_foreign or self.foreign_page:
            return []  # foreign places are never regions; a report from abroad has no Chinese region
        # A story that speaks of places across the country (各地, 多地, 不少地方) cites places as examples: a branch needs
        # more than a couple of mentions to be what it is about.
        nation = bool(_NATION_RE.search(self.t.s))
        # A firm's or school's name (云南铜业 in every paragraph) says whose it is, not that the story is about the
        # whole province: it counts for the branch but does not hold the choice at that level.
        org_w: dict[int, float] = defaultdict(float)
        for m in self.mentions:
            if m.start in self.org:
                org_w[m.node] += m.weight
        picked = _select(g, self.weights, self.scope, ROOT_MIN_NATION if nation else 0.0, org_w)
        if self.opinion and picked:
            picked = self._anchored(picked)
        return picked

    def _anchored(self, picked: list[int]) -> list[int]:
        """An opinion piece keeps its places only when it is anchored in one area: a commentary from the spot, by the
        area's own bureau, writer or paper, or naming it in the headline — and that area holds nearly
        all the weight.  Otherwise its places are examples of a nationwide argument."""
        g = self.g
        tot = _subtree(g, self.weights)
        roots = {g.anc_cache[n][0] for n in picked}
        total = sum(w for n, w in tot.items() if g.parent[n] == -1)
        if len(roots) != 1 or total <= 0:
            return []
        root = roots.pop()
        if tot[root] < OPINION_ROOT_SHARE * total:
            return []
        own = {root} | {n for n in tot if g.anc_cache[n][0] == root}
        head = any(m.start < self.t.head_len and m.node in own for m in self.mentions)
        affil = any(g.anc_cache[n][0] == root for n in self.affil_nodes)
        # A local paper's own commentary (株洲日报's 评论 on 株洲) — its name, not a page that may be this one article.
        paper = bool(self.source) and any(g.anc_cache[n][0] == root for n in _page(g, "", self.source)[0])
        return picked if (self.on_site or head or affil or paper) else []

    def mentioned(self) -> list[int]:
        """Every Chinese place named (resolved), most specific first in text order; passing ones included."""
        seen: list[int] = []
        t = self.t
        for m in self.mentions:
            if t.in_affil(m.start) or (self.dl_span and self.dl_span[0] <= m.start < self.dl_span[1]):
                continue  # the dateline and the author's bureau say where the writer is, not a place named
            if m.node >= 0 and m.node not in seen:
                seen.append(m.node)
        g = self.g
        return [n for n in seen if not any(o != n and n in g.anc_cache[o] for o in seen)]


def _level_ok(g: _Gazetteer, n: int, level: int) -> bool:
    if level == 0:
        return g.level[n] == 0
    if level == 1:
        return g.level[n] == 1 or (g.level[n] == 0 and g.name[n].endswith("市")) or g.name[n].endswith("市")
    return g.level[n] == 2


_SECTION_FM_RE = re.compile(r"^section_name:\s*[\"']?([^\"'\r\n]+)", re.M)


def _front_matter_section(page_context: str) -> str:
    """The page name from an archive file's YAML front matter (section_name: "评论"), when the caller passes the
    whole file as page context."""
    if not page_context or not page_context.lstrip().startswith("---"):
        return ""
    m = _SECTION_FM_RE.search(page_context[:2000])
    return m.group(1).strip() if m else ""


def extract_regions(
    text: str,
    *,
    headline: str = "",
    page_context: str = "",
    source: str = "",
    dateline: str = "",
    section: str = "",
    column: str = "",
    kind: str = "",
) -> list[str]:
    """Most-specific full paths of the places the article is about: ["湖南省/株洲市/石峰区", …]; [] when
    the text supports none.

    Optional context: ``dateline`` the 电头 if the caller has cut it from the body ("本报南宁4月8日电");
    ``section`` the printed page name (评论, 理论, 国际, 要闻, 各地传真 …; read from an archive file's front matter
    in ``page_context`` when not given); ``column`` the column tag (人民时评, 现场评论 …); ``kind`` the article kind
    (``"commentary"`` marks an opinion piece)."""
    g = _gaz()
    r = _Reading(g, text, headline, page_context, source, dateline, section, column, kind)
    return [g.path[n] for n in r.regions()]


def mentioned_regions(
    text: str,
    *,
    headline: str = "",
    page_context: str = "",
    source: str = "",
    dateline: str = "",
) -> list[str]:
    """Every Chinese place the article names, whether or not it is about it, as most-specific full paths in order of
    first mention (foreign places left out; ambiguous names resolved as in ``extract_regions``)."""
    g = _gaz()
    r = _Reading(g, text, headline, page_context, source, dateline, "", "", "")
    return [g.path[n] for n in r.mentioned()]


def read_places(
    text: str,
    *,
    headline: str = "",
    page_context: str = "",
    source: str = "",
    dateline: str = "",
    section: str = "",
    column: str = "",
    kind: str = "",
) -> tuple[list[str], list[str]]:
    """(`extract_regions`, `mentioned_regions`) of one article from one reading of its text: what ingest needs of
    every article, for the price of one. The context affects only which places it is about."""
    g = _gaz()
    r = _Reading(g, text, headline, page_context, source, dateline, section, column, kind)
    return [g.path[n] for n in r.regions()], [g.path[n] for n in r.mentioned()]
