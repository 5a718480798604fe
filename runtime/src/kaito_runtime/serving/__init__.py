"""Inference serving: the ``kaito-runtime serve`` command and its two runtimes."""
