"""`core/causal_lm@v1`: a decoder-only Transformer language model composed from core blocks.

token_embed -> pos_embed_learned -> depth x causal_block -> LayerNorm -> a head that shares the token
embedding's weights (tied, as in GPT-2). Each part is built through the registry by its pinned key.
"""

from __future__ import annotations

from jaxtyping import Bool, Float, Int
from torch import Tensor, nn

from labblocks.registry import REGISTRY


@REGISTRY.register(
    "core/causal_lm@v1",
    summary="Decoder-only language model from core blocks: token + learned position embeddings, pre-norm causal "
    "blocks (SDPA), LayerNorm, tied output head. Ids (B, T) -> next-token logits (B, T, vocab_size).",
    inputs={"input_ids": "b t", "attention_mask": "b t"},
    outputs="b t {vocab_size}",
    dtypes={"input_ids": "long", "attention_mask": "bool"},
    tags=("text", "transformer", "causal", "language-model"),
    example={"vocab_size": 100, "dim": 32, "depth": 2, "num_heads": 4, "max_len": 16},
)
class CausalLM(nn.Module):
    """Logits at position i predict token i + 1 and depend on tokens 0..i only. With `tie_weights` the output
    projection is the token embedding (its rows are the vocabulary), so the head adds no parameters.

    `max_len` is the longest sequence (the position table); the embedding's std-0.02 init keeps the first
    logits near zero, so the initial loss is close to ln(vocab_size).
    """

    def __init__(
        self,
        vocab_size: int,
        dim: int = 128,
        depth: int = 4,
        num_heads: int = 4,
        mlp_ratio: float = 4.0,
        max_len: int = 256,
        dropout: float = 0.0,
        tie_weights: bool = True,
    ):
        super().__init__()
        build = REGISTRY.build
        self.embed = build("core/token_embed@v1", vocab_size=vocab_size, dim=dim, padding_idx=None)
        self.pos = build("core/pos_embed_learned@v1", max_len=max_len, dim=dim, dropout=dropout)
        block_args = {"dim": dim, "num_heads": num_heads, "mlp_ratio": mlp_ratio, "dropout": dropout}
        self.blocks = nn.ModuleList(build("core/causal_block@v1", **block_args) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab_size, bias=False)
        if tie_weights:
            self.head.weight = self.embed.embed.weight  # (V, D): one table for reading and writing tokens
        else:
            nn.init.normal_(self.head.weight, std=0.02)

    def forward(
        self, input_ids: Int[Tensor, "b t"], attention_mask: Bool[Tensor, "b t"] | None = None
    ) -> Float[Tensor, "b t vocab_size"]:
        mask = None if attention_mask is None else attention_mask.bool()
        x = self.pos(self.embed(input_ids))  # (B, T) -> (B, T, D)
        for block in self.blocks:
            x = block(x, mask)  # (B, T, D), causal
        return self.head(self.norm(x))  # (B, T, D) -> (B, T, V)
