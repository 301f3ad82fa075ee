"""A wheel that works anywhere: `init`, `report` without RUN_DIR, and a wheel installed in a
fresh venv trading exactly as the repo does. (Config lookup: tests/unit/test_resources.py; the
built-in defaults against configs/default.yaml: tests/unit/test_app_config.py; the newest run:
tests/unit/test_run_folder.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders.cli import run_cli
from builders.paths import PROJECT

CONFIGS = PROJECT / "configs"
SMALL_RANGE = ["--symbols", "SPY", "--start", "2024-01-02", "--end", "2024-03-28"]


def test_init_writes_the_shipped_config_and_the_folders_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "study"
    code, text = run_cli(["init", str(target)], capsys, monkeypatch)
    assert code == 0, text
    assert (target / "configs" / "default.yaml").read_text() == (CONFIGS / "default.yaml").read_text()
    assert (target / "data").is_dir() and (target / "reports").is_dir()
    (target / "configs" / "default.yaml").write_text("# mine\n")
    code, text = run_cli(["init", str(target)], capsys, monkeypatch)
    assert code == 2
    assert "already exists; init never overwrites a file" in text
    assert (target / "configs" / "default.yaml").read_text() == "# mine\n"


def test_report_without_run_dir_and_without_runs_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, text = run_cli(["report"], capsys, monkeypatch)
    assert code == 2
    assert text.strip() == "error: reports: no run folder (with run.json) here; run `vwapcli backtest` first or give RUN_DIR"


# --- the wheel -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, offline (hatchling from the test extra, no index)."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(PROJECT), "--no-deps", "--no-build-isolation", "--no-index",
         "--quiet", "--disable-pip-version-check", "-w", str(out)],
        check=True, capture_output=True, text=True,
    )
    (built,) = out.glob("vwapcli-*.whl")
    return built


def test_the_wheel_ships_every_file_of_the_configs_tree(wheel: Path) -> None:
    """Whatever lands in configs/ (calibration/*.yaml included) ships, with no list to update."""
    on_disk = sorted(p.relative_to(CONFIGS).as_posix() for p in CONFIGS.rglob("*") if p.is_file())
    with zipfile.ZipFile(wheel) as archive:
        shipped = sorted(n.removeprefix("vwapcli/configs/") for n in archive.namelist() if n.startswith("vwapcli/configs/"))
        assert shipped == on_disk
        for name in on_disk:
            assert archive.read(f"vwapcli/configs/{name}") == (CONFIGS / name).read_bytes()


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv holding only the wheel; its dependencies come from this test's environment
    through a .pth file (offline and fast), which adds that site-packages folder to sys.path
    without running its .pth files, so the checkout's editable install stays out of reach."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    Path(purelib, "vwapcli-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--quiet", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, text=True,
    )
    yield venv


def _installed(venv: Path, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["VWAPCLI_CACHE_DIR"] = str(folder.parent / "cache")
    env["COLUMNS"] = "200"
    return subprocess.run([str(venv / "bin" / "vwapcli"), *args], cwd=folder, env=env, capture_output=True, text=True)


def test_the_installed_wheel_runs_from_an_empty_folder_and_trades_as_the_repo_install(
    fresh_venv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same synthetic quarter of SPY, same default config: the wheel (configs read from its own
    package data) and the checkout (configs read in place) write byte-identical trades.csv."""
    python = fresh_venv / "bin" / "python"
    where = subprocess.run(
        [str(python), "-c", "import vwapcli, vwapcli.resources as r; print(vwapcli.__file__); print(r.find_config_file('expirations.yaml'))"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert all(path.startswith(str(fresh_venv)) for path in where), where

    installed = tmp_path / "installed"
    installed.mkdir()
    for args in (["fetch", "--source", "synthetic", *SMALL_RANGE, "--store", "data"],
                 ["backtest", "--store", "data", "--symbols", "SPY", "--out", "reports/run"]):
        done = _installed(fresh_venv, installed, *args)
        assert done.returncode == 0, done.stdout + done.stderr

    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    for args in (["fetch", "--source", "synthetic", *SMALL_RANGE, "--store", "data"],
                 ["backtest", "--store", "data", "--symbols", "SPY", "--out", "reports/run"]):
        code, text = run_cli(args, capsys, monkeypatch)
        assert code == 0, text

    wheel_trades = (installed / "reports" / "run" / "trades.csv").read_bytes()
    assert wheel_trades == (repo / "reports" / "run" / "trades.csv").read_bytes()
    assert wheel_trades.count(b"\n") > 10  # a quarter of ORB trades, not an empty log

    code, text = run_cli(["report"], capsys, monkeypatch)
    assert code == 0, text
    assert "reporting the newest run under reports/: reports/run" in text
    assert (repo / "reports" / "run" / "report.html").is_file()
