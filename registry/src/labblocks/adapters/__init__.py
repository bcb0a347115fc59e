"""Adapters for external model libraries (`timm/*`, `hf/*`). Each imports its library when built."""
