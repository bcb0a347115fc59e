"""Known third-party noise on a run's console, silenced narrowly: each filter names the message and the module
it comes from, so every other warning (above all those about the user's own setup) still shows."""

from __future__ import annotations

import logging
import re
import warnings

# (message pattern, module the warning is attributed to): deprecations inside the libraries, nothing to act on
WARNINGS = (
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", r"lightning\.pytorch\.utilities\._pytree"),
)
# (logger, message pattern): Lightning's lines that advertise rather than inform
LOG_LINES = (("lightning.pytorch.utilities.rank_zero", r"💡 Tip: For seamless cloud logging"),)


class _Drop(logging.Filter):
    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = re.compile(pattern)

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.search(record.getMessage())


def silence_known_noise() -> None:
    """Install the filters (idempotent)."""
    for message, module in WARNINGS:
        warnings.filterwarnings("ignore", message=message, module=module)
    for name, pattern in LOG_LINES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _Drop) and f.pattern.pattern == pattern for f in logger.filters):
            logger.addFilter(_Drop(pattern))
