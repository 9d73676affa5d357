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
"""

from __future__ import annotations

import importlib.util
import os
import re
import zipfile
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

__all__ = ["extract_regions", "normalize_path", "ancestors", "label", "place_names"]

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
                    out.append(_Mention(i, i + ln, tuple(e for e, _ in entries), all(sh for _, sh in entries)))
                    i += ln
                    break
            else:
                i += 1
        else:
            i += 1
    return out


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


def _analyse(g: _Gazetteer, s: str, lead: int, head_spans, dateline_spans, context_nodes, page_weights):
    """Resolve and weight the mentions of one normalised text. Returns (weights per node, mentions)."""
    # Drop short forms that begin a town/street/lake/zone name, then merge chains.
    kept = []
    for m in _find(g, s):
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
        if m.start < lead:
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


_page_cache: dict[tuple[str, str], tuple[dict, dict]] = {}


def _page(g: _Gazetteer, page_context: str, source: str):
    """Weights of the page (and of the paper's name), cached: the indexer passes the same page for each
    of its articles."""
    key = (page_context, source)
    hit = _page_cache.get(key)
    if hit is not None:
        return hit
    s = _STRIP_RE.sub("", page_context)
    weights, _ = _analyse(g, s, 0, (), (), set(), {})
    src = _STRIP_RE.sub("", source)
    if src:
        sw, _ = _analyse(g, src, 0, (), (), set(), {})
        for n, w in sw.items():
            weights[n] += 5.0 * w
    tot = _subtree(g, weights)
    if len(_page_cache) > 16:
        _page_cache.clear()
    _page_cache[key] = (weights, tot)
    return weights, tot


def _select(g: _Gazetteer, weights: dict[int, float], scope: dict[int, float]) -> list[int]:
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
    need = ROOT_MIN if len(roots) > 1 else 0.0
    picked = [r for r in roots if tot[r] >= ROOT_SHARE * total and best_single[r] >= need]
    out: list[int] = []

    def down(n: int):
        kids = [c for c in children.get(n, []) if tot[c] >= CHILD_SHARE * tot[n]]
        if not kids:
            out.append(n)
            return
        own = weights.get(n, 0.0)
        if scope.get(n, 0.0) >= max(1.0, 0.5 * max(tot[k] for k in kids)):
            out.append(n)  # the text speaks of the whole area (全省, 全市)
            return
        if len(kids) == 1:
            down(kids[0])  # the sole sub-area: the most specific level the text supports
            return
        kids.sort(key=lambda k: -tot[k])
        if tot[kids[0]] >= 0.7 * tot[n]:
            down(kids[0])
        elif own >= tot[kids[0]]:
            out.append(n)  # spread over several sub-areas, and named for itself most
        else:
            for k in kids:
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


def extract_regions(text: str, *, headline: str = "", page_context: str = "", source: str = "") -> list[str]:
    """Most-specific full paths of the places the article is about: ["湖南省/株洲市/石峰区", …]; [] when
    the text supports none."""
    g = _gaz()
    head = _STRIP_RE.sub("", headline or "")
    body = _STRIP_RE.sub("", text or "")
    s = head + "\n" + body if head else body
    lead = len(head) + 1 if head else 0
    head_len = lead
    if not s.strip():
        return []
    page_w, page_tot = _page(g, page_context, source) if (page_context or source) else ({}, {})
    context_nodes = set(page_tot)
    datelines = [(m.start(1), m.end(1)) for m in _DATELINE_RE.finditer(s[: head_len + 200])]
    weights, mentions = _analyse(g, s, head_len + LEAD_CHARS, (), datelines, context_nodes, page_tot)
    home = _local_place(g, page_tot)
    if home is not None:
        for n in list(weights):
            if home in g.anc_cache[n]:
                weights[n] *= W_LOCAL
    if head_len:
        for m in mentions:
            if m.start < head_len:
                # headline mentions: W_HEAD instead of the lead factor
                weights[m.node] += m.weight * (W_HEAD / W_LEAD - 1.0)
    # Whole-area words go to the dominant place of their level.
    covered = [(m.start, m.end) for m in mentions]
    tot = _subtree(g, weights)
    scope: dict[int, float] = defaultdict(float)
    for m in _SCOPE_RE.finditer(s):
        if any(a <= m.start() < b for a, b in covered):
            continue  # 永康市委: the 市 belongs to a name
        word = m.group()
        strong = word in _SCOPE_STRONG
        level = _SCOPE_STRONG[word] if strong else _SCOPE_AGENCY[word]
        tgt = _scope_target(g, tot, page_tot, level)
        if tgt < 0:
            continue
        if level == 2 and word.endswith(("区", "区委", "区政府")) and not g.name[tgt].endswith("区"):
            continue
        w = W_SCOPE if strong else W_AGENCY
        weights[tgt] += w
        if strong:
            scope[tgt] += w
    return [g.path[n] for n in _select(g, weights, scope)]
