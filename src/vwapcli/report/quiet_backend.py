"""A matplotlib backend for drawing straight to files: Agg without the redraw after a save.

Selected with ``matplotlib.use("module://vwapcli.report.quiet_backend")``
(:data:`vwapcli.report.tearsheet.QUIET_BACKEND`), matplotlib's
documented hook for third-party backends (a module naming its ``FigureCanvas``).
``pyplot.savefig`` asks the canvas to redraw itself after every save (``draw_idle``), for
a window that is showing it; Agg has no window but still renders the whole figure again,
about a fifth of quantstats' tearsheet time (issue 17). Here that redraw does nothing:
the saved files are the bytes Agg writes (``print_png`` renders on its own), only the
wasted render is gone. Nothing here names quantstats: any pyplot caller benefits, and
should matplotlib stop redrawing after a save the backend is merely Agg.

Imported only by matplotlib, when selected: importing it imports matplotlib.
"""

from __future__ import annotations

from typing import Any

from matplotlib.backend_bases import FigureManagerBase
from matplotlib.backends.backend_agg import FigureCanvasAgg


class FigureCanvasQuietAgg(FigureCanvasAgg):
    """Agg, minus the redraw pyplot requests after each save (no window will show it)."""

    def draw_idle(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to refresh: the figure only ever goes to files."""


FigureCanvas = FigureCanvasQuietAgg
FigureManager = FigureManagerBase
