"""The generic Lightning run kit: `callbacks`, `checkpoints` (atomic writes, checks before a resume, the
Lightning checkpoint IO), `rng` (RNG states), `runlock` (one writer per run directory), `lr_suggest` (a
learning rate from an LR range test), `profiler`, and `logs` (what each logger gets: images, tables, rows,
histograms)."""
