"""Benchmark datasets: a registry of pinned public sources, a checked download cache, answer parsing.

``load_dataset("nl4opt_orig")`` downloads on first use (sha256-checked) into ``$FORMULATE_DATA_DIR`` or
``~/.cache/formulate/datasets``; ``load_dataset("my.jsonl")`` reads a local file with question/answer fields.
"""

from formulate.datasets.answers import ParsedAnswer, label_decimals, parse_answer
from formulate.datasets.download import cache_dir, cached_path, fetch
from formulate.datasets.loaders import Dataset, Sample, load_dataset, load_file, load_spec, normalise
from formulate.datasets.registry import ALIASES, DatasetSpec, dataset_names, get_spec, registry

__all__ = [
    "ALIASES",
    "Dataset",
    "DatasetSpec",
    "ParsedAnswer",
    "Sample",
    "cache_dir",
    "cached_path",
    "dataset_names",
    "fetch",
    "get_spec",
    "label_decimals",
    "load_dataset",
    "load_file",
    "load_spec",
    "normalise",
    "parse_answer",
    "registry",
]
