"""The vLLM runtime: vLLM's own OpenAI server, run in-process, plus what KAITO adds to it."""
