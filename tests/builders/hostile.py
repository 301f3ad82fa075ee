"""Builders for hostile-input tests (issue 12): a folder's bytes, and a store at another price scale."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

PRICE_COLUMNS = ("open", "high", "low", "close")


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (hidden files too), by relative path; {} when absent."""
    if not root.exists():
        return {}
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def scaled_store(source: Path, target: Path, factor: float) -> Path:
    """A copy of the bar store ``source`` with every price multiplied by ``factor``
    (volumes and timestamps untouched), as a vendor file in the wrong unit would give."""
    shutil.copytree(source, target)
    for path in sorted((target / "bars").rglob("*.parquet")):
        table = pq.read_table(path)
        for column in PRICE_COLUMNS:
            index = table.schema.get_field_index(column)
            table = table.set_column(index, column, pc.multiply(table[column], factor))
        pq.write_table(table, path)
    return target
