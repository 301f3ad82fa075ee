"""Parameter sweeps and walk-forward analysis over one data set (issue 6).

``run_sweep`` is the `vwapcli sweep` command: a YAML grid of dotted config paths expanded
to validated configurations, evaluated on a local process pool or a Dask cluster, with
every trial recorded in ``<sweeps root>/trials/ledger.parquet`` (``reports/`` by default,
never inside the bar store) so the deflated Sharpe ratio of the best configuration accounts
for everything tried on that data under that root.
"""

from vwapcli.sweep.command import SweepRequest, run_sweep

__all__ = ["SweepRequest", "run_sweep"]
