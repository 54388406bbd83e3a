"""Embedding tables, manifests and dataset loaders."""

from .table import EmbeddingTable

__all__ = ["EmbeddingTable"]
