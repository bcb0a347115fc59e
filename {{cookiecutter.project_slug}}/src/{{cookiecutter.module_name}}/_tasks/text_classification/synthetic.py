"""The default text data: short reviews whose label needs word order and context.

Each sample is two clauses joined by "but", e.g. "the food was not really good but the service was
great". The label is the sentiment of the clause AFTER "but", and "not" flips the adjective it precedes.
Swapping the clauses, or moving "not" to the other clause, changes the label without changing the
bag of words, so a bag-of-words model stays near chance (measured in benchmarks/) while a model that
reads order can be near perfect. Made with a fixed seed: the same data for every run.
"""

from __future__ import annotations

import random

ASPECTS = (
    "the food",
    "the service",
    "the movie",
    "the plot",
    "the acting",
    "the music",
    "the room",
    "the staff",
    "the price",
    "the screen",
    "the battery",
    "the story",
)
POSITIVE = ("good", "great", "excellent", "wonderful", "pleasant", "superb", "fine", "lovely")
NEGATIVE = ("bad", "awful", "terrible", "poor", "dull", "horrible", "boring", "mediocre")
INTENSIFIERS = ("", "really ", "very ", "quite ", "truly ")
OPENERS = ("", "honestly ", "to be fair ", "overall ", "i think ")
CLASS_NAMES = ["negative", "positive"]


def _clause(rng: random.Random) -> tuple[str, bool]:
    """A clause and whether it is positive after negation."""
    positive_word = rng.random() < 0.5
    negated = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if positive_word else NEGATIVE)
    text = f"{rng.choice(ASPECTS)} was {'not ' if negated else ''}{rng.choice(INTENSIFIERS)}{adjective}"
    return text, positive_word != negated


def label_of(text: str) -> int:
    """The rule, read back from a text: the clause after "but" decides; "not" flips its adjective."""
    words = text.split(" but ", 1)[1].split()
    adjective = words[-1]
    positive = adjective in POSITIVE
    if not positive and adjective not in NEGATIVE:
        raise ValueError(f"not a generated text: {text!r}")
    return int(positive != ("not" in words))


def generate(num_samples: int, seed: int) -> tuple[list[str], list[int]]:
    """`num_samples` texts and labels (0 = negative, 1 = positive), the same for the same seed."""
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(num_samples):
        first, _ = _clause(rng)
        second, positive = _clause(rng)
        texts.append(f"{rng.choice(OPENERS)}{first} but {second}")
        labels.append(int(positive))
    return texts, labels
