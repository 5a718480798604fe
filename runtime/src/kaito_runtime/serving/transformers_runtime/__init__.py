"""The transformers runtime: an OpenAI-compatible server on transformers + torch with continuous batching."""
