"""A tiny randomly initialised Llama-style model with its own tokenizer, built locally (no downloads).

Used by the runtime's tests and benchmarks: small enough to run on two CPU cores, shaped so vLLM's
CPU attention accepts it (head dim 64), with a chat template so chat completions work.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

# The model id tests and benchmarks serve the tiny model under.
TINY_MODEL_NAME = "tiny-llama"

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL_TOKENS = ("<|pad|>", "<|bos|>", "<|eos|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>")

_CORPUS = (
    "Kubernetes is an open source system for automating deployment, scaling and management of "
    "containerized applications. The Kubernetes AI toolchain operator automates model deployment.",
    "A workspace asks for GPU nodes, a preset model and an inference runtime such as vLLM.",
    "The quick brown fox jumps over the lazy dog while the cluster autoscaler adds a node.",
    "Large language models generate text one token at a time; batching keeps the GPU busy.",
    "Low-rank adapters fine-tune a model cheaply: each adapter adds a small update to the weights.",
)


def build_tokenizer(directory: Path, vocab_size: int = 384) -> None:
    """A byte-level BPE tokenizer trained on a few sentences, saved with its chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(_CORPUS) * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<|bos|>", eos_token="<|eos|>", pad_token="<|pad|>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)


def build_tiny_model(directory: Path, *, seed: int = 0, max_position_embeddings: int = 512) -> Path:
    """Tokenizer + 2-layer Llama (hidden 128, 2 heads of 64) with deterministic random weights."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    build_tokenizer(directory)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=max_position_embeddings,
        # Larger than the usual 0.02 so logits are well separated and greedy decoding is
        # robust to the rounding differences between batched and single-request kernels.
        initializer_range=0.2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        dtype="float32",
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.save_pretrained(directory)
    return directory


def build_lora_adapter(
    base: Path,
    directory: Path,
    *,
    rank: int,
    seed: int,
    target_modules: Sequence[str] = ("q_proj", "v_proj", "o_proj"),
) -> Path:
    """A LoRA adapter for ``base`` with random (non-zero) weights, so it visibly changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base)
    config = LoraConfig(r=rank, lora_alpha=2 * rank, target_modules=list(target_modules), lora_dropout=0.0)
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    peft_model.save_pretrained(directory)
    return directory
