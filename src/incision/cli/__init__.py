"""The `incision` command: one subcommand per job. Only this package talks to the terminal."""

from __future__ import annotations

import argparse
import logging
import sys

from ..errors import IncisionError
from . import commands, compare, demo, grok, pii, probe, sae, serve, steer


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="incision", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)
    for register in (
        commands.add_capture,
        commands.add_models,
        probe.add_probe,
        sae.add_sae,
        compare.add_compare,
        steer.add_steer,
        pii.add_pii,
        serve.add_serve,
        grok.add_grok,
        demo.add_demo,
    ):
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        return args.run(args) or 0
    except IncisionError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to resume", file=sys.stderr)
        return 130
