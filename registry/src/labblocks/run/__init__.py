"""What a run leaves behind: `rundir` (a run directory's checkpoint, W&B run id, git commit, config changes)
and `export` (a built network as CPU safetensors plus the metadata that rebuilds it)."""
