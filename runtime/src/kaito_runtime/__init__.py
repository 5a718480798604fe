"""KAITO runtime: the processes that run inside model images (inference servers; fine-tuning later)."""

__version__ = "0.1.0"
