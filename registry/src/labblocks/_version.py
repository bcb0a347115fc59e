"""The labblocks release; imports nothing, so that any module can read it."""

__version__ = "0.6.0"
