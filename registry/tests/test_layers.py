"""labblocks' shape: the import-linter contracts in pyproject.toml hold, no import cycle (imports inside
functions counted), no module-level `__getattr__`, and every module and class short enough to read at once."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REGISTRY_DIR = Path(__file__).resolve().parent.parent
PACKAGE = REGISTRY_DIR / "src" / "labblocks"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under `package` (a folder holding __init__.py)."""
    out = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's own modules that `name` imports anywhere in its file (functions included). `from P import
    x` counts as importing P (the package's `__init__` runs and x is read from it) and, if x is a module, x."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in known and m != name}


def cycles(package: Path) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's algorithm)."""
    mods = modules(package)
    graph = {m: sorted(imports_of(m, p, set(mods))) for m, p in mods.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = [stack.pop()]
            while group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for m in graph:
        if m not in index:
            visit(m)
    return groups


def test_the_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run([str(lint), "--no-cache"], cwd=REGISTRY_DIR, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "4 kept, 0 broken" in proc.stdout, proc.stdout[-2000:]


def test_labblocks_has_no_import_cycle() -> None:
    assert len(modules(PACKAGE)) > 50
    assert cycles(PACKAGE) == []


def test_the_cycle_check_sees_cycles_through_a_package_and_inside_functions(tmp_path: Path) -> None:
    """The shapes labblocks 0.2 had: a package whose __init__ imports a module that reads the package back
    (`from pkg import _helper`), and two modules importing each other, one of them inside a function."""
    files = {
        "pkg/__init__.py": "from pkg.front import Front\n",
        "pkg/front.py": "from pkg import _helper\nFront = 1\n",
        "pkg/_helper.py": "",
        "pkg/io.py": "from pkg.disk import save\n",
        "pkg/disk.py": "def __getattr__(name):\n    from pkg.io import Plugin\n    return Plugin\ndef save(): ...\n",
        "pkg/alone.py": "import pkg.disk\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    assert sorted(cycles(tmp_path / "pkg")) == [["pkg", "pkg.front"], ["pkg.disk", "pkg.io"]]


def test_no_module_level_getattr() -> None:
    """Old import paths are served by `labblocks._moved`, not by a module `__getattr__` in each module."""
    found = [
        name for name, path in modules(PACKAGE).items()
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
    ]
    assert found == []


@pytest.mark.parametrize("name", sorted(modules(PACKAGE)))
def test_modules_and_classes_are_short(name: str) -> None:
    tree_text = modules(PACKAGE)[name].read_text(encoding="utf-8")
    assert len(tree_text.splitlines()) <= MAX_MODULE_LINES, f"{name}: over {MAX_MODULE_LINES} lines"
    for node in ast.walk(ast.parse(tree_text)):
        if isinstance(node, ast.ClassDef):
            size = (node.end_lineno or node.lineno) - node.lineno + 1
            assert size <= MAX_CLASS_LINES, f"{name}.{node.name}: {size} lines (at most {MAX_CLASS_LINES})"



@pytest.mark.multisecond
def test_the_wheel_holds_every_module_and_the_manifest(tmp_path: Path) -> None:
    """What `pip install` gets is the whole source tree (an ignore rule once kept `train/checkpoints/` out)."""
    subprocess.run([sys.executable, "-m", "uv", "build", "--wheel", "--quiet", "-o", str(tmp_path), str(REGISTRY_DIR)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("labblocks-*.whl")
    with zipfile.ZipFile(wheel) as z:
        packed = {n for n in z.namelist() if n.startswith("labblocks/")}
    source = {p.relative_to(PACKAGE.parent).as_posix() for p in PACKAGE.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert packed == source
