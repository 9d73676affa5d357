"""The project's own checks, run with the suite so CI runs them on every change: ruff (lint and format), mypy on the
packages, and the import contracts of pyproject.toml (no cycles, one-way layers, Ray only in search/cluster/actors,
the web app through the service). Each names what broke."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / tool), *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_code_is_formatted():
    done = run("ruff", "format", "--no-cache", "--check", ".")
    assert done.returncode == 0, "run `ruff format .`:\n" + done.stdout + done.stderr


def test_import_contracts_hold():
    done = run("lint-imports", "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_types_check():
    done = run("mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr
