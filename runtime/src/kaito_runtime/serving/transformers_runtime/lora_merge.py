"""Apply the mounted LoRA adapters as one adapter weighted by their strengths, merged into the weights."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from transformers import PreTrainedModel

from kaito_runtime.errors import StartupError
from kaito_runtime.serving.adapters import Adapter

logger = logging.getLogger(__name__)

COMBINED_ADAPTER = "kaito-combined"


def apply_adapters(
    model: PreTrainedModel, adapters: Sequence[Adapter], strengths: Mapping[str, float]
) -> PreTrainedModel:
    """Σ strength·ΔW over the adapters, folded into the base weights.

    The "cat" combination keeps every adapter's low-rank factors side by side, so the combined
    update is exactly the strength-weighted sum; merging it afterwards makes inference as fast
    as the base model and keeps the batching engine's plain model.
    """
    if not adapters:
        return model
    from peft import PeftModel

    try:
        first, *rest = adapters
        peft_model = PeftModel.from_pretrained(model, str(first.path), adapter_name=first.name)
        for adapter in rest:
            peft_model.load_adapter(str(adapter.path), adapter_name=adapter.name)
        names = [adapter.name for adapter in adapters]
        peft_model.add_weighted_adapter(
            names, [strengths[name] for name in names], adapter_name=COMBINED_ADAPTER, combination_type="cat"
        )
        peft_model.set_adapter(COMBINED_ADAPTER)
        for name in names:
            peft_model.delete_adapter(name)
        merged: PreTrainedModel = peft_model.merge_and_unload()
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise StartupError(
            f"cannot apply LoRA adapters {', '.join(a.name for a in adapters)}: {error}"
        ) from None
    logger.info(
        "applied LoRA adapters: %s",
        ", ".join(f"{adapter.name} (strength {strengths[adapter.name]})" for adapter in adapters),
    )
    return merged
