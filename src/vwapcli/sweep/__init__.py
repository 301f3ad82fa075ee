"""Parameter sweeps and walk-forward analysis over one data set (issue 6).

``run_sweep`` is the `vwapcli sweep` command: a YAML grid of dotted config paths expanded
to validated configurations, evaluated on a local process pool or a Dask cluster, with
every trial recorded in ``<store>/trials/ledger.parquet`` so the deflated Sharpe ratio of
the best configuration accounts for everything ever tried on that data.
"""

from vwapcli.sweep.command import SweepRequest, run_sweep

__all__ = ["SweepRequest", "run_sweep"]
