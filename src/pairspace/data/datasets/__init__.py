"""Dataset loaders and the offline benchmarks."""
