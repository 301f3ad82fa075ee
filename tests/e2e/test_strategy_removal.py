"""Deleting the VWAP module breaks nothing (SPEC 1, SPEC 4 "Removing a strategy").

A copy of the project has the module removed the way SPEC 4 says (its file, its one
registration line, its config blocks, and its tests, i.e. test files named *vwap*);
then nothing in src/ or configs/ may still name it, and in a fresh interpreter that
imports only the copy, the config loads, ORB is the catalogued strategy and it computes
signals.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from builders.paths import PROJECT

NAMES = re.compile(r"vwap_meanrev|VWAP_MEANREV|VWAPMeanReversion")
# Build and cache artefacts are not source: they would name any module ever installed.
IGNORED = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc", ".pytest_cache", ".hypothesis")


def delete_yaml_block(text: str, key: str) -> str:
    """Remove every `key:` mapping entry with the lines indented under it (no YAML parsing)."""
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].lstrip()
        if not stripped.startswith(f"{key}:"):
            kept.append(lines[i])
            i += 1
            continue
        indent = len(lines[i]) - len(stripped)
        i += 1
        while i < len(lines):
            if lines[i].strip():
                if len(lines[i]) - len(lines[i].lstrip()) <= indent:
                    break
                i += 1
                continue
            # A blank line belongs to the block only if the block goes on after it.
            following = next((line for line in lines[i:] if line.strip()), None)
            if following is None or len(following) - len(following.lstrip()) <= indent:
                break
            i += 1
    return "".join(kept)


def remove_vwap_module(root: Path) -> None:
    for name in ("src", "configs", "tests"):
        shutil.copytree(PROJECT / name, root / name, ignore=IGNORED)
    shutil.copy2(PROJECT / "pyproject.toml", root / "pyproject.toml")
    (root / "src/vwapcli/strategies/vwap_meanrev.py").unlink()
    for test_file in (root / "tests").rglob("*vwap*"):
        test_file.unlink()
    registration = root / "src/vwapcli/strategies/__init__.py"
    registration.write_text(
        "".join(line for line in registration.read_text().splitlines(keepends=True) if "vwap_meanrev" not in line)
    )
    for config_file in (root / "configs").glob("*.yaml"):
        config_file.write_text(delete_yaml_block(config_file.read_text(), "vwap_meanrev"))


def test_yaml_block_deletion_keeps_the_neighbouring_blocks():
    text = "a:\n  orb:\n    x: 1\n  gone:   # note\n    y: 2\n\n    z: 3\n\nb: 4\n"
    assert delete_yaml_block(text, "gone") == "a:\n  orb:\n    x: 1\n\nb: 4\n"


def test_tests_that_survive_the_removal_do_not_name_the_module():
    """Removal deletes test files named *vwap*; every other test must not depend on the module."""
    survivors = [
        path.name for path in sorted((PROJECT / "tests").rglob("*.py"))
        if "vwap" not in path.name and path.name != Path(__file__).name and NAMES.search(path.read_text())
    ]
    assert survivors == []


def test_after_deleting_the_vwap_module_nothing_names_it_and_orb_still_runs(tmp_path):
    if not (PROJECT / "src/vwapcli/strategies/vwap_meanrev.py").exists():
        pytest.skip("the module is already removed from this checkout")
    remove_vwap_module(tmp_path)

    mentions = [
        f"{path.relative_to(tmp_path)}:{number}: {line.strip()}"
        for folder in ("src", "configs")
        for path in sorted((tmp_path / folder).rglob("*"))
        if path.is_file()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if NAMES.search(line)
    ]
    assert mentions == [], "the removed module is still named:\n" + "\n".join(mentions)

    script = textwrap.dedent(
        f"""
        import datetime as dt, sys
        import vwapcli
        assert vwapcli.__file__.startswith({str(tmp_path)!r}), vwapcli.__file__
        from vwapcli.app_config import load_config
        from vwapcli.strategies import catalogue
        from vwapcli.signal_run import compute_signals
        sys.path.insert(0, {str(tmp_path / "tests")!r})
        from builders.strategy import random_sessioned_bars

        config = load_config({str(tmp_path / "configs/default.yaml")!r})
        assert list(catalogue()) == ["orb"], list(catalogue())
        assert config.enabled_strategies() == ["orb"], config.enabled_strategies()
        data = {{"SPY": random_sessioned_bars("SPY", dt.date(2024, 1, 2), 5, seed=3)}}
        signals = compute_signals(config, data, None, None)
        assert signals and {{s.strategy_name for s in signals}} == {{"ORB"}}, signals
        print(len(signals))
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "src")}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=environment,
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.strip()) >= 1

    # An ORB backtest still runs end to end from the command line, and the config, engine,
    # exit, risk, ORB, catalogue and layer tests of the remaining suite still pass inside the copy.
    cli = [sys.executable, "-c", "from vwapcli.cli import main; main()"]
    for args in (
        ["fetch", "--source", "sample", "--store", "store"],
        ["backtest", "--store", "store", "--symbols", "SPY", "--only", "orb", "--out", "run"],
    ):
        step = subprocess.run([*cli, *args], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
        assert step.returncode == 0, step.stdout[-2000:] + step.stderr[-3000:]
    trades = (tmp_path / "run" / "trades.csv").read_text().splitlines()
    assert len(trades) > 1 and all(",ORB," in line for line in trades[1:])
    remaining = [
        "tests/unit/test_app_config.py", "tests/unit/engine/test_engine.py", "tests/unit/test_exits.py",
        "tests/unit/test_risk.py", "tests/unit/strategies/test_orb.py", "tests/unit/core/test_registry.py",
        "tests/unit/test_architecture.py",
    ]
    assert all((tmp_path / name).is_file() for name in remaining), remaining
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *remaining],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=600,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
