"""pairspace demo: the main study on embedded default data (no downloads)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_command, check_out_dir


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "demo", help="run the main study on the embedded default data",
                    description="The word-analogy study on the embedded GloVe 6B 50d vectors and "
                    "the Google analogy set, or (--audio) the offline audio-text alignment demo. "
                    "Nothing is downloaded.")
    p.add_argument("--out", default="pairspace-demo", help="output folder")
    p.add_argument("--audio", action="store_true",
                   help="run the offline audio-text alignment demo instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_out_dir(args.out)
    if args.audio:
        from ..studies.audio_demo import run as audio_demo

        return audio_demo(args, log=print)
    return run_default(args)


def run_default(args: argparse.Namespace) -> int:
    """The word-analogy study on the embedded GloVe 6B 50d vectors and the Google analogy set."""
    from .analogy import add_study_arguments, run_study

    defaults = argparse.ArgumentParser(add_help=False)
    add_study_arguments(defaults)
    ns = defaults.parse_args([])
    print("Word analogies as paired embedding spaces: per category, do the first words and the "
          "second words have alike kNN graphs, and does that explain analogy accuracy?")
    return run_study(ns, Path(args.out))
