"""Tasks evaluated on embeddings: zero-shot classification, retrieval, analogies."""
