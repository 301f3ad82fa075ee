"""The files vwapcli ships: the repository's ``configs/`` tree, installed as package data.

A wheel carries ``configs/`` as ``vwapcli/configs/`` (pyproject: hatch ``force-include``
of the whole folder, so a file added there, e.g. ``configs/calibration/SPY.yaml``, ships
without touching this module). An editable install runs from the checkout and reads the
folder in place. Either way a config file is looked up, first match wins, in:

1. ``./configs/<name>``: the user's own copy (``vwapcli init`` writes one), so a project
   folder can override any shipped file;
2. the installed package's ``vwapcli/configs/<name>`` (importlib.resources);
3. the checkout's ``configs/<name>`` (editable installs and running from source).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

CONFIGS = "configs"
# src/vwapcli/resources.py -> the checkout root (meaningful for editable installs only).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def packaged_configs() -> Path | None:
    """The installed package's ``configs`` folder, or None (editable install, source run)."""
    folder = resources.files("vwapcli").joinpath(CONFIGS)
    # Wheels install as plain files, so the traversable is a real folder on disk.
    return Path(str(folder)) if folder.is_dir() else None


def config_folders(cwd: Path | None = None) -> list[Path]:
    """Where config files are looked up, in order (see the module docstring)."""
    folders = [(cwd or Path.cwd()) / CONFIGS]
    packaged = packaged_configs()
    if packaged is not None:
        folders.append(packaged)
    checkout = PROJECT_ROOT / CONFIGS
    if checkout.is_dir() and checkout not in folders:
        folders.append(checkout)
    return folders


def find_config_file(name: str, cwd: Path | None = None) -> Path | None:
    """``configs/<name>`` (``name`` may hold folders: ``calibration/SPY.yaml``), first match wins."""
    for folder in config_folders(cwd):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def config_setting_path(value: str, cwd: Path | None = None) -> Path:
    """The file a config setting names (``options.calibration_file: configs/calibration/SPY.yaml``).

    As written when that file exists (absolute, or relative to the working directory);
    otherwise a ``configs/...`` name is looked up like the shipped files (``./configs``, the
    installed package, the checkout), so the shipped ``configs/default.yaml`` works from any
    folder and from a wheel. Anything else comes back as written: reading it names the file.
    """
    path = Path(value)
    as_written = path if path.is_absolute() or cwd is None else cwd / path
    if as_written.is_file() or len(path.parts) < 2 or path.parts[0] != CONFIGS:
        return as_written
    found = find_config_file(Path(*path.parts[1:]).as_posix(), cwd)
    return found if found is not None else as_written


def shipped_config_file(name: str) -> Path | None:
    """The copy of ``configs/<name>`` that came with vwapcli (never the user's ``./configs``)."""
    packaged = packaged_configs()
    for folder in (packaged, PROJECT_ROOT / CONFIGS):
        if folder is not None and (folder / name).is_file():
            return folder / name
    return None
