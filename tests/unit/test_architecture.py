"""The layer table of docs/ARCHITECTURE.md, checked by import-linter (issue 16).

The contracts live in pyproject.toml (``[tool.importlinter]``); ``make lint`` runs them too.
grimp reads every import statement, including those inside functions (the lazy imports)
and under ``TYPE_CHECKING``, so a layer cannot be crossed by importing late.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from builders.paths import PROJECT

LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(project: Path, source: Path) -> subprocess.CompletedProcess[str]:
    """lint-imports on ``project``'s pyproject.toml with ``source`` as the package's home."""
    environment = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", "--config", str(project / "pyproject.toml")],
        cwd=project, env=environment, capture_output=True, text=True, timeout=300,
    )


def test_every_import_contract_is_kept() -> None:
    result = lint_imports(PROJECT, PROJECT / "src")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_lazy_import_of_a_strategy_inside_core_breaks_the_contracts(tmp_path: Path) -> None:
    """The issue's own example: core/registry.py importing vwapcli.strategies inside a
    function. A copy of the package with that one line added must fail, naming the line."""
    shutil.copytree(PROJECT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(PROJECT / "pyproject.toml", tmp_path / "pyproject.toml")
    registry = tmp_path / "src/vwapcli/core/registry.py"
    registry.write_text(
        registry.read_text()
        + "\n\ndef _shipped() -> object:\n    import vwapcli.strategies\n\n    return vwapcli.strategies\n"
    )
    result = lint_imports(tmp_path, tmp_path / "src")
    assert result.returncode != 0
    assert "core knows no strategy, no options, data, engine or report BROKEN" in " ".join(result.stdout.split())
    assert "vwapcli.core.registry -> vwapcli.strategies" in result.stdout
