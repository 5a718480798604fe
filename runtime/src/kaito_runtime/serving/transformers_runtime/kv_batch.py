"""The running batch's KV cache: rows left-padded to one length, so requests can join and leave.

Each row keeps its own positions (``position_ids``) and an attention mask that hides its left
padding, so a request's logits are those it would get alone. Joining needs plain full-attention
cache layers (``DynamicLayer``); with other layer kinds (sliding windows, recurrent state) new
requests join only when the batch is empty.
"""

from __future__ import annotations

import torch
import torch.nn.functional as functional
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer


def _left_pad(tensor: torch.Tensor, length: int) -> torch.Tensor:
    """Pad the sequence dimension (-2 of keys/values, -1 of masks) on the left to ``length``."""
    dim = -2 if tensor.dim() == 4 else -1
    missing = length - tensor.shape[dim]
    if missing == 0:
        return tensor
    padding = (0, 0, missing, 0) if dim == -2 else (missing, 0)
    return functional.pad(tensor, padding)


class KVBatch:
    """Cache and attention mask of the rows being decoded."""

    def __init__(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        self.cache = cache
        self.mask = mask  # [rows, cached length], 1 = real token, 0 = left padding
        self._padded: bool | None = None

    @property
    def padded(self) -> bool:
        """Whether any row has left padding; without any, the model needs no attention mask."""
        if self._padded is None:
            self._padded = bool((self.mask == 0).any())
        return self._padded

    @property
    def rows(self) -> int:
        return int(self.mask.shape[0])

    @property
    def joinable(self) -> bool:
        """Whether rows can be merged into and dropped from this cache at any step."""
        return all(type(layer) is DynamicLayer for layer in self.cache.layers)

    def positions(self) -> torch.Tensor:
        """Position of each row's next token: its count of real tokens so far, as [rows, 1]."""
        return self.mask.sum(dim=1, keepdim=True) - 1

    def grow(self) -> torch.Tensor:
        """Extend the mask by the token being decoded now and return it."""
        self.mask = torch.cat([self.mask, self.mask.new_ones((self.rows, 1))], dim=1)
        return self.mask

    def join(self, other: KVBatch) -> None:
        """Append ``other``'s rows after this batch's, left-padding the shorter side."""
        length = max(self.mask.shape[1], other.mask.shape[1])
        for mine, theirs in zip(self.cache.layers, other.cache.layers, strict=True):
            assert isinstance(mine, DynamicLayer) and isinstance(theirs, DynamicLayer)
            mine.keys = torch.cat([_left_pad(mine.keys, length), _left_pad(theirs.keys, length)], dim=0)
            mine.values = torch.cat([_left_pad(mine.values, length), _left_pad(theirs.values, length)], dim=0)
        self.mask = torch.cat([_left_pad(self.mask, length), _left_pad(other.mask, length)], dim=0)
        self._padded = None

    def keep(self, rows: list[int]) -> None:
        """Keep only ``rows`` (in that order) and drop padding columns no remaining row needs."""
        index = torch.tensor(rows, device=self.mask.device, dtype=torch.long)
        self.cache.batch_select_indices(index)
        self.mask = self.mask.index_select(0, index)
        self._padded = None
        if not self.joinable:
            return
        used = torch.nonzero(self.mask.any(dim=0))
        first = int(used[0].item()) if used.numel() else 0
        if first > 0:
            self.mask = self.mask[:, first:]
            for layer in self.cache.layers:
                assert isinstance(layer, DynamicLayer)
                layer.keys = layer.keys[..., first:, :]
                layer.values = layer.values[..., first:, :]
