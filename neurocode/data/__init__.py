"""Data sets: loaders for the image data the experiments train on."""

from neurocode.data.mnist import (
    DATASETS,
    DatasetError,
    clear_cache,
    find_dataset,
    load_mnist,
    search_roots,
)

__all__ = [
    "DATASETS",
    "DatasetError",
    "clear_cache",
    "find_dataset",
    "load_mnist",
    "search_roots",
]
