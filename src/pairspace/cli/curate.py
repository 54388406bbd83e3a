"""pairspace curate: pseudo-pairs from unpaired audio and text, scored in a trained teacher's space.

Methods (Wang et al., WASPAA 2023, arXiv 2305.01864): du (label-free: pool pairs with cosine at
least tau, or each clip's top-k texts); ds (captions close to a "this is a sound of LABEL" prompt
of the target classes, with their own audio); ads (pool audio against the DS captions); a2a (pool
clips whose best cosine to a target-task clip reaches tau, each with its top-5 DS captions;
transductive). ds, ads and a2a use the target task's label names, and every output says so.
Thresholds are numbers or quantiles of the pool's similarities written q0.99; the published
thresholds are in the MS-CLAP space, so in another space prefer quantiles and read the sweep of
pairs kept per threshold.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..studies.curation_names import CURATION_METHODS, PRESETS
from ._common import add_command, check_out_dir, emit, positive_int
from ._render import table

METHODS = CURATION_METHODS
PRESET_NAMES = tuple(PRESETS)



def threshold(text: str) -> float | str:
    """A cosine threshold in [-1, 1], or a quantile written q0.99 (an argparse type)."""
    s = text.strip().lower()
    try:
        if s.startswith("q"):
            q = float(s[1:])
            if not 0.0 <= q <= 1.0:
                raise argparse.ArgumentTypeError(f"a quantile threshold must lie in q0..q1, got {text!r}")
            return s
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a cosine in [-1, 1] or a quantile like q0.99, "
                                         f"got {text!r}") from None
    if not -1.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"a cosine threshold must lie in [-1, 1], got {text!r}")
    return v


def add_threshold_options(p: argparse.ArgumentParser, methods: tuple[str, ...] = METHODS) -> None:
    """The --preset and --tau-METHOD options shared by curate and improve."""
    p.add_argument("--preset", choices=PRESET_NAMES, default=None,
                   help="published thresholds of a target task (MS-CLAP space); --tau-* override them")
    for m in methods:
        p.add_argument(f"--tau-{m}", type=threshold, default=None,
                       help=f"{m} threshold: a cosine or a quantile like q0.99 (default: the preset, "
                       "else the published ESC-50 value)")


def thresholds_from(args: argparse.Namespace, methods: tuple[str, ...] = METHODS) -> dict[str, float | str]:
    """The thresholds of the preset, overridden by every --tau-METHOD given."""
    thr: dict[str, float | str] = dict(PRESETS[args.preset]) if args.preset else {}
    for m in methods:
        v = getattr(args, f"tau_{m}", None)
        if v is not None:
            thr[m] = v
    return thr


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "curate", help="curate pseudo-pairs from unpaired audio and text with a teacher",
                    description=__doc__, produces_result=True)
    p.add_argument("--teacher", required=True, help="teacher run folder written by pairspace train")
    p.add_argument("--audio", required=True, help="unpaired audio pool (backbone embedding table)")
    p.add_argument("--text", required=True, help="text pool (backbone embedding table of captions)")
    p.add_argument("--method", nargs="+", choices=METHODS, default=["du"], help="curation methods")
    p.add_argument("--classes", default=None,
                   help="target task's class names (file, one per line, or a shipped list); ds, ads, a2a")
    add_threshold_options(p)
    p.add_argument("--top-k", type=positive_int, default=None,
                   help="du keeps each clip's top-k texts instead of a threshold")
    p.add_argument("--caption-pairs", default=None,
                   help="pair manifest (audio_id, text_id) naming each caption's own clip (ds, a2a); "
                   "default: the text table's audio_id column")
    p.add_argument("--target-audio", default=None,
                   help="the target task's audio table (a2a only; transductive)")
    p.add_argument("--a2a-top-k", type=positive_int, default=5,
                   help="DS captions paired with each clip a2a keeps")
    p.add_argument("--text-encoder", default=None,
                   help="text encoder of the prompts (default: the one recorded with the teacher run)")
    p.add_argument("--sweep", nargs="*", type=threshold, default=None,
                   help="thresholds at which to count kept pairs (default: a grid and q0.9 q0.99 q0.999)")
    p.add_argument("--out", required=True,
                   help="output folder (METHOD.csv + METHOD.json, curation.json, sweep.png, report.html)")
    p.set_defaults(func=run)


def render(res: Any) -> str:
    """The curated sets as a table, what the columns mean and which methods use the target task."""
    from ..report.curation import stats_table

    doc = res.to_dict()
    h, rows = stats_table(doc)
    lines = [table(h[:-1], [r[:-1] for r in rows], digits=3),
             "precision: clip and caption share their true label (tables with labels); target "
             "precision: the caption's label is a target class",
             "pairs kept per threshold: report.html (figure and table)"]
    lines += [f"note: {s['method']} uses {s['target_use']}; it is not label-free for this task"
              for s in doc["results"]["stats"] if s["uses_target_labels"]]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = check_out_dir(args.out)
    from pathlib import Path

    from .._outputs import write_staged
    from ..report.curation import write_curation
    from ..studies.curation import DEFAULT_SWEEP
    from ..studies.curation_run import curate_files

    res = curate_files(args.teacher, args.audio, args.text, args.method, classes=args.classes,
                       caption_pairs=args.caption_pairs, target_audio=args.target_audio,
                       text_encoder=args.text_encoder, thresholds=thresholds_from(args),
                       top_k=args.top_k, a2a_top_k=args.a2a_top_k,
                       sweep=DEFAULT_SWEEP if args.sweep is None else args.sweep,
                       progress=args.progress)  # memory budget: the common --memory-budget
    written: dict[str, Path] = {}

    def write_all(folder: Path) -> None:  # every file or none (pairspace._outputs.write_staged)
        written.update(write_curation(res, folder))

    write_staged(out, write_all)
    return emit(args, res, render, {k: out / Path(p).name for k, p in written.items()})
