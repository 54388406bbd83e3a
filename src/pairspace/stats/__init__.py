"""Statistics of paired-space measures: permutation tests, intervals and item disagreement.

- :mod:`~pairspace.stats.permutation`: p-values against shuffled pairings (relabeled graphs for
  kNN measures, no new search) and the permutation-null band of the NNGS curve;
- :mod:`~pairspace.stats.bootstrap`: item bootstrap on fixed graphs (kNN measures) and m-out-of-n
  subsampling (global measures);
- :mod:`~pairspace.stats.disagreement`: the items whose neighborhoods the two spaces disagree on;
- :mod:`~pairspace.stats.correlation`: the one ``correlate`` (Pearson/Spearman with a bootstrap
  interval) used by every study;
- :mod:`~pairspace.stats.paired`: paired differences of per-item outcomes over seeds (two-stage
  bootstrap interval, sign-flip p-value) for comparisons between conditions.
"""

from ._graphs import relabel_graph
from .bootstrap import IntervalResult, bootstrap_ci
from .correlation import Correlation, correlate
from .disagreement import ItemDisagreement, item_disagreement
from .paired import PairedDifference, mean_interval, paired_difference
from .permutation import PermutationResult, null_curve, p_value, permutation_test

__all__ = [
    "Correlation", "IntervalResult", "ItemDisagreement", "PairedDifference", "PermutationResult",
    "bootstrap_ci", "correlate", "item_disagreement", "mean_interval", "null_curve", "p_value",
    "paired_difference", "permutation_test", "relabel_graph",
]
