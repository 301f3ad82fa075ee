"""Shared test builders, one place: bar stores, run folders, strategy states, paths.

Importable from every test as ``builders.<module>`` (pytest ``pythonpath = ["tests"]``).
"""
