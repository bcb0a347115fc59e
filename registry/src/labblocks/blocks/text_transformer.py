"""`core/text_transformer@v1`: a text classifier composed from core blocks.

token_embed -> pos_embed_learned -> depth x transformer_block -> cls_head. Each part is built through
the registry by its pinned key, so it carries its own metadata and, with LABBLOCKS_SHAPE_CHECK=hooks,
its own shape checks: an error names the inner block whose contract broke.
"""

from __future__ import annotations

from typing import Literal

from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/text_transformer@v1",
    summary="Text classifier from core blocks: token + learned position embeddings, pre-norm encoder blocks, "
    "LayerNorm + masked pooling head. Ids (B, T) and mask (B, T) -> logits (B, K).",
    inputs={"input_ids": "b t", "attention_mask": "b t"},
    outputs="b {num_classes}",
    dtypes={"input_ids": "long", "attention_mask": "bool"},
    tags=("text", "transformer", "classification"),
    example={"vocab_size": 100, "num_classes": 3, "dim": 32, "depth": 2, "num_heads": 4, "max_len": 16},
)
class TextTransformer(nn.Module):
    """A small encoder-only Transformer for sequence classification. Padding (mask False, or token id
    `padding_idx`) changes no real token's output: attention skips padded keys and pooling skips them."""

    def __init__(
        self,
        vocab_size: int,
        num_classes: int,
        dim: int = 128,
        depth: int = 2,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        max_len: int = 512,
        dropout: float = 0.1,
        pool: Literal["mean", "max", "first"] = "mean",
        padding_idx: int = 0,
    ):
        super().__init__()
        build = REGISTRY.build
        self.embed = build("core/token_embed@v1", vocab_size=vocab_size, dim=dim, padding_idx=padding_idx)
        self.pos = build("core/pos_embed_learned@v1", max_len=max_len, dim=dim, dropout=dropout)
        block_args = {"dim": dim, "num_heads": num_heads, "mlp_ratio": mlp_ratio, "dropout": dropout}
        self.blocks = nn.ModuleList(build("core/transformer_block@v1", **block_args) for _ in range(depth))
        self.head = build("core/cls_head@v1", in_dim=dim, num_classes=num_classes, pool=pool, dropout=dropout)

    def forward(
        self, input_ids: Int[Tensor, "b t"], attention_mask: Bool[Tensor, "b t"] | None = None
    ) -> Float[Tensor, "b num_classes"]:
        mask = None if attention_mask is None else attention_mask.bool()
        x = self.pos(self.embed(input_ids))  # (B, T) -> (B, T, D)
        for block in self.blocks:
            x = block(x, mask)  # (B, T, D)
        return self.head(x, mask)  # LayerNorm, masked pooling, linear: (B, T, D) -> (B, K)
