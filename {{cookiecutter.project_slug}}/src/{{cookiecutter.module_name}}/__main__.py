"""The commands: train, evaluate, export, lr-find, search, submit (`--help` lists them), run by the
console script named after the project (pyproject.toml) or as `python -m {{cookiecutter.module_name}} <command>`.
The table is labblocks' (labblocks.run.cli); this project supplies its config and build functions through
`PROJECT`."""

from __future__ import annotations

import sys

from labblocks.run import cli

from {{cookiecutter.module_name}}.config import PROJECT


def main(argv: list[str] | None = None) -> int:
    return cli.main(PROJECT, argv)


if __name__ == "__main__":
    sys.exit(main())
