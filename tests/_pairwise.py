"""A small deterministic pairwise (strength-2 covering array) generator for the render tests."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any


def uncovered_pairs(axes: Sequence[Sequence[Any]], rows: Sequence[Sequence[Any]]) -> set[tuple[int, int, int, int]]:
    """(axis i, value index, axis j, value index) for every pair of values of two axes that no row holds."""
    wanted = {(i, a, j, b) for i, j in itertools.combinations(range(len(axes)), 2)
              for a in range(len(axes[i])) for b in range(len(axes[j]))}
    for row in rows:
        index = [axes[k].index(v) for k, v in enumerate(row)]
        wanted -= {(i, index[i], j, index[j]) for i, j in itertools.combinations(range(len(axes)), 2)}
    return wanted


def gain(todo: set[tuple[int, int, int, int]], chosen: dict[int, int], k: int, v: int) -> int:
    """How many uncovered pairs value `v` of axis `k` would cover together with the values chosen so far."""
    return sum(((m, w, k, v) if m < k else (k, v, m, w)) in todo for m, w in chosen.items())


def pairwise(axes: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """Rows (one value per axis) in which every pair of values of every two axes appears at least once.

    Greedy and deterministic: each row starts from the first pair still uncovered and fills the other axes,
    in order, with the value that covers the most uncovered pairs with the values already chosen (the first
    such value on ties). For the template's axes this gives a few rows more than the product of the two
    largest axes, the lower bound.
    """
    todo = uncovered_pairs(axes, [])
    rows: list[tuple[Any, ...]] = []
    while todo:
        i, a, j, b = min(todo)
        chosen: dict[int, int] = {i: a, j: b}
        for k in range(len(axes)):
            if k not in chosen:
                chosen[k] = max(range(len(axes[k])), key=lambda v, k=k: (gain(todo, chosen, k, v), -v))
        index = [chosen[k] for k in range(len(axes))]
        todo -= {(p, index[p], q, index[q]) for p, q in itertools.combinations(range(len(axes)), 2)}
        rows.append(tuple(axes[k][index[k]] for k in range(len(axes))))
    return rows
