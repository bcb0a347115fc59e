"""Fixtures and settings shared by the template tests (the helpers themselves live in _helpers.py).

Hypothesis profiles: `dev` (the default) runs 100 examples per property, sized for a local `make test`;
`ci` runs 500 (`.ci/run` selects it with HYPOTHESIS_PROFILE=ci).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "dev", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile("ci", parent=settings.get_profile("dev"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="session", autouse=True)
def isolated_cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point cookiecutter (API and CLI subprocesses) at a private user config, so that no ~/.cookiecutterrc
    changes the defaults and replay files land in a temporary folder instead of the home directory."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f'cookiecutters_dir: "{home / "cookiecutters"}"\nreplay_dir: "{home / "replay"}"\n', encoding="utf-8"
    )
    old = os.environ.get("COOKIECUTTER_CONFIG")
    os.environ["COOKIECUTTER_CONFIG"] = str(config)
    yield home
    if old is None:
        os.environ.pop("COOKIECUTTER_CONFIG", None)
    else:
        os.environ["COOKIECUTTER_CONFIG"] = old


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests (the full bakes) first, so that under pytest-xdist the longest group starts at once."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
