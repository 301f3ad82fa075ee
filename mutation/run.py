"""Mutation testing of the pure core with cosmic-ray (issue 15): ``make mutation``.

    .venv/bin/python mutation/run.py                                  # every module in modules.toml
    .venv/bin/python mutation/run.py --module src/vwapcli/exits.py    # one (or several) modules
    .venv/bin/python mutation/run.py --module src/vwapcli/exits.py --sample 40   # a quick look
    .venv/bin/python mutation/run.py --summary-only                   # rewrite summary.md

For each module of ``mutation/modules.toml``:

1. the repository's files (``git ls-files``: tracked and untracked, not ignored) are copied
   to a temporary directory, so the working tree is never mutated and can be used while
   the run goes on; ``PYTHONPATH`` puts the copy's ``src`` ahead of the editable install;
2. the module's tests are the test files that name it (see ``tests_naming``); they must pass
   on the unmutated copy (the baseline), and their time sets the per-mutant timeout;
3. ``cosmic-ray init`` lists every mutant of the module; mutants of operators outside the
   configured set, and mutants inside type annotations (never evaluated: every module has
   ``from __future__ import annotations``), are marked skipped;
4. ``cosmic-ray exec`` applies each mutant in turn to the copy and runs the tests with
   ``NUMBA_DISABLE_JIT=1``: numba kernels run as Python, so a mutant is never "killed" by a
   compile error and no mutant pays a recompilation (measured: 2.4 s vs 5.9 s per mutant of
   the VWAP kernel's tests);
5. survivors are matched against ``mutation/equivalent.txt``; full runs write
   ``mutation/results/<module>.json`` and regenerate ``mutation/summary.md``.

Score = killed / (mutants - equivalent), per module and overall; a mutant that makes the
tests time out counts as killed. ``--sample N`` runs N random mutants per module (seeded by
``--seed``) and only prints its findings.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "mutation"
PLAN = HERE / "modules.toml"
EQUIVALENT = HERE / "equivalent.txt"
RESULTS = HERE / "results"
SUMMARY = HERE / "summary.md"
PYTHON = Path(sys.executable)
COSMIC_RAY = PYTHON.parent / "cosmic-ray"


@dataclass(frozen=True)
class ModuleSpec:
    path: str  # repository-relative, e.g. src/vwapcli/exits.py
    skip_tests: tuple[str, ...] = ()
    extra_tests: tuple[str, ...] = ()

    @property
    def dotted(self) -> str:
        """``src/vwapcli/options/strikes.py`` -> ``vwapcli.options.strikes``."""
        return ".".join(Path(self.path).with_suffix("").parts[1:])


@dataclass(frozen=True)
class Plan:
    operators: tuple[str, ...]
    timeout_factor: float
    min_timeout_s: float
    modules: tuple[ModuleSpec, ...]

    def operator_wanted(self, name: str) -> bool:
        return any(re.fullmatch(pattern, name) for pattern in self.operators)


def load_plan(path: Path = PLAN) -> Plan:
    raw = tomllib.loads(path.read_text())
    modules = tuple(
        ModuleSpec(m["path"], tuple(m.get("skip_tests", ())), tuple(m.get("extra_tests", ())))
        for m in raw["module"]
    )
    return Plan(tuple(raw["operators"]), float(raw["timeout_factor"]), float(raw["min_timeout_s"]), modules)


def tests_naming(root: Path, module: ModuleSpec) -> list[str]:
    """Test files (relative to ``root``) that name ``module``: its dotted path, or an import
    of it from its package (``from vwapcli.options import strikes``); plus ``extra_tests``,
    minus ``skip_tests`` (matched on the file name)."""
    name = module.dotted
    package, _, leaf = name.rpartition(".")
    by_path = re.compile(rf"\b{re.escape(name)}\b")
    from_package = re.compile(rf"from\s+{re.escape(package)}\s+import\s+(\([^)]*\)|[^\n]*)")
    leaf_word = re.compile(rf"\b{re.escape(leaf)}\b")
    found = []
    for test in sorted(root.glob("tests/**/test_*.py")):
        if test.name in module.skip_tests:
            continue
        text = test.read_text()
        names_it = by_path.search(text) or any(leaf_word.search(m.group(1)) for m in from_package.finditer(text))
        if names_it or any(test.match(pattern) for pattern in module.extra_tests):
            found.append(test)
    # The module's own test files first (named after it): with ``-x`` most mutants die there,
    # before the slower files that only use it are even collected.
    found.sort(key=lambda test: (leaf not in test.stem, str(test)))
    return [str(test.relative_to(root)) for test in found]


def copy_repository(destination: Path) -> None:
    """Every file git knows or would add (tracked + untracked, not ignored), as on disk."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode().split("\0")
    for relative in filter(None, listed):
        source = ROOT / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def test_environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy / "src"), env.get("PYTHONPATH", "")]))
    env["NUMBA_DISABLE_JIT"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions (line, column) of every type annotation in ``source``."""
    spans = []
    for node in ast.walk(ast.parse(source)):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                     arguments.vararg, arguments.kwarg]
            annotations += [a.annotation for a in every if a is not None]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                spans.append(((annotation.lineno, annotation.col_offset),
                              (annotation.end_lineno or annotation.lineno, annotation.end_col_offset or 0)))
    return spans


def scopes(source: str) -> dict[int, str]:
    """Line -> qualified name of the innermost function or class around it ("<module>" outside)."""
    by_line: dict[int, str] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                for line in range(first, (child.end_lineno or child.lineno) + 1):
                    by_line[line] = name  # inner definitions are visited later and win
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return by_line


def normalised(code: str) -> str:
    return " ".join(code.split())


# ------------------------------------------------------------------ equivalents
Key = tuple[str, str, str, str]  # (path, scope, operator, mutated line)


@dataclass(frozen=True)
class Equivalent:
    path: str
    scope: str  # enclosing function or class (qualified), "<module>" outside any
    operator: str
    mutated: str  # the mutated line, whitespace-normalised
    why: str

    @property
    def key(self) -> Key:
        return (self.path, self.scope, self.operator, self.mutated)


def mutant_key(mutant: dict[str, Any]) -> Key:
    return (mutant["path"], mutant.get("scope", ""), mutant["operator"], mutant["mutated"])


def load_equivalents(path: Path = EQUIVALENT) -> list[Equivalent]:
    """``path | scope | operator | mutated line | why`` lines; ``#`` comments and blank lines
    ignored. The mutated line may itself contain `` | `` (a bitwise or): the first three
    fields and the last one are split off, the rest is the code.
    """
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), 1) if path.exists() else []:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [part.strip() for part in line.split(" | ")]
        if len(parts) < 5:
            raise SystemExit(f"{path}:{number}: expected 'path | scope | operator | mutated line | why'")
        entries.append(Equivalent(parts[0], parts[1], parts[2], normalised(" | ".join(parts[3:-1])), parts[-1]))
    return entries


# ------------------------------------------------------------------ one module
def mutant_record(mutation: Any, result: Any, source_lines: list[str], path: str,
                  scope_of: dict[int, str]) -> dict[str, Any]:
    line = int(mutation.start_pos[0])
    added = [text[1:] for text in (result.diff or "").splitlines()
             if text.startswith("+") and not text.startswith("+++")]
    return {
        "path": path,
        "scope": scope_of.get(line, "<module>"),
        "line": line,
        "column": int(mutation.start_pos[1]),
        "operator": mutation.operator_name,
        "original": normalised(source_lines[line - 1]),
        "mutated": normalised(" / ".join(added)),
        "outcome": str(result.test_outcome.value) if result.test_outcome else "none",
        "timeout": result.output == "timeout",
    }


def run_module(module: ModuleSpec, plan: Plan, workdir: Path, sample: int | None, seed: int,
               tree: tuple[str, dict[str, bool]]) -> dict[str, Any]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    copy = workdir / "copy"
    env = test_environment(copy)
    where = subprocess.run([str(PYTHON), "-c", "import vwapcli; print(vwapcli.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True, check=True).stdout.strip()
    if not where.startswith(str(copy / "src")):
        raise SystemExit(f"the copy is not what gets imported ({where}): check PYTHONPATH")
    tests = tests_naming(copy, module)
    if not tests:
        raise SystemExit(f"{module.path}: no test file names {module.dotted}")
    command = " ".join(shlex.quote(part) for part in
                       [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests])
    started = time.monotonic()
    baseline = subprocess.run(shlex.split(command), cwd=copy, env=env, capture_output=True, text=True, check=False)
    baseline_s = time.monotonic() - started
    if baseline.returncode != 0:
        raise SystemExit(f"{module.path}: its tests fail before any mutation:\n{baseline.stdout[-3000:]}")
    timeout = max(plan.min_timeout_s, plan.timeout_factor * baseline_s)

    name = module.dotted
    config = workdir / f"{name}.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module.path)}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
    )
    session = workdir / f"{name}.sqlite"
    subprocess.run([str(COSMIC_RAY), "init", str(config), str(session)], cwd=copy, env=env, check=True)

    source = (copy / module.path).read_text()
    spans = annotation_spans(source)
    skipped = {"operator not in the set": 0, "type annotation": 0, "not sampled": 0}
    with use_db(str(session), WorkDB.Mode.open) as db:
        candidates = []
        for item in db.pending_work_items:
            mutation = item.mutations[0]
            position = tuple(mutation.start_pos)
            if not plan.operator_wanted(mutation.operator_name):
                reason = "operator not in the set"
            elif any(start <= position < end for start, end in spans):
                reason = "type annotation"
            else:
                candidates.append((position, mutation.operator_name, mutation.occurrence, item.job_id))
                continue
            skipped[reason] += 1
            db.set_result(item.job_id, WorkResult(output=reason, worker_outcome=WorkerOutcome.SKIPPED))
        candidates.sort()  # cosmic-ray lists jobs in random order; a seeded sample needs a fixed one
        keep = [job_id for *_, job_id in candidates]
        if sample is not None and sample < len(keep):
            chosen = set(random.Random(seed).sample(keep, sample))
            for job_id in keep:
                if job_id not in chosen:
                    skipped["not sampled"] += 1
                    db.set_result(job_id, WorkResult(output="not sampled", worker_outcome=WorkerOutcome.SKIPPED))
            keep = [job_id for job_id in keep if job_id in chosen]
    print(f"{module.path}: {len(keep)} mutants, tests {' '.join(tests)} "
          f"(baseline {baseline_s:.1f} s, timeout {timeout:.0f} s)", flush=True)

    started = time.monotonic()
    process = subprocess.Popen([str(COSMIC_RAY), "exec", str(config), str(session)], cwd=copy, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while process.poll() is None:
        time.sleep(20)
        with use_db(str(session), WorkDB.Mode.open) as db:
            done = db.num_results - sum(skipped.values())
        elapsed = time.monotonic() - started
        if done:
            eta = elapsed / done * (len(keep) - done)
            print(f"  {done}/{len(keep)} mutants, {elapsed / 60:.1f} min, about {eta / 60:.0f} min to go", flush=True)
    if process.returncode != 0:
        raise SystemExit(f"cosmic-ray exec failed for {module.path}:\n{process.stderr.read()[-3000:]}")
    elapsed = time.monotonic() - started

    source_lines = source.splitlines()
    scope_of = scopes(source)
    mutants = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome in (WorkerOutcome.SKIPPED, WorkerOutcome.NO_TEST):
                continue
            record = mutant_record(item.mutations[0], result, source_lines, module.path, scope_of)
            if result.worker_outcome != WorkerOutcome.NORMAL and result.test_outcome != TestOutcome.INCOMPETENT:
                record["outcome"] = "incompetent"
            mutants.append(record)
    mutants.sort(key=lambda m: (m["line"], m["column"], m["operator"], m["mutated"]))
    killed = [m for m in mutants if m["outcome"] == "killed"]
    return {
        "module": module.path,
        "tests": tests,
        # The tree the copy was made from (HEAD when the run started, not when it ended).
        "commit": tree[0],
        "source_changed_since_commit": tree[1][module.path],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "baseline_s": round(baseline_s, 2),
        "timeout_s": round(timeout, 1),
        "elapsed_s": round(elapsed, 1),
        "skipped": skipped,
        "sampled": sample is not None,
        "killed": len(killed),
        "timeouts": sum(m["timeout"] for m in killed),
        # Only the mutants a reader needs to see: who survived, and what did not run.
        "survived": [m for m in mutants if m["outcome"] == "survived"],
        "incompetent": [m for m in mutants if m["outcome"] not in ("killed", "survived")],
    }


def git_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True, check=False).stdout.strip()


def source_changed(path: str) -> bool:
    return subprocess.run(["git", "diff", "--quiet", "HEAD", "--", path], cwd=ROOT, check=False).returncode != 0


# ------------------------------------------------------------------ scoring and summary
@dataclass
class Score:
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    equivalent: int = 0
    incompetent: int = 0
    timeouts: int = 0

    @property
    def score(self) -> float:
        denominator = self.mutants - self.equivalent
        return self.killed / denominator if denominator else 1.0

    def add(self, other: Score) -> None:
        for field in ("mutants", "killed", "survived", "equivalent", "incompetent", "timeouts"):
            setattr(self, field, getattr(self, field) + getattr(other, field))


def classify(result: dict[str, Any], equivalents: dict[Key, Equivalent]) -> tuple[Score, list[dict], list[dict]]:
    """Counts, non-equivalent survivors and equivalent survivors (each with its reason)."""
    survived = result["survived"]
    score = Score(mutants=result["killed"] + len(survived), killed=result["killed"], survived=len(survived),
                  incompetent=len(result["incompetent"]), timeouts=result["timeouts"])
    open_survivors, equivalent_survivors = [], []
    for mutant in survived:
        entry = equivalents.get(mutant_key(mutant))
        if entry is not None:
            score.equivalent += 1
            equivalent_survivors.append({**mutant, "why": entry.why})
        else:
            open_survivors.append(mutant)
    return score, open_survivors, equivalent_survivors


def describe(mutant: dict[str, Any]) -> str:
    return (f"`{mutant['path']}:{mutant['line']}` (`{mutant.get('scope', '')}`) "
            f"{mutant['operator'].removeprefix('core/')}: `{mutant['original']}` -> `{mutant['mutated']}`")


def equivalent_template(mutant: dict[str, Any]) -> str:
    """The survivor as an equivalent.txt line, its reason left to be written."""
    return f"{' | '.join(mutant_key(mutant))} | WHY"


def write_summary(plan: Plan) -> str:
    equivalents = {entry.key: entry for entry in load_equivalents()}
    used: set[Key] = set()
    rows, open_lines, total = [], [], Score()
    for module in plan.modules:
        path = RESULTS / f"{module.dotted}.json"
        if not path.exists():
            rows.append(f"| `{module.path}` | not run yet | | | | | |")
            continue
        result = json.loads(path.read_text())
        score, survivors, equivalent = classify(result, equivalents)
        used |= {mutant_key(m) for m in equivalent}
        total.add(score)
        changed = " (source edited since)" if result["source_changed_since_commit"] else ""
        rows.append(
            f"| `{module.path}` | {score.mutants} | {score.killed} | {score.survived} | {score.equivalent} "
            f"| **{score.score:.1%}** | {result['commit']}{changed}, {result['date']}, {result['elapsed_s'] / 60:.0f} min |"
        )
        open_lines += [f"- {describe(m)}" for m in survivors]
    stale = [entry for key, entry in equivalents.items() if key not in used]
    lines = [
        "# Mutation testing: summary",
        "",
        "Written by `make mutation` (`mutation/run.py`, cosmic-ray, operators and modules in",
        "`mutation/modules.toml`). Score = killed / (mutants - equivalent); a timeout counts as",
        "killed. Equivalent survivors are listed, each with its reason, in `mutation/equivalent.txt`.",
        "",
        "| module | mutants | killed | survived | equivalent | score | run (commit, date, time) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        f"| **all** | {total.mutants} | {total.killed} | {total.survived} | {total.equivalent} | **{total.score:.1%}** | |",
        "",
        f"Timeouts (counted as killed): {total.timeouts}. Incompetent mutants (the mutated module",
        f"did not run at all; not counted): {total.incompetent}.",
        "",
        "## Surviving mutants not judged equivalent",
        "",
        *(open_lines or ["None."]),
        "",
    ]
    if stale:
        lines += ["## Entries of equivalent.txt that matched no survivor (stale: remove or fix)", "",
                  *[f"- `{e.path}` `{e.scope}` {e.operator}: `{e.mutated}`" for e in stale], ""]
    text = "\n".join(lines)
    SUMMARY.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", nargs="*", default=None, help="Module paths (default: all in modules.toml).")
    parser.add_argument("--sample", type=int, default=None, help="Run only N random mutants per module; print, do not record.")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary copy and cosmic-ray sessions.")
    parser.add_argument("--summary-only", action="store_true", help="Rewrite summary.md from mutation/results/.")
    parser.add_argument("--templates", action="store_true",
                        help="Print the open survivors of mutation/results/ as equivalent.txt lines to complete.")
    args = parser.parse_args(argv)
    plan = load_plan()
    if args.summary_only:
        print(write_summary(plan))
        return 0
    if args.templates:
        equivalents = {entry.key: entry for entry in load_equivalents()}
        for module in plan.modules:
            path = RESULTS / f"{module.dotted}.json"
            if path.exists():
                for mutant in classify(json.loads(path.read_text()), equivalents)[1]:
                    print(equivalent_template(mutant))
        return 0
    wanted = plan.modules
    if args.module:
        known = {module.path: module for module in plan.modules}
        unknown = [path for path in args.module if path not in known]
        if unknown:
            raise SystemExit(f"not in {PLAN.relative_to(ROOT)}: {' '.join(unknown)}")
        wanted = tuple(known[path] for path in args.module)
    workdir = Path(tempfile.mkdtemp(prefix="vwapcli-mutation-"))
    try:
        tree = (git_commit(), {module.path: source_changed(module.path) for module in wanted})
        copy_repository(workdir / "copy")
        equivalents = {entry.key: entry for entry in load_equivalents()}
        for module in wanted:
            result = run_module(module, plan, workdir, args.sample, args.seed, tree)
            score, survivors, _ = classify(result, equivalents)
            print(f"{module.path}: {score.killed}/{score.mutants - score.equivalent} killed "
                  f"({score.score:.1%}), {score.equivalent} equivalent, {len(survivors)} open survivors")
            for mutant in survivors:
                print(f"  {describe(mutant)}")
            if args.sample is None:
                RESULTS.mkdir(exist_ok=True)
                (RESULTS / f"{module.dotted}.json").write_text(json.dumps(result, indent=1) + "\n")
        if args.sample is None:
            write_summary(plan)
            print(f"summary: {SUMMARY.relative_to(ROOT)}")
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
