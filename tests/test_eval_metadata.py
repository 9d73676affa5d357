"""`newsearch eval metadata` on the seeds' gold, on our own labelled pages (tests/fixtures/metadata) and on the real
rmrb-dev set in both its shapes (tests/data/rmrb-dev: printed pages with a catalogue, and an archive tree)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import DATA, GOLD_FILE

from search.cli import main
from search.eval.metadata import STRICT_TARGETS, TARGETS, evaluate, evaluate_paths

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "metadata"
RMRB = DATA / "rmrb-dev"
FIGURE_LINE = re.compile(
    r"^articles \d+ vs gold (\d+): boundary F1 [01]\.\d{3} headline [01]\.\d{3} date [01]\.\d{3} "
    r"byline [01]\.\d{3} region [01]\.\d{3}; duplicate pairs \d+/\d+, false merges \d+$",
    re.M,
)


def test_own_labelled_pages_meet_every_target():
    score = evaluate(FIXTURES / "gold.json", FIXTURES)
    assert score.failed_targets() == [], score.misses
    assert score.duplicate_pairs == score.duplicate_found == 1 and not score.false_merges


def test_seeds_gold_meets_every_target_and_finds_the_template_notice_pair():
    score = evaluate(GOLD_FILE, ROOT / "seeds")
    assert score.failed_targets() == [], score.misses
    assert score.figures["boundary_f1"] == 1.0 and score.duplicate_found == 1


def test_cli_prints_figures_and_exits_zero_when_targets_hold():
    result = CliRunner().invoke(
        main, ["eval", "metadata", "--gold", str(FIXTURES / "gold.json"), "--seeds", str(FIXTURES)]
    )
    assert result.exit_code == 0, result.output
    assert "boundary F1 1.000" in result.output and "duplicate pairs 1/1, false merges 0" in result.output


def test_the_seeds_gold_scores_one_on_every_field():
    """The embedded corpus stays at 1.00 whatever the rules learn from other papers (a cadre's 扶贫手记 column once
    cost 002#2 its region)."""
    result = CliRunner().invoke(main, ["eval", "metadata", "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["misses"] == [], data["misses"]
    assert all(data["figures"][k] == 1.0 for k in ("boundary_f1", "headline", "date", "byline", "region", "duplicates"))


def test_cli_exits_nonzero_and_lists_misses_when_a_target_is_missed(tmp_path):
    gold = json.loads((FIXTURES / "gold.json").read_text(encoding="utf-8"))
    for g in gold:
        g["headline"] = "错误的标题"
    bad = tmp_path / "gold.json"
    bad.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", "metadata", "--gold", str(bad), "--seeds", str(FIXTURES)])
    assert result.exit_code == 1
    assert "miss: 100#0: headline" in result.output and "targets missed: headline" in result.output


def test_cli_missing_gold_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["eval", "metadata", "--gold", str(tmp_path / "none.json")])
    assert result.exit_code == 1 and "gold file" in result.output and "not found" in result.output


def test_cli_default_is_the_shipped_seeds_gold():
    result = CliRunner().invoke(main, ["eval", "metadata"])
    assert result.exit_code == 0, result.output
    assert "articles 22 vs gold 22: boundary F1 1.000" in result.output and "targets met (seeds)" in result.output


def test_paths_are_indexed_and_scored_as_the_index_holds_them():
    """The fixture pages through a temporary index: the same figures as ingesting them, stored clusters included."""
    direct = evaluate(FIXTURES / "gold.json", FIXTURES)
    indexed = evaluate_paths(FIXTURES / "gold.json", [FIXTURES])
    assert indexed.figures == direct.figures and indexed.failed_targets() == []
    result = CliRunner().invoke(main, ["eval", "metadata", "--gold", str(FIXTURES / "gold.json"), str(FIXTURES)])
    assert result.exit_code == 0, result.output
    assert "boundary F1 1.000" in result.output and "duplicate pairs 1/1, false merges 0" in result.output


def test_seeds_option_is_a_deprecated_alias_of_one_path():
    result = CliRunner().invoke(
        main, ["eval", "metadata", "--gold", str(FIXTURES / "gold.json"), "--seeds", str(FIXTURES)]
    )
    assert result.exit_code == 0, result.output
    assert "--seeds is deprecated" in result.output and "targets met" in result.output


def test_strict_targets_are_the_issues_and_the_seeds_targets_unchanged():
    assert TARGETS == {
        "boundary_f1": 0.95,
        "headline": 0.95,
        "date": 0.95,
        "byline": 0.9,
        "region": 0.9,
        "duplicates": 0.9,
    }
    assert {k: STRICT_TARGETS[k] for k in ("boundary_f1", "headline", "date", "byline", "region")} == {
        "boundary_f1": 0.97,
        "headline": 0.95,
        "date": 0.98,
        "byline": 0.95,
        "region": 0.9,
    }
    score = evaluate(FIXTURES / "gold.json", FIXTURES, targets=STRICT_TARGETS)
    score.figures["date"] = 0.97  # meets the seeds' 0.95, not the strict 0.98
    assert score.failed_targets() == ["date 0.970 < 0.98"]
    assert score.to_dict()["targets"] == STRICT_TARGETS
    help_text = " ".join(CliRunner().invoke(main, ["eval", "metadata", "--help"]).output.split())
    assert "--targets [seeds|strict]" in help_text and "date >= 0.98" in help_text and "[PATHS]..." in help_text


@pytest.mark.parametrize(
    ("shape", "gold_file", "prefix"),
    [("pages", "gold-pages.json", "page:"), ("vault", "gold-vault.json", "vault:")],
)
def test_rmrb_dev_set_meets_the_strict_targets_in_both_shapes(shape, gold_file, prefix):
    """The real 人民日报 dev set, indexed as the JSON API serves it, against the issue's strict targets: boundary
    F1 ≥ 0.97, headline ≥ 0.95, date ≥ 0.98, byline F1 ≥ 0.95, region F1 ≥ 0.90; the misses left are listed by
    article and field."""
    gold = json.loads((RMRB / gold_file).read_text(encoding="utf-8"))
    assert len(gold) == 39 and all(g["id"].startswith(prefix) for g in gold)
    args = ["eval", "metadata", "--json", "--gold", str(RMRB / gold_file), "--targets", "strict", str(RMRB / shape)]
    result = CliRunner().invoke(main, args)
    data = json.loads(result.output)
    assert result.exit_code == 0 and data["failed"] == [], data["misses"]
    figures = data["figures"]
    assert figures["headline"] == figures["date"] == figures["byline"] == 1.0, data["misses"]
    assert figures["boundary_f1"] >= 0.97 and figures["region"] >= 0.9
    assert all(m.startswith(prefix) and ": region " in m for m in data["misses"]), data["misses"]
    plain = CliRunner().invoke(main, args[:2] + args[3:])
    found = FIGURE_LINE.search(plain.output)
    assert found and found.group(1) == "39" and "targets met (strict)" in plain.output, plain.output


def test_rmrb_vault_gold_names_files_inside_the_tree():
    """Gold-vault `file`s are paths relative to vault/, and every one exists there; the pages' are page file names."""
    for shape, gold_file in (("vault", "gold-vault.json"), ("pages", "gold-pages.json")):
        for g in json.loads((RMRB / gold_file).read_text(encoding="utf-8")):
            assert (RMRB / shape / g["file"]).is_file(), g["file"]
            assert ("/" in g["file"]) == (shape == "vault")


def test_json_output_of_the_rmrb_pages():
    args = ["eval", "metadata", "--json", "--targets", "strict", "--gold", str(RMRB / "gold-pages.json")]
    result = CliRunner().invoke(main, [*args, str(RMRB / "pages")])
    data = json.loads(result.output)
    assert data["gold"] == 39 and data["targets"] == STRICT_TARGETS
    assert set(data["figures"]) == {"boundary_f1", "headline", "date", "byline", "region", "duplicates"}
    assert result.exit_code == (1 if data["failed"] else 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gold", "{tmp}/none.json", "{fixtures}"], "gold file {tmp}/none.json not found"),
        (["--gold", "{tmp}", "{fixtures}"], "is a directory"),
        (["--gold", "{tmp}/bad.json", "{fixtures}"], "not JSON"),
        (["--gold", "{tmp}/list.json", "{fixtures}"], "expected a JSON list of labelled articles"),
        (["--gold", "{fixtures}/gold.json", "{tmp}/nowhere"], "no such file or directory: {tmp}/nowhere"),
        (["--gold", "{fixtures}/gold.json", "{tmp}/empty"], "no .txt, .md or .jsonl files under"),
        (["--gold", "{fixtures}/gold.json", "--index", "{tmp}/no-index"], "no index at"),
        (["--gold", str(RMRB / "gold-pages.json")], "a file named in the gold is not in"),
    ],
)
def test_cli_bad_gold_or_paths_are_clear_errors(tmp_path, args, message):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    (tmp_path / "list.json").write_text('{"file": "x"}', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    fill = lambda s: s.format(tmp=tmp_path, fixtures=FIXTURES)
    result = CliRunner().invoke(main, ["eval", "metadata", *map(fill, args)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    assert fill(message) in result.output, result.output
