#!/usr/bin/env bash
# `make demo`: offline, no keys. Builds the embedded synthetic data if missing, runs ORB
# alone and ORB + VWAP_MEANREV on SPY and QQQ, and writes the HTML reports under reports/.
set -euo pipefail
cd "$(dirname "$0")/.."
VWAPCLI=.venv/bin/vwapcli
STORE=${DEMO_STORE:-data/demo}
START=${DEMO_START:-2019-01-01}
END=${DEMO_END:-2024-12-31}
STAMP=$(date +%Y%m%d-%H%M%S)
OUT=reports/demo-$STAMP

if [ ! -d "$STORE/bars" ]; then
  echo "== building the embedded synthetic data (seeded; labelled synthetic) in $STORE"
  $VWAPCLI fetch --source synthetic --symbols SPY QQQ --start "$START" --end "$END" --store "$STORE" --seed 7
fi

echo "== backtest: ORB alone (the engine as it runs today)"
$VWAPCLI backtest --store "$STORE" --symbols SPY QQQ --start "$START" --end "$END" --out "$OUT/orb"
echo "== backtest: ORB + VWAP_MEANREV (the module switched on)"
$VWAPCLI backtest --store "$STORE" --symbols SPY QQQ --start "$START" --end "$END" --enable vwap_meanrev --out "$OUT/orb+vwap"
echo "== backtest: VWAP_MEANREV alone"
$VWAPCLI backtest --store "$STORE" --symbols SPY QQQ --start "$START" --end "$END" --only vwap_meanrev --out "$OUT/vwap"

echo "== reports"
$VWAPCLI report "$OUT/vwap"
$VWAPCLI report "$OUT/orb+vwap" --strategy VWAP_MEANREV
echo "== compare: what switching VWAP_MEANREV on changes"
$VWAPCLI report --compare "$OUT/orb" "$OUT/orb+vwap"
echo
echo "Demo done. Open the reports:"
ls -1 "$OUT"/*/*.html
