"""What the callbacks write, in each logger's own form: `media` (rows and 8-bit images), `tables` (W&B tables
with their media in the run folder), `rows` (TensorBoard and CSV), `histograms`, `loggers` (finding one)."""
