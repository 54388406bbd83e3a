"""Dataset loaders in the datasets' own formats (metadata + files; nothing is downloaded)."""

from .audio_sets import load_esc50, load_tut2017, load_urbansound8k
from .base import LabeledDataset
from .cifar100 import load_cifar100
from .imagefolder import load_image_folder

__all__ = ["LabeledDataset", "load_cifar100", "load_esc50", "load_image_folder", "load_tut2017",
           "load_urbansound8k"]
