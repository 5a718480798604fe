"""The legacy ``POST /chat`` contract, checked the same way on either runtime."""

from __future__ import annotations

import httpx
import openai


def check_legacy_chat(
    base_url: str,
    client: openai.OpenAI,
    model: str,
    prompt: str,
    messages: list[dict[str, str]],
    timeout: float,
) -> None:
    """``{"prompt"}`` answers the prompt and its continuation; greedy ``{"messages"}`` answers what
    the OpenAI chat API answers for the same conversation."""
    by_prompt = httpx.post(
        f"{base_url}/chat", json={"prompt": prompt, "generate_kwargs": {"max_length": 12}}, timeout=timeout
    )
    assert by_prompt.status_code == 200 and by_prompt.json()["Result"].startswith(prompt)
    greedy = httpx.post(
        f"{base_url}/chat",
        json={"messages": messages, "generate_kwargs": {"do_sample": False, "max_new_tokens": 10}},
        timeout=timeout,
    )
    answer = client.chat.completions.create(model=model, messages=messages, max_tokens=10, temperature=0)  # type: ignore[arg-type]
    assert greedy.json() == {"Result": answer.choices[0].message.content}
