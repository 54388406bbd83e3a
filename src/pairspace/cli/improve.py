"""pairspace improve: a teacher and its curated students (DU, DS, ADS) over seeds, offline.

Runs the unsupervised-improvement experiment (Wang et al., WASPAA 2023, arXiv 2305.01864) on the
rendered-instrument benchmark: a teacher trained on a minority of the seen instruments' captioned
clips; an unpaired audio pool and an unpaired text pool; the target task is the unseen
instruments. Each student starts from the teacher, mixes curated and replayed batches and trains
with InfoNCE or the soft loss (the frozen teacher's targets); the replay student is the control
for the extra training. Writes the zero-shot table (mean and spread over seeds, beside chance),
the curation statistics and every curated manifest. DS and ADS use the target task's label names.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import add_command, check_out_dir, nonneg_int, positive_int, probability
from .curate import add_threshold_options, thresholds_from

STUDENTS = ("replay", "du", "ds", "ads")
LOSSES = ("infonce", "soft")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "improve", help="teacher and curated students (DU, DS, ADS) over seeds",
                    description=__doc__)
    p.add_argument("--seeds", nargs="+", type=nonneg_int, default=[0, 1, 2], help="training seeds")
    p.add_argument("--methods", nargs="+", choices=STUDENTS, default=list(STUDENTS),
                   help="students to train (replay: no curated pairs, the control)")
    p.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES), help="student losses")
    add_threshold_options(p, ("du", "ds", "ads"))
    p.add_argument("--extra-prob", type=probability, default=0.5,
                   help="probability that a student batch comes from the curated pairs")
    p.add_argument("--epochs", type=positive_int, default=40, help="epochs of the teacher")
    p.add_argument("--student-epochs", type=positive_int, default=20,
                   help="epochs of each student (it starts from the teacher)")
    p.add_argument("--teacher-clips", type=positive_int, default=4,
                   help="captioned clips per seen instrument given to the teacher (of 16)")
    p.add_argument("--test-clips", type=positive_int, default=6,
                   help="clips per unseen instrument in the zero-shot test set (of 16)")
    p.add_argument("--audio-encoder", default=None,
                   help="audio backbone of the instrument benchmark (default: whisper, else logmel)")
    g = p.add_argument_group("your own data (instead of the instrument benchmark)")
    g.add_argument("--audio", default=None, help="audio backbone embedding table")
    g.add_argument("--text", default=None, help="text backbone embedding table")
    g.add_argument("--split", default=None,
                   help="split JSON (teacher_pairs, audio_pool, text_pool, owners, test_audio, "
                   "test_labels, target_classes), the format of the split.json this command writes")
    g.add_argument("--text-encoder", default=None,
                   help="text encoder of the prompts (default: the one recorded in the text table)")
    p.add_argument("--out", default="pairspace-improve", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = check_out_dir(args.out)
    from .._outputs import write_staged
    from ..studies.improve import check_plan

    check_plan(args.seeds, args.methods, args.losses, prefix="--")  # before any training
    from ..report.curation import curation_stats_table, improve_table, write_improve_report
    from ..studies.improve import DEMO_THRESHOLDS, instrument_experiment
    from ._render import table

    if args.teacher_clips + 2 > 16 or args.test_clips + 2 > 16:
        raise ValueError("--teacher-clips and --test-clips must leave at least 2 of the 16 clips "
                         "for the pools")
    thresholds = {**DEMO_THRESHOLDS, **thresholds_from(args, ("du", "ds", "ads"))}
    common = {"seeds": args.seeds, "losses": args.losses, "methods": args.methods,
              "thresholds": thresholds, "extra_prob": args.extra_prob,
              "student_epochs": args.student_epochs, "progress": None, "log": print}
    own = [args.audio, args.text, args.split]
    if any(own):
        if not all(own):
            raise ValueError("your own data needs all of --audio, --text and --split")
        res = _own_data(args, out, common)
    else:
        res = instrument_experiment(out, epochs=args.epochs, teacher_clips=args.teacher_clips,
                                    test_clips=args.test_clips, audio_encoder_name=args.audio_encoder,
                                    **common)
    paths = write_staged(out, lambda folder: write_improve_report(res, folder))  # all at once
    sizes = res.settings["sizes"]
    print(f"\nTarget task: {sizes['target_classes']} unseen instruments, {sizes['test_audio']} clips; "
          f"teacher pairs {sizes['teacher_pairs']}; pools {sizes['audio_pool']} clips / "
          f"{sizes['text_pool']} captions; seeds {res.settings['seeds']}")
    print(table(*improve_table(res), digits=3))
    print("\nCurated sets (DS and ADS use the target task's label names; DU is label-free):")
    print(table(*curation_stats_table(res), digits=3))
    print(f"\nTimings (s): {res.timings}")
    print(f"wrote {paths['json']}, {paths['md']} and the manifests under {out}/seed*/curation/")
    return 0


def _own_data(args: argparse.Namespace, out: Path, common: dict[str, Any]) -> Any:
    """The experiment on the user's tables and split (the audio demo's head configuration)."""

    import torch

    from ..data.table import EmbeddingTable
    from ..encoders import get
    from ..studies.audio_demo import DEMO_CONFIG
    from ..studies.improve import ImproveData, improve_study

    torch.set_num_threads(1)
    split_path = Path(args.split)
    if not split_path.exists():
        raise FileNotFoundError(f"split file not found: {split_path}")
    from dataclasses import fields

    from ..data.textfiles import read_json_object

    lists = tuple(f.name for f in fields(ImproveData) if f.name != "description")
    data = ImproveData.from_dict(read_json_object(split_path, "split file", lists))
    audio, text = EmbeddingTable.load(args.audio), EmbeddingTable.load(args.text)
    enc = args.text_encoder or (text.provenance or {}).get("encoder")
    if not enc:
        raise ValueError("the text table does not record its encoder; pass --text-encoder")
    cfg = type(DEMO_CONFIG)(**{**DEMO_CONFIG.to_dict(), "epochs": args.epochs})
    return improve_study(audio, text, data, get(enc), out, config=cfg, **common)
