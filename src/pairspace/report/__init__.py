"""Reports: plots (matplotlib, headless), JSON and tables. No computation happens here."""

from .._atomic import write_json
from .plots import plot_nngs_curve

__all__ = ["plot_nngs_curve", "write_json"]
