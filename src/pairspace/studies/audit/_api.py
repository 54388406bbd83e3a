"""The toolkit APIs the audit builds on, imported in one place (they import torch: load lazily).

When the layout moves one of them, only this module changes.
"""

from ...align import AlignmentModel, TrainConfig, load_model, train
from ...align.split import split_pairs
from ...measures import nngs_curve
from ...tasks.zeroshot import classifier_weights, zeroshot_metrics, zeroshot_scores

__all__ = ["AlignmentModel", "TrainConfig", "classifier_weights", "load_model", "nngs_curve",
           "split_pairs", "train", "zeroshot_metrics", "zeroshot_scores"]
