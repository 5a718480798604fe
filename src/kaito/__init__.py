"""kaito: the Kubernetes AI Toolchain Operator, in Python."""

__version__ = "0.1.0"
