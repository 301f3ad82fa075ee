"""read_yaml_file parses a text once per process (issue 17: one event calendar and one
calibration read per symbol of a streamed run), and never serves a stale or shared document."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import vwapcli.config as config_module
from vwapcli.config import read_yaml_file


@pytest.fixture
def parse_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Count calls into PyYAML's parser (the cost the cache saves)."""
    calls: list[str] = []
    real = yaml.safe_load

    def counting(text: str) -> object:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(config_module.yaml, "safe_load", counting)
    monkeypatch.setattr(config_module, "_PARSED_YAML", {})
    return calls


def test_the_same_text_is_parsed_once_and_an_edited_file_again(tmp_path: Path, parse_calls: list[str]) -> None:
    path = tmp_path / "events.yaml"
    path.write_text("a: 1\nb: [1, 2]\n")
    assert read_yaml_file(path, "x") == {"a": 1, "b": [1, 2]}
    assert read_yaml_file(path, "x") == {"a": 1, "b": [1, 2]}
    assert len(parse_calls) == 1
    # Same length, same second: only the content can tell the edit apart.
    path.write_text("a: 2\nb: [1, 2]\n")
    assert read_yaml_file(path, "x") == {"a": 2, "b": [1, 2]}
    assert len(parse_calls) == 2


def test_a_caller_changing_its_document_never_changes_the_next_callers(tmp_path: Path, parse_calls: list[str]) -> None:
    path = tmp_path / "calibration.yaml"
    path.write_text("smile: {skew: -0.08}\n")
    first = read_yaml_file(path, "x")
    first["smile"]["skew"] = 99.0
    assert read_yaml_file(path, "x") == {"smile": {"skew": -0.08}}


def test_broken_yaml_is_refused_every_time_not_remembered(tmp_path: Path, parse_calls: list[str]) -> None:
    from vwapcli.errors import ConfigError

    path = tmp_path / "bad.yaml"
    path.write_text("a: [1, 2\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="broken YAML"):
            read_yaml_file(path, "x")
    assert len(parse_calls) == 2
