"""`vwapcli paper` (SPEC 12): the backtest's registry, engine, options layer and risk
manager run live, minute by minute, with an append-only journal that survives a crash.

Seams (``vwapcli.paper.seams``): a :class:`Clock` says what time it is and waits; a
:class:`BarFeed` hands over the newly closed bars at each poll (a store replayed on a
simulated clock, or a provider polled live); a :class:`Broker` optionally mirrors each
spread to a broker's paper account.
"""
