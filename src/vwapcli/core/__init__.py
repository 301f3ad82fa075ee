"""Core types shared by every layer: bars, signals, skip reasons, the strategy protocol and
the strategy catalogue type (never its contents: those are vwapcli.strategies)."""
