#!/usr/bin/env bash
# Same inputs, two versions of the code, byte-identical outputs: the check behind every
# refactor that promises "behaviour unchanged" (issue 16).
#
#   scripts/check_identical_outputs.sh [BASE_REV]        # default BASE_REV: origin of this branch (main)
#   KEEP=1 WORK=/tmp/cmp scripts/check_identical_outputs.sh e8d96e8
#   KEEP=1 REUSE_BASE=1 WORK=/tmp/cmp scripts/check_identical_outputs.sh e8d96e8   # base outputs kept
#
# BASE_REV is exported with `git archive` into $WORK/base/src; the working tree is the other
# side. Both run the demo pipeline subset (scripts/demo.sh) from their own folder on their own
# copy of one seeded synthetic store (SPY + QQQ, 2019-2024), with relative paths, so every
# path a page prints is the same on both sides:
#   signals (ORB + VWAP_MEANREV); backtests ORB alone, ORB + VWAP_MEANREV, VWAP_MEANREV alone;
#   report of each run, report --strategy VWAP_MEANREV, report --compare; a 12-configuration sweep.
# Compared byte for byte: trades.csv/.parquet, skipped.csv, equity.parquet, report.html,
# metrics.json, compare.html/.json, signals.csv, the sweep's results.parquet, and the
# terminal text of each command. run.json is compared with its
# time stamp ("created_at") and command line (absolute interpreter path) left out.
# Nothing else in these files depends on the clock (checked: two runs of the same code agree).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PY=${PY:-$REPO/.venv/bin/python}
BASE_REV=${1:-$(git merge-base HEAD main 2>/dev/null || git rev-parse HEAD)}
WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/vwapcli-identical.XXXXXX")}
STORE_START=2019-01-01
STORE_END=2024-12-31
SWEEP=${SWEEP:-1}

mkdir -p "$WORK/base"
rm -rf "$WORK/base/src" "$WORK/base/configs"
git archive "$BASE_REV" src configs | tar -x -C "$WORK/base"
echo "== base: $BASE_REV ($(git rev-parse --short "$BASE_REV")) in $WORK/base; new: working tree of $REPO"

cli() {  # cli SIDE_SRC ARGS...: the vwapcli of that source tree
  local src=$1
  shift
  PYTHONPATH="$src" "$PY" -c "from vwapcli.cli import main; main()" "$@"
}

if [ ! -d "$WORK/store/bars" ]; then
  cli "$WORK/base/src" --quiet fetch --source synthetic --symbols SPY QQQ --start "$STORE_START" \
    --end "$STORE_END" --store "$WORK/store" --seed 7
fi

run_side() {  # run_side NAME SRC: the pipeline, from $WORK/NAME, terminal text in NAME/out/*.txt
  local name=$1 src=$2 dir="$WORK/$1"
  mkdir -p "$dir"
  (
    cd "$dir"
    rm -rf runs out store signals.csv sweep
    cp -r "$WORK/store" store
    mkdir -p out runs
    local range=(--store store --symbols SPY QQQ --start "$STORE_START" --end "$STORE_END")
    local grid=(--config "$REPO/bench/configs/sweep_base.yaml" --grid "$REPO/bench/configs/grid_small.yaml")
    echo "   $name: signals, backtests"
    cli "$src" signals "${range[@]}" --enable vwap_meanrev --out signals.csv > out/signals.txt
    cli "$src" backtest "${range[@]}" --out runs/orb > out/backtest-orb.txt
    cli "$src" backtest "${range[@]}" --enable vwap_meanrev --out runs/orb+vwap > out/backtest-orb+vwap.txt
    cli "$src" backtest "${range[@]}" --only vwap_meanrev --out runs/vwap > out/backtest-vwap.txt
    echo "   $name: reports"
    cli "$src" report runs/vwap > out/report-vwap.txt
    cli "$src" report runs/orb > out/report-orb.txt
    cli "$src" report runs/orb+vwap --strategy VWAP_MEANREV --out runs/vwap-only/report.html > out/report-vwap-only.txt
    cli "$src" report --compare runs/orb runs/orb+vwap > out/compare.txt || true
    if [ "$SWEEP" = 1 ]; then
      echo "   $name: sweep"
      cli "$src" sweep "${grid[@]}" --store store --workers 2 --out sweep > out/sweep.txt
    fi
  )
}

# REUSE_BASE=1 with KEEP=1 from an earlier call: keep the base side's outputs (same BASE_REV).
if [ -z "${REUSE_BASE:-}" ] || [ ! -f "$WORK/base/runs/vwap/report.html" ]; then
  run_side base "$WORK/base/src"
fi
run_side new "$REPO/src"

strip_run_json() {  # run.json without the clock and the interpreter path
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("created_at"); d.pop("command"); print(json.dumps(d, sort_keys=True))' "$1"
}

failed=0
compared=0
cd "$WORK/base"
while IFS= read -r file; do
  compared=$((compared + 1))
  case "$file" in
    */run.json) same=$([ "$(strip_run_json "$file")" = "$(strip_run_json "$WORK/new/$file")" ] && echo 1 || echo 0) ;;
    *) same=$(cmp -s "$file" "$WORK/new/$file" && echo 1 || echo 0) ;;
  esac
  if [ "$same" != 1 ]; then
    echo "DIFFERS: $file"
    failed=1
  fi
done < <(find signals.csv runs out sweep -type f \
  \( -name '*.csv' -o -name '*.parquet' -o -name '*.html' -o -name '*.json' -o -name '*.txt' \) \
  ! -name 'sweep.json' ! -path 'sweep/heatmap.html' ! -path 'out/sweep.txt' 2>/dev/null | sort)
# The sweep's heatmap, sweep.json and terminal text name the trial ledger's history and the
# time; its results.parquet is the comparable output.
if [ "$compared" -lt 20 ]; then
  echo "only $compared files compared: the pipeline did not run through"
  failed=1
fi
if [ "$failed" = 0 ]; then
  echo "identical: $compared files (base $BASE_REV vs working tree)"
fi
[ -n "${KEEP:-}" ] || rm -rf "$WORK/base" "$WORK/new"
exit $failed
