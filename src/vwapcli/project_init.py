"""``vwapcli init [DIR]``: a working folder for an installed vwapcli.

After ``pipx install .`` the package runs from anywhere, and its shipped configs are read
from the package; a user who wants to *edit* the engine's config needs a copy of their own.
``init`` writes ``DIR/configs/default.yaml`` (the shipped default, which every command run
from DIR then reads first) and the folders the commands use by default: ``data/`` (the bar
store) and ``reports/`` (run folders). It never replaces a file: if the config is already
there it stops with one line and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vwapcli.env import Env
from vwapcli.errors import ConfigError
from vwapcli.resources import CONFIGS, shipped_config_file

STARTER_CONFIG = "default.yaml"
FOLDERS = ("data", "reports")


@dataclass(frozen=True)
class InitResult:
    """What ``init`` created (folders that already existed are not listed)."""

    config: Path
    folders: list[Path]


def run_init(target: Path, env: Env) -> InitResult:
    """Write the starter config and folders under ``target``; refuse to overwrite any file."""
    console = env.console
    target = Path(target)
    config = target / CONFIGS / STARTER_CONFIG
    source = shipped_config_file(STARTER_CONFIG)
    if source is None:
        raise ConfigError(f"{CONFIGS}/{STARTER_CONFIG} is missing from this vwapcli install; reinstall the package")
    if config.exists() or config.is_symlink():
        raise ConfigError(f"{config}: already exists; init never overwrites a file (move it away or choose another DIR)")
    for folder in (target, *(target / name for name in FOLDERS)):
        if folder.exists() and not folder.is_dir():
            raise ConfigError(f"{folder}: exists and is not a folder; init writes nothing")
    created = [target / name for name in FOLDERS if not (target / name).exists()]
    config.parent.mkdir(parents=True, exist_ok=True)
    # Exclusive create: a file that appeared since the check above is never replaced.
    with config.open("x", encoding="utf-8") as handle:
        handle.write(source.read_text(encoding="utf-8"))
    for folder in created:
        folder.mkdir(parents=True, exist_ok=True)
    console.print(f"wrote {config} (the engine's config: edit it; commands run from {target} read it)")
    for folder in created:
        console.print(f"made {folder}/")
    console.print(
        "next, from that folder:\n"
        "  vwapcli fetch --source synthetic --symbols SPY QQQ --start 2019-01-01 --end 2024-12-31\n"
        "  vwapcli backtest --symbols SPY QQQ\n"
        "  vwapcli report"
    )
    return InitResult(config, created)
