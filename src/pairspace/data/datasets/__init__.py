"""Dataset loaders in the datasets' own formats (metadata + files; nothing is downloaded).

:data:`LOADERS` names every loader (``pairspace embed --dataset`` reads its names from here).
"""

from collections.abc import Callable

from .audio_sets import load_esc50, load_tut2017, load_urbansound8k
from .base import LabeledDataset
from .cifar100 import load_cifar100
from .imagefolder import load_image_folder

#: Dataset name -> loader ``load(root, class_names=None) -> LabeledDataset``.
LOADERS: dict[str, Callable[..., LabeledDataset]] = {
    "cifar100": load_cifar100, "esc50": load_esc50, "image-folder": load_image_folder,
    "tut2017": load_tut2017, "urbansound8k": load_urbansound8k,
}
DATASETS = tuple(LOADERS)

__all__ = ["DATASETS", "LOADERS", "LabeledDataset", "load_cifar100", "load_esc50",
           "load_image_folder", "load_tut2017", "load_urbansound8k"]
