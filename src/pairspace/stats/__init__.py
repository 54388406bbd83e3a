"""Statistics over measures: correlation (with its bootstrap interval)."""

from .correlation import Correlation, correlate

__all__ = ["Correlation", "correlate"]
