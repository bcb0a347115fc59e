"""`CallbackGroup`: several callbacks that Lightning dispatches as one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lightning.pytorch import Callback

# Every hook of Callback: each takes (trainer, pl_module, ...). state_dict and load_state_dict are handled apart.
HOOKS = tuple(name for name in dir(Callback) if name.startswith("on_") or name in ("setup", "teardown"))


def overrides(callback: Callback, name: str) -> bool:
    """Whether `callback`'s class implements `name` (Callback's own methods do nothing)."""
    return getattr(type(callback), name, None) is not getattr(Callback, name, None)


class CallbackGroup(Callback):
    """The given callbacks, run in their order, as one callback.

    Lightning calls every callback's method for every hook of every step, whether or not the callback does
    anything there, and each call reads the callback's `state_key` and opens a profiler section: a cost per
    callback and hook, several hooks per training step. A group is one callback to Lightning; each of its hooks
    calls only the members that implement that hook. Put callbacks in a group that act seldom (when a
    checkpoint is saved, at the start of training, every N steps); leave out the ones Lightning looks for by
    type (checkpoints, early stopping, the progress bar), and a model summary unless the Trainer is built with
    `enable_model_summary=False` (else Lightning adds its own).

    Checkpoints are the same as with the members on their own: at most one member may keep state
    (`state_dict`), and the group's `state_key` is that member's, so its state is saved and loaded under the
    member's own key and a checkpoint written with the members on their own resumes with the group, and the
    other way round. With the `simple` or `advanced` profiler the members' time shows under that key.
    """

    def __init__(self, callbacks: Sequence[Callback]) -> None:
        self.callbacks = list(callbacks)
        stateful = [c for c in self.callbacks if overrides(c, "state_dict") or overrides(c, "load_state_dict")]
        if len(stateful) > 1:
            names = ", ".join(type(c).__name__ for c in stateful)
            raise ValueError(f"CallbackGroup: one member may keep checkpoint state, not {len(stateful)} ({names})")
        self._stateful = stateful[0] if stateful else None
        names = ",".join(type(c).__qualname__ for c in self.callbacks)
        self._state_key = self._stateful.state_key if self._stateful else f"{type(self).__qualname__}[{names}]"
        # per hook, the members' bound methods that do something there
        self._calls: dict[str, tuple[Callable[..., Any], ...]] = {
            name: tuple(getattr(c, name) for c in self.callbacks if overrides(c, name)) for name in HOOKS
        }

    @property
    def state_key(self) -> str:
        return self._state_key

    def state_dict(self) -> dict[str, Any]:
        return self._stateful.state_dict() if self._stateful else {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self._stateful is not None:
            self._stateful.load_state_dict(state_dict)


def _forward(name: str) -> Callable[..., None]:
    def hook(self: CallbackGroup, *args: Any, **kwargs: Any) -> None:
        for call in self._calls[name]:
            call(*args, **kwargs)

    hook.__name__ = hook.__qualname__ = name
    hook.__doc__ = f"Calls `{name}` of each member that implements it, in order."
    return hook


for _name in HOOKS:
    setattr(CallbackGroup, _name, _forward(_name))
