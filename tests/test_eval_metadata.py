"""`newsearch eval metadata` on the seeds' gold and on our own labelled pages (tests/fixtures/metadata)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main
from search.eval.metadata import evaluate

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "metadata"
SEEDS_GOLD = ROOT.parent / "shared" / "eval" / "seeds-gold.json"


def test_own_labelled_pages_meet_every_target():
    score = evaluate(FIXTURES / "gold.json", FIXTURES)
    assert score.failed_targets() == [], score.misses
    assert score.duplicate_pairs == score.duplicate_found == 1 and not score.false_merges


@pytest.mark.skipif(not SEEDS_GOLD.exists(), reason="shared/eval is not beside the project")
def test_seeds_gold_meets_every_target_and_finds_the_template_notice_pair():
    score = evaluate(SEEDS_GOLD, ROOT / "seeds")
    assert score.failed_targets() == [], score.misses
    assert score.figures["boundary_f1"] == 1.0 and score.duplicate_found == 1


def test_cli_prints_figures_and_exits_zero_when_targets_hold():
    result = CliRunner().invoke(
        main, ["eval", "metadata", "--gold", str(FIXTURES / "gold.json"), "--seeds", str(FIXTURES)]
    )
    assert result.exit_code == 0, result.output
    assert "boundary F1 1.000" in result.output and "duplicate pairs 1/1, false merges 0" in result.output


def test_cli_exits_nonzero_and_lists_misses_when_a_target_is_missed(tmp_path):
    import json

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
