"""Test helpers for labblocks blocks and for the Lightning projects that use them.

- `check_contract(key, **args)`: build a block on the meta device and check its declared shapes.
- `labblocks.testing.sanity`: initial loss near ln K, overfit one batch, checkpoint round-trip,
  resume equivalence and seed determinism, for any LightningModule + DataModule.
"""

from __future__ import annotations

from labblocks.testing.contract import check_contract

__all__ = ["check_contract"]
