"""Import paths of labblocks 0.2 keep working in 0.3, each name with a DeprecationWarning that gives its new
path (`labblocks._moved`)."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import warnings

import pytest

from labblocks import _moved

# Every public name of the 0.2 modules that moved (read from the 0.2.0 release's source).
NAMES_0_2 = {
    "labblocks.callbacks": ["LinkingCheckpoint", "PredictionHistograms", "LoaderPosition", "RunMetadata",
                            "ValidationPredictions", "ProgressBar", "RNGState", "SampleTable", "SignalCheckpoint",
                            "TrainingInterrupted", "log_wandb_table", "WatchModel"],
    "labblocks.callbacks.checkpoint": ["FileId", "LinkingCheckpoint"],
    "labblocks.callbacks.histograms": ["PredictionHistograms"],
    "labblocks.callbacks.loader_position": ["LoaderPosition"],
    "labblocks.callbacks.metadata": ["labblocks_modules", "RunMetadata"],
    "labblocks.callbacks.predictions": ["Forward", "inputs_then_target", "ValidationPredictions"],
    "labblocks.callbacks.progress": ["ProgressBar"],
    "labblocks.callbacks.rng": ["RNGState"],
    "labblocks.callbacks.samples": ["SampleTable"],
    "labblocks.callbacks.signals": ["DEFAULT_SIGNALS", "TrainingInterrupted", "SignalCheckpoint"],
    "labblocks.callbacks.watch": ["KINDS", "WatchModel"],
    "labblocks.callbacks.wandb_table": ["is_bound_image", "bind_images", "log_wandb_table"],
    "labblocks.checkpoints": ["REQUIRED_KEYS", "remove_stale_partials", "atomic_torch_save", "atomic_link",
                              "checkpoint_problem", "set_aside", "CheckpointScan", "scan_checkpoints",
                              "resumable_checkpoints", "newest_resumable", "AtomicCheckpointIO"],
    "labblocks.checkpoint_io": ["AtomicCheckpointIO"],
    "labblocks.resume": ["WANDB_ID_FILE", "capture_rng", "restore_rng", "RNG_FORMAT", "gather_rng", "rng_for_rank",
                         "preserved_rng", "last_checkpoint", "wandb_run_id", "git_commit", "config_diff"],
    "labblocks.runlock": ["LOCK_NAME", "RANK_VARIABLES", "RunLockedError", "RunOwner", "is_rank_zero", "RunLock"],
    "labblocks.lr_suggest": ["LRSuggestion", "smooth", "suggest_lr"],
    "labblocks.profiler": ["NullProfiler"],
    "labblocks.export": ["WEIGHTS", "META", "export_module", "load_module"],
    "labblocks.cli": ["build_parser", "main"],
    "labblocks.manifest": ["MANIFEST_PATH", "PACKAGES", "load_manifest", "registering_modules", "generate_manifest",
                           "dumps", "write_manifest"],
    "labblocks.legacy": ["REMOVED"],
    "labblocks.keys": ["KEY_FORM", "Key", "parse_key"],
    "labblocks.schema": ["Schema", "ANY", "from_annotation", "render", "check"],
    "labblocks.catalog": ["source_checkout_catalog", "render_catalog"],
    "labblocks.plugins": ["GROUP", "RESERVED", "Plugin", "entry_points", "discover", "module_file",
                          "annotation_schema"],
}


def test_every_moved_module_is_listed() -> None:
    assert set(NAMES_0_2) == set(_moved.MOVED)


@pytest.mark.parametrize("old", sorted(NAMES_0_2))
def test_every_old_name_is_found_with_a_warning_naming_its_new_path(old: str) -> None:
    module = importlib.import_module(old)
    for name in NAMES_0_2[old]:
        new_module, new_name = _moved.new_path(old, name)  # type: ignore[misc]
        with pytest.warns(DeprecationWarning) as caught:
            value = getattr(module, name)
        assert value is getattr(importlib.import_module(new_module), new_name)
        message = str(caught[0].message)
        assert message.startswith(f"{old}.{name} is deprecated: use {new_module}.{new_name} ")
        assert "goes in 0.7" in message
        assert new_module not in _moved.MOVED  # a real module, not another stand-in


def test_the_imports_a_0_2_project_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    for old in _moved.MOVED:  # fresh stand-ins: a name read before is not read (nor warned about) again
        monkeypatch.delitem(sys.modules, old, raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from labblocks.callbacks import ProgressBar, RNGState
        from labblocks.callbacks.signals import TrainingInterrupted
        from labblocks.checkpoints import AtomicCheckpointIO, scan_checkpoints
        from labblocks.resume import capture_rng, wandb_run_id

        from labblocks.train.callbacks import ProgressBar as NewProgressBar
        from labblocks.train.checkpoints.lightning_io import AtomicCheckpointIO as NewIO
        from labblocks.train.rng import capture_rng as new_capture
    assert ProgressBar is NewProgressBar and AtomicCheckpointIO is NewIO and capture_rng is new_capture
    assert RNGState.__module__ == "labblocks.train.callbacks.rng"
    assert TrainingInterrupted.__module__ == "labblocks.train.callbacks.signals"
    assert scan_checkpoints.__module__ == "labblocks.train.checkpoints.files"
    assert wandb_run_id.__module__ == "labblocks.run.rundir"
    ours = [w for w in caught if "labblocks 0.3" in str(w.message)]
    assert len(ours) == 7 and {w.category for w in ours} == {DeprecationWarning}


def test_a_name_that_never_existed_is_an_attribute_error() -> None:
    import labblocks.resume

    with pytest.raises(AttributeError, match=r"module 'labblocks.resume' has no attribute 'nothing_here'"):
        labblocks.resume.nothing_here  # noqa: B018
    with pytest.raises(ImportError, match="nothing_here"):
        from labblocks.callbacks import nothing_here  # noqa: F401


def test_real_modules_come_before_the_stand_ins() -> None:
    import labblocks.registry

    assert not isinstance(labblocks.registry, _moved.MovedModule)
    assert importlib.util.find_spec("labblocks.registry").origin.endswith("registry/__init__.py")  # type: ignore[union-attr]


def test_warnings_as_errors_name_the_new_path() -> None:
    """What a project's CI with `-W error::DeprecationWarning` shows."""
    code = "from labblocks.callbacks import RNGState"
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 1
    assert "DeprecationWarning: labblocks.callbacks.RNGState is deprecated: use labblocks.train.callbacks.RNGState" \
        in proc.stderr
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
