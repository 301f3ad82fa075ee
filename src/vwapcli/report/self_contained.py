"""Self-contained pages: nothing a browser would fetch from the network (issue 4).

Every page vwapcli writes is one file that opens offline: no CDN scripts, fonts,
stylesheets, favicons or outbound links. ``strip_external_references`` runs over each
page's final text as the last line of defence (quantstats' template has a remote
favicon and a link); ``external_references`` is what the tests scan for leftovers.
"""

from __future__ import annotations

import re

# Any attribute or CSS construct that would make a browser fetch something remote.
EXTERNAL_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|srcset|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import\s+(?:url\()?\s*["']?\s*(?:https?:)?//)""",
    re.IGNORECASE,
)


def external_references(text: str) -> list[str]:
    """Every construct in ``text`` that would load something from the network."""
    return [match.group(0) for match in EXTERNAL_REFERENCE.finditer(text)]


def strip_external_references(text: str) -> str:
    """Remove or neutralise remote loads and outbound links, keeping visible text.

    ``<link>`` tags to remote files are dropped, remote ``<script src>`` elements are
    dropped, outbound ``<a href>`` become their plain text, remote ``url(...)`` becomes
    ``none`` and remote ``@import`` rules are removed.
    """
    remote = r"""["']?\s*(?:https?:)?//"""
    text = re.sub(rf"<link\b[^>]*\bhref\s*=\s*{remote}[^>]*>", "", text, flags=re.I)
    text = re.sub(
        rf"<script\b[^>]*\bsrc\s*=\s*{remote}[^>]*>.*?</script\s*>", "", text, flags=re.I | re.S
    )
    text = re.sub(
        rf"<a\b[^>]*\bhref\s*=\s*{remote}[^>]*>(.*?)</a\s*>", r"\1", text, flags=re.I | re.S
    )
    text = re.sub(rf"@import\s+(?:url\()?\s*{remote}[^;]*;", "", text, flags=re.I)
    text = re.sub(rf"url\(\s*{remote}[^)]*\)", "none", text, flags=re.I)
    # Whatever is left (an <img src=//...>, a form action): blank the address itself.
    return re.sub(
        rf"""\b(src|href|srcset|action|poster|data)\s*=\s*{remote}[^"'\s>]*["']?""",
        r'\1=""',
        text,
        flags=re.I,
    )
