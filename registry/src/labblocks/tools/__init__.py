"""Tools around the registry: the `labblocks` command (`cli`), the Markdown catalog (`catalog`), the manifest
writer and checker (`manifest`) and the tombstones of removed keys (`legacy`)."""
