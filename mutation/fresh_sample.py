"""An independent check of the mutation score: fresh random mutants, not cosmic-ray's (issue 15).

    .venv/bin/python mutation/fresh_sample.py                 # 60 mutants, seed from the clock
    .venv/bin/python mutation/fresh_sample.py -n 100 --seed 7 # reproducible draw

It finds its own mutation sites with Python's ``ast`` + ``tokenize`` in the modules of
``mutation/modules.toml`` (outside type annotations):

* comparison flips: ``<``/``<=``/``>``/``>=`` to their boundary twin or their opposite,
  ``==`` <-> ``!=``;
* boolean swaps: ``and`` <-> ``or``;
* arithmetic swaps: ``+`` <-> ``-``, ``*`` <-> ``/``, ``//`` -> ``/``;

draws a random sample, applies each mutant to a temporary copy of the repository (one
operator token replaced in place, nothing else touched), runs the tests that name the
module (as ``make mutation`` does: ``NUMBA_DISABLE_JIT=1``, ``pytest -x``), and reports the
kill rate. Surviving mutants that ``mutation/equivalent.txt`` lists as equivalent are
counted separately, so the report gives both the raw rate and the rate without them.
The latest report is written to ``mutation/fresh_sample.md``.
"""

from __future__ import annotations

import argparse
import ast
import io
import itertools
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# mutation/ is a folder of scripts, not a package: run.py is imported from beside this file.
from run import (
    ROOT,
    annotation_spans,
    copy_repository,
    load_equivalents,
    load_plan,
    normalised,
    scopes,
    test_environment,
    tests_naming,
)

REPORT = ROOT / "mutation" / "fresh_sample.md"

# token -> (replacements, cosmic-ray operator name stem for matching equivalent.txt)
COMPARE_FLIPS = {
    "<": ("<=", ">="), "<=": ("<", ">"), ">": (">=", "<="), ">=": (">", "<"),
    "==": ("!=",), "!=": ("==",),
}
ARITHMETIC_SWAPS = {"+": ("-",), "-": ("+",), "*": ("/",), "/": ("*",), "//": ("/",)}
BOOLEAN_SWAPS = {"and": ("or",), "or": ("and",)}
OPERATOR_NAMES = {
    "<": "Lt", "<=": "LtE", ">": "Gt", ">=": "GtE", "==": "Eq", "!=": "NotEq",
    "+": "Add", "-": "Sub", "*": "Mul", "/": "Div", "//": "FloorDiv",
}


@dataclass(frozen=True)
class Mutant:
    path: str
    line: int  # 1-based
    column: int  # character offset of the operator token
    original: str
    replacement: str

    @property
    def kind(self) -> str:
        if self.original in BOOLEAN_SWAPS:
            return "boolean swap"
        return "comparison flip" if self.original in COMPARE_FLIPS else "arithmetic swap"

    @property
    def cosmic_ray_operator(self) -> str:
        """The equivalent cosmic-ray operator name (to look the mutant up in equivalent.txt)."""
        if self.original == "and":
            return "core/ReplaceAndWithOr"
        if self.original == "or":
            return "core/ReplaceOrWithAnd"
        family = "ReplaceComparisonOperator" if self.original in COMPARE_FLIPS else "ReplaceBinaryOperator"
        return f"core/{family}_{OPERATOR_NAMES[self.original]}_{OPERATOR_NAMES[self.replacement]}"

    def apply(self, source: str) -> str:
        lines = source.splitlines(keepends=True)
        text = lines[self.line - 1]
        assert text[self.column:self.column + len(self.original)] == self.original, (self, text)
        lines[self.line - 1] = text[:self.column] + self.replacement + text[self.column + len(self.original):]
        return "".join(lines)


def _char_column(line: str, byte_offset: int) -> int:
    """ast columns are UTF-8 byte offsets; tokenize's are characters (docstrings hold '·', 'µ')."""
    return len(line.encode()[:byte_offset].decode(errors="ignore"))


def mutation_sites(path: str, source: str) -> list[Mutant]:
    """Every operator token of a Compare, BoolOp or BinOp outside type annotations.

    An operator's token lies in the gap between two operands (left and right of a BinOp,
    consecutive values of a BoolOp or Compare), so tokens inside nested expressions, a
    ``*args`` or a unary minus, are never taken for it.
    """
    lines = source.splitlines()
    spans = annotation_spans(source)

    def position(line: int, byte_column: int) -> tuple[int, int]:
        return (line, _char_column(lines[line - 1], byte_column))

    gaps: list[tuple[tuple[int, int], tuple[int, int], dict[str, tuple[str, ...]]]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands, table = [node.left, *node.comparators], COMPARE_FLIPS
        elif isinstance(node, ast.BoolOp):
            operands, table = list(node.values), BOOLEAN_SWAPS
        elif isinstance(node, ast.BinOp):
            operands, table = [node.left, node.right], ARITHMETIC_SWAPS
        else:
            continue
        if any(a <= (node.lineno, node.col_offset) < b for a, b in spans):
            continue
        for left, right in itertools.pairwise(operands):
            gaps.append((position(left.end_lineno or left.lineno, left.end_col_offset or 0),
                         position(right.lineno, right.col_offset), table))
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type in (tokenize.OP, tokenize.NAME)]
    sites = []
    for gap_start, gap_end, table in gaps:
        for token in tokens:
            if gap_start <= token.start < gap_end and token.string in table:
                line, column = token.start
                sites.append(Mutant(path, line, column, token.string, "|".join(table[token.string])))
    return sorted(set(sites), key=lambda m: (m.line, m.column))


def draw(sites: list[Mutant], n: int, rng: random.Random) -> list[Mutant]:
    chosen = rng.sample(sites, min(n, len(sites)))
    return [Mutant(m.path, m.line, m.column, m.original, rng.choice(m.replacement.split("|"))) for m in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=60, help="Mutants to draw (over all modules).")
    parser.add_argument("--seed", type=int, default=None, help="Default: from the clock (a fresh draw).")
    parser.add_argument("--module", nargs="*", default=None)
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else time.time_ns() % 1_000_000
    rng = random.Random(seed)
    plan = load_plan()
    modules = [m for m in plan.modules if not args.module or m.path in args.module]
    sites = [site for m in modules for site in mutation_sites(m.path, (ROOT / m.path).read_text())]
    sample = sorted(draw(sites, args.n, rng), key=lambda m: (m.path, m.line, m.column))
    equivalents = {entry.key for entry in load_equivalents()}
    print(f"{len(sites)} sites in {len(modules)} modules; drawing {len(sample)} (seed {seed})", flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="vwapcli-fresh-mutants-"))
    copy = workdir / "copy"
    rows, killed, equivalent_survivors = [], 0, 0
    try:
        copy_repository(copy)
        env = test_environment(copy)
        by_path = {m.path: m for m in modules}
        for k, mutant in enumerate(sample, 1):
            target = copy / mutant.path
            original = target.read_text()
            mutated = mutant.apply(original)
            tests = tests_naming(copy, by_path[mutant.path])
            command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
            target.write_text(mutated)
            try:
                done = subprocess.run(command, cwd=copy, env=env, capture_output=True, timeout=600, check=False)
                outcome = "killed" if done.returncode != 0 else "survived"
            except subprocess.TimeoutExpired:
                outcome = "killed"
            finally:
                target.write_text(original)
            mutated_line = normalised(mutated.splitlines()[mutant.line - 1])
            scope = scopes(original).get(mutant.line, "<module>")
            is_equivalent = (mutant.path, scope, mutant.cosmic_ray_operator, mutated_line) in equivalents
            killed += outcome == "killed"
            equivalent_survivors += outcome == "survived" and is_equivalent
            note = " (listed equivalent)" if outcome == "survived" and is_equivalent else ""
            rows.append(f"| `{mutant.path}:{mutant.line}` | {mutant.kind} | `{mutant.original}` -> "
                        f"`{mutant.replacement}` | {outcome}{note} |")
            print(f"[{k}/{len(sample)}] {mutant.path}:{mutant.line} {mutant.original} -> "
                  f"{mutant.replacement}: {outcome}{note}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    total = len(sample)
    rate = killed / total if total else 1.0
    adjusted = killed / (total - equivalent_survivors) if total > equivalent_survivors else 1.0
    command = shlex.join(["mutation/fresh_sample.py", "-n", str(args.n), "--seed", str(seed),
                          *(["--module", *args.module] if args.module else [])])
    text = "\n".join([
        "# Fresh random mutants (independent of cosmic-ray)",
        "",
        f"`.venv/bin/python {command}`: {total} mutants drawn from {len(sites)} sites "
        "(comparison flips, and/or swaps, arithmetic swaps) in the modules of `mutation/modules.toml`.",
        "",
        f"**Killed {killed} of {total} = {rate:.1%}**; surviving but listed equivalent: "
        f"{equivalent_survivors}; without those: {adjusted:.1%}.",
        "",
        "| where | kind | mutation | outcome |",
        "|---|---|---|---|",
        *rows,
        "",
    ])
    REPORT.write_text(text)
    print(f"killed {killed}/{total} = {rate:.1%} (without listed equivalents: {adjusted:.1%}); {REPORT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
