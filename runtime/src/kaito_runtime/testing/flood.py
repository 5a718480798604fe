"""Send many completions at once, for tests of the admission guard on either runtime."""

from __future__ import annotations

import asyncio

import openai

Outcome = int | dict[str, object]  # 200, or the body of a 429


async def flood_completions(
    base_url: str, model: str, prompt: str, count: int, timeout: float
) -> list[Outcome]:
    """``count`` concurrent long completions; each outcome is 200 or the rate-limit error's body."""
    async with openai.AsyncOpenAI(
        base_url=f"{base_url}/v1", api_key="x", max_retries=0, timeout=timeout
    ) as client:

        async def one() -> Outcome:
            try:
                await client.completions.create(
                    model=model, prompt=prompt, max_tokens=200, temperature=0, extra_body={"ignore_eos": True}
                )
                return 200
            except openai.RateLimitError as error:
                assert isinstance(error.body, dict)
                return error.body

        return list(await asyncio.gather(*(one() for _ in range(count))))
