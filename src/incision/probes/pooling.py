"""Pool a sequence's token activations into one vector, ignoring padding.

Inputs are padded batches: `acts_BTD` with a boolean `mask_BT` that is True on real tokens. Padded
positions never reach the result, whatever they hold (NaN included). `attention` pooling is learned:
its query lives in the probe, and its weights are a softmax over the real tokens of each sequence.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError, InputError

POOLINGS = ("mean", "max", "last", "attention")


def check_pooling(pooling: str | None) -> str | None:
    if pooling is not None and pooling not in POOLINGS:
        raise ConfigError(f"pooling must be one of {list(POOLINGS)} or None (token-level), got {pooling!r}")
    return pooling


def pool(
    acts_BTD: torch.Tensor,
    mask_BT: torch.Tensor,
    pooling: str,
    attention_logits_BT: torch.Tensor | None = None,
) -> torch.Tensor:
    """[B, D] pooled activations. `attention` needs the attention logits of every token."""
    mask = _check_batch(acts_BTD, mask_BT)
    acts = acts_BTD.masked_fill(~mask[..., None], 0.0)  # NaN-safe: padding is replaced, not multiplied
    if pooling == "mean":
        return acts.sum(1) / mask.sum(1, keepdim=True).to(acts.dtype)
    if pooling == "max":
        return acts_BTD.masked_fill(~mask[..., None], float("-inf")).amax(1)
    if pooling == "last":
        last_B = mask.shape[1] - 1 - mask.flip(1).int().argmax(1)
        return acts_BTD[torch.arange(acts.shape[0]), last_B]
    if pooling == "attention":
        if attention_logits_BT is None:
            raise ConfigError("attention pooling needs the attention logits of each token")
        weights_BT = torch.softmax(attention_logits_BT.masked_fill(~mask, float("-inf")), dim=1)
        return torch.einsum("bt,btd->bd", weights_BT, acts)
    check_pooling(pooling)
    raise ConfigError("token-level probes (pooling=None) score every token; there is nothing to pool")


def pool_segments(rows_ND: torch.Tensor, lengths: list[int], pooling: str) -> torch.Tensor:
    """`pool` over consecutive segments of rows without padding them (documents of very different
    lengths would pad to the longest); attention pooling is learned, so it goes through `pool`."""
    if pooling not in ("mean", "max", "last"):
        check_pooling(pooling)
        raise ConfigError(f"{pooling!r} pooling is learned with the probe; pool padded batches instead")
    lengths_B = torch.tensor(lengths, dtype=torch.long)
    if (lengths_B < 1).any():
        raise InputError(f"sequence {int((lengths_B < 1).nonzero()[0])} has no tokens to pool")
    if int(lengths_B.sum()) != rows_ND.shape[0]:
        raise InputError(
            f"segment lengths sum to {int(lengths_B.sum())}, but there are {rows_ND.shape[0]} rows"
        )
    segment_N = torch.repeat_interleave(torch.arange(len(lengths)), lengths_B)
    if pooling == "last":
        return rows_ND[lengths_B.cumsum(0) - 1]
    out = rows_ND.new_zeros(len(lengths), rows_ND.shape[1])
    index = segment_N[:, None].expand_as(rows_ND)
    if pooling == "max":
        return out.scatter_reduce(0, index, rows_ND, reduce="amax", include_self=False)
    return out.index_add_(0, segment_N, rows_ND) / lengths_B[:, None].to(rows_ND.dtype)


def _check_batch(acts_BTD: torch.Tensor, mask_BT: torch.Tensor) -> torch.Tensor:
    if acts_BTD.ndim != 3 or tuple(mask_BT.shape) != tuple(acts_BTD.shape[:2]):
        raise InputError(
            f"pooling takes activations [B, T, D] and a mask [B, T], got {list(acts_BTD.shape)} "
            f"and {list(mask_BT.shape)}"
        )
    mask = mask_BT.bool()
    empty = (~mask.any(1)).nonzero().flatten()
    if len(empty):
        raise InputError(f"sequence {int(empty[0])} of the batch has no tokens to pool")
    return mask


def pad_segments(rows_ND: torch.Tensor, lengths: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Consecutive segments of `rows_ND` (one per sequence) as a right-padded batch and its mask."""
    if sum(lengths) != rows_ND.shape[0]:
        raise InputError(f"segment lengths sum to {sum(lengths)}, but there are {rows_ND.shape[0]} rows")
    longest = max(lengths, default=0)
    acts = rows_ND.new_zeros(len(lengths), longest, rows_ND.shape[1])
    mask = torch.zeros(len(lengths), longest, dtype=torch.bool)
    lengths_B = torch.tensor(lengths)
    mask[torch.arange(longest)[None, :] < lengths_B[:, None]] = True
    acts[mask] = rows_ND
    return acts, mask
