"""Core types shared by every layer: bars, signals, the strategy protocol, the registry."""
