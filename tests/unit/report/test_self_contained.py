"""Pages load nothing from the network: remote references are stripped (issue 4)."""

from __future__ import annotations

from builders.report import REMOTE_LOAD
from vwapcli.report.self_contained import external_references, strip_external_references


def test_strip_removes_remote_links_scripts_styles_and_keeps_the_text() -> None:
    dirty = (
        '<link rel="icon" href="https://x.io/f.ico"><script src="//cdn.x/a.js"></script>'
        '<a href="http://quantstats.io" target="q">QuantStats</a>'
        "<style>@import url(https://fonts.x/css);b{background:url('http://x/i.png')}</style>"
        '<img src="https://x/i.png"><a href="#local">ok</a><img src="data:image/png;base64,AA">'
    )
    clean = strip_external_references(dirty)
    assert external_references(clean) == []
    assert REMOTE_LOAD.findall(clean) == []
    assert "QuantStats" in clean and 'href="#local"' in clean and "data:image/png" in clean
