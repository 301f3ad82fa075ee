"""Run folders: which one `vwapcli report` reads when no RUN_DIR is given."""

from __future__ import annotations

from pathlib import Path

from vwapcli.run_folder import newest_run


def test_newest_run_is_the_latest_created_run_folder(tmp_path: Path) -> None:
    """Two runs and a half-written staging folder: the one created last wins, by its run.json."""
    for name, created in (("b-older", "2024-05-01T10:00:00Z"), ("a-newer", "2024-05-02T09:00:00Z")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "run.json").write_text(f'{{"created_at": "{created}"}}\n')
    (tmp_path / ".c.partial").mkdir()
    (tmp_path / ".c.partial" / "run.json").write_text('{"created_at": "2030-01-01T00:00:00Z"}\n')
    (tmp_path / "notes").mkdir()
    assert newest_run(tmp_path) == tmp_path / "a-newer"
