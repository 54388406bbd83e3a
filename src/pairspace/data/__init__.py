"""Embedding tables, manifests and dataset loaders."""

from .io import PairedSpaces, Space, load_pair, load_space
from .table import EmbeddingTable, read_table

__all__ = ["EmbeddingTable", "PairedSpaces", "Space", "load_pair", "load_space", "read_table"]
