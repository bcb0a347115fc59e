"""The `labblocks` command: list, show, catalog, manifest, archs. Reads the manifest; imports no torch.

`archs` and `show --name` describe what timm and transformers offer, so they import them
(`labblocks.tools.archs_timm`, `labblocks.tools.archs_hf`), and only when they run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from labblocks.errors import LabblocksError
from labblocks.registry import REGISTRY
from labblocks.registry.sources import MANIFEST_PATH
from labblocks.tools.catalog import render_catalog, source_checkout_catalog
from labblocks.tools.manifest import dumps, generate_manifest, write_manifest


def _cmd_list(args: argparse.Namespace) -> int:
    keys = REGISTRY.list(args.pattern, args.tag)
    if args.json:
        print(json.dumps(keys))
        return 0
    if not keys:
        tags = f" with tags {args.tag}" if args.tag else ""
        print(f"no keys match {args.pattern!r}{tags}", file=sys.stderr)
        return 1
    width = max(len(k) for k in keys)
    records = REGISTRY.sources.records()
    for k in keys:
        flag = " [deprecated]" if records[k].deprecated else ""
        print(f"{k:<{width}}  {records[k].summary}{flag}")
    return 0


ARCHS = {"timm": "labblocks.tools.archs_timm", "hf": "labblocks.tools.archs_hf"}  # imported when they run
NAMED = {"timm/model@v1": "timm", "hf/model@v1": "hf"}  # keys whose --name describes one architecture


def _cmd_show(args: argparse.Namespace) -> int:
    info = REGISTRY.describe(args.key)
    if args.name:
        if info.key not in NAMED:
            raise LabblocksError(f"--name is for {' and '.join(NAMED)}, not {info.key}")
        print(importlib.import_module(ARCHS[NAMED[info.key]]).describe(args.name))
        return 0
    print(json.dumps(asdict(info), indent=2) if args.json else info)
    return 0


def _cmd_archs(args: argparse.Namespace) -> int:
    """Print the rows as they come: a long timm listing builds each architecture on the meta device."""
    found = False
    for row in importlib.import_module(ARCHS[args.library]).rows(args.pattern, args.pretrained):
        found = True
        print(row, flush=True)
    if not found:
        which = "pretrained " if args.pretrained else ""
        print(f"no {which}{args.library} names match {args.pattern!r}", file=sys.stderr)
    return 0 if found else 1


def _cmd_catalog(args: argparse.Namespace) -> int:
    out = Path(args.output) if args.output else source_checkout_catalog()
    if out is None:
        print("labblocks catalog: not running from a source checkout; pass --output PATH", file=sys.stderr)
        return 2
    text = render_catalog()
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out} is stale; run `labblocks catalog` and commit it", file=sys.stderr)
            return 1
        print(f"{out} is up to date")
        return 0
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0


def _cmd_manifest(args: argparse.Namespace) -> int:
    if args.write:
        print(f"wrote {write_manifest()}")
        return 0
    fresh = dumps(generate_manifest())
    if MANIFEST_PATH.read_text(encoding="utf-8") != fresh:
        print(f"{MANIFEST_PATH} is stale; run `labblocks manifest --write`", file=sys.stderr)
        return 1
    print(f"{MANIFEST_PATH} matches the registered code")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="labblocks", description="Browse the labblocks block registry.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="list keys (wildcards allowed: 'core/*', '*/resnet', 'core/mlp@v*')")
    p.add_argument("pattern", nargs="?", default="*")
    p.add_argument("--tag", action="append", help="only keys with this tag (repeatable)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("show", help="show one key: signature, shapes, versions, source")
    p.add_argument("key")
    p.add_argument("--json", action="store_true")
    p.add_argument("--name", help="timm/model@v1: an architecture (arch or arch.tag); hf/model@v1: a model type, "
                   "a pretrained directory or a cached hub name")
    p.set_defaults(func=_cmd_show)
    p = sub.add_parser("archs", help="list the architectures timm/model@v1 (timm) or hf/model@v1 (hf) accepts")
    p.add_argument("library", choices=tuple(ARCHS))
    p.add_argument("pattern", nargs="?", default="*", help="wildcards, e.g. 'convnext*'")
    p.add_argument("--pretrained", action="store_true",
                   help="timm: only names with pretrained weights (arch.tag); hf: the models in the local HF cache")
    p.set_defaults(func=_cmd_archs)
    p = sub.add_parser("catalog", help="write registry/CATALOG.md (or --output)")
    p.add_argument("--output", help="where to write (default: CATALOG.md of the source checkout)")
    p.add_argument("--check", action="store_true", help="exit 1 if the file is not up to date")
    p.set_defaults(func=_cmd_catalog)
    p = sub.add_parser(
        "manifest", help="check (or --write) manifest.json against the code (imports everything)"
    )
    p.add_argument("--write", action="store_true")
    p.set_defaults(func=_cmd_manifest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except LabblocksError as e:
        print(f"labblocks {args.command}: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `labblocks list | head`: the reader has stopped, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
