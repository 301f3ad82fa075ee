"""Run report: metrics, bootstrap acceptance verdict, fill sensitivity, HTML tearsheet.

quantstats and matplotlib are imported lazily inside the functions that draw, so this
package is cheap to import.
"""

from vwapcli.errors import ReportError
from vwapcli.report.run import ReportRequest, run_report

__all__ = ["ReportError", "ReportRequest", "run_report"]
