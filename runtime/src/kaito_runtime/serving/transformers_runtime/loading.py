"""Load tokenizer, weights, adapters and the chat template for the transformers runtime."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from kaito_runtime.errors import StartupError, UsageError
from kaito_runtime.serving.adapters import Adapter
from kaito_runtime.serving.transformers_runtime.chat_template import resolve_chat_template
from kaito_runtime.serving.transformers_runtime.lora_merge import apply_adapters
from kaito_runtime.serving.transformers_runtime.options import TransformersOptions

logger = logging.getLogger(__name__)

_CONTEXT_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length")
_SAMPLING_DEFAULT_KEYS = ("temperature", "top_p", "top_k", "repetition_penalty")
_FALLBACK_CONTEXT = 2048


@dataclass(frozen=True)
class LoadedModel:
    """Everything the engine and the API handlers need to know about the model."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    device: torch.device
    max_model_len: int
    eos_token_ids: frozenset[int]
    pad_token_id: int
    chat_template: str | None
    sampling_defaults: Mapping[str, float]
    supports_logits_to_keep: bool


def _device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available")
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def _model_context(model: PreTrainedModel) -> int | None:
    config = model.config.get_text_config()
    for key in _CONTEXT_KEYS:
        value = getattr(config, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _max_model_len(model: PreTrainedModel, requested: int | None) -> int:
    limit = _model_context(model)
    if requested is None:
        return limit or _FALLBACK_CONTEXT
    if limit is not None and requested > limit:
        raise UsageError(f"--max-model-len {requested} exceeds the model's context length of {limit}")
    return requested


def _eos_ids(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> frozenset[int]:
    ids: set[int] = set()
    configured = model.generation_config.eos_token_id if model.generation_config is not None else None
    if isinstance(configured, int):
        ids.add(configured)
    elif isinstance(configured, list):
        ids.update(configured)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return frozenset(ids)


def _sampling_defaults(model: PreTrainedModel) -> dict[str, float]:
    """Sampling settings the checkpoint's generation_config.json sets explicitly (as vLLM applies them)."""
    if model.generation_config is None:
        return {}
    explicit = model.generation_config.to_diff_dict()
    return {key: float(explicit[key]) for key in _SAMPLING_DEFAULT_KEYS if explicit.get(key) is not None}


def load_model(
    source: str,
    revision: str | None,
    options: TransformersOptions,
    adapters: Sequence[Adapter],
    strengths: Mapping[str, float],
) -> LoadedModel:
    """Load everything, or raise :class:`StartupError` naming what could not be loaded."""
    chat_template = resolve_chat_template(options.chat_template)
    device = _device(options.device)
    dtype: str | torch.dtype = "auto" if options.dtype == "auto" else getattr(torch, options.dtype)
    common = {"revision": revision, "trust_remote_code": options.trust_remote_code}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **common)
        model = AutoModelForCausalLM.from_pretrained(
            source, dtype=dtype, device_map="auto" if device.type == "cuda" else None, **common
        )
    except (OSError, ValueError, ImportError) as error:
        raise StartupError(f"--model {source}: cannot load the model: {error}") from None
    model = apply_adapters(model, adapters, strengths)
    if device.type == "cpu":
        model = model.to(device)
    model.eval()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    loaded = LoadedModel(
        model=model,
        tokenizer=tokenizer,
        device=model.device,
        max_model_len=_max_model_len(model, options.max_model_len),
        eos_token_ids=_eos_ids(model, tokenizer),
        pad_token_id=int(pad) if pad is not None else 0,
        chat_template=chat_template or tokenizer.chat_template,
        sampling_defaults=_sampling_defaults(model),
        supports_logits_to_keep="logits_to_keep" in inspect.signature(model.forward).parameters,
    )
    logger.info(
        "loaded %s on %s (dtype %s, context %d tokens)",
        source,
        loaded.device,
        model.dtype,
        loaded.max_model_len,
    )
    return loaded
