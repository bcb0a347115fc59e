"""labblocks' own blocks (`core/*`). Each module registers its blocks when imported."""
