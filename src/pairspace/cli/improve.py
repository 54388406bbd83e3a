"""pairspace improve: a teacher and its curated students (DU, DS, ADS, a2a) over seeds, offline.

Runs the unsupervised-improvement experiment (Wang et al., WASPAA 2023, arXiv 2305.01864) on the
rendered-instrument benchmark; the target task is the unseen instruments. Settings: "paper" (the
paper's design: the teacher's captioned set covers the target instruments loosely; DS = the
teacher's own pairs nearest the target prompts; ADS = DS captions x the unpaired audio pool; DU =
unpaired audio x unpaired text; a2a = pool clips near the target task's audio x their 5 nearest DS
captions, transductive) and "strict" (the teacher never sees a target instrument). Every seed
draws its own split and training. Thresholds are fixed on the teacher's held-out seen classes
(never the test clips); the sweep of pairs kept per threshold is reported, never used to choose.
Each student starts from the teacher, mixes curated and replayed batches and trains with InfoNCE
or the soft loss; the replay student is the control. Every comparison (student vs teacher, soft vs
InfoNCE, method vs replay) is paired per clip and seed: a bootstrap interval over seeds and clips
and a sign-flip (stratified McNemar) p-value. Writes improve.json, report.html, report.md, the
figure, the splits and every curated manifest.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..studies.curation_names import AUDIO_ENCODERS, CURATION_METHODS, LOSSES, SETTINGS, STUDENT_METHODS
from ._common import add_command, check_out_dir, nonneg_int, positive_int, probability
from .curate import threshold


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "improve", help="teacher and curated students (DU, DS, ADS, a2a) over seeds",
                    description=__doc__, produces_result=True)
    p.add_argument("--setting", nargs="+", choices=list(SETTINGS), default=list(SETTINGS),
                   help="experiment settings to run (default: %(default)s)")
    p.add_argument("--seeds", nargs="+", type=nonneg_int, default=[0, 1, 2],
                   help="seeds, each with its own split and training (default: %(default)s)")
    p.add_argument("--methods", nargs="+", choices=STUDENT_METHODS, default=list(STUDENT_METHODS),
                   help="students to train; replay (no curated pairs) is the control "
                   "(default: %(default)s)")
    p.add_argument("--losses", nargs="+", choices=LOSSES, default=list(LOSSES),
                   help="student losses (default: %(default)s)")
    for m in CURATION_METHODS:
        p.add_argument(f"--tau-{m}", type=threshold, default=None,
                       help=f"{m} threshold, a cosine or a quantile like q0.99, replacing the rule's "
                       "(default: the rule, fixed on the teacher's held-out seen classes)")
    p.add_argument("--a2a-top-k", type=positive_int, default=5,
                   help="DS captions paired with each clip a2a keeps (default: %(default)s)")
    p.add_argument("--extra-prob", type=probability, default=0.5,
                   help="probability that a student batch comes from the curated pairs "
                   "(default: %(default)s)")
    p.add_argument("--epochs", type=positive_int, default=40,
                   help="epochs of the teacher (default: %(default)s)")
    p.add_argument("--student-epochs", type=positive_int, default=20,
                   help="epochs of each student, which starts from the teacher (default: %(default)s)")
    p.add_argument("--teacher-clips", type=positive_int, default=4,
                   help="captioned clips per seen instrument given to the teacher, of 16 "
                   "(default: %(default)s)")
    p.add_argument("--target-teacher-clips", type=nonneg_int, default=2,
                   help="captioned clips per target instrument given to the teacher in the paper "
                   "setting, of 16 (default: %(default)s)")
    p.add_argument("--test-clips", type=positive_int, default=6,
                   help="clips per target instrument in the zero-shot test set, of 16 (default: %(default)s)")
    p.add_argument("--audio-encoder", nargs="+", choices=AUDIO_ENCODERS, default=None,
                   help="audio backbones, one run each (default: whisper, i.e. Whisper tiny.en, "
                   "else logmel when it cannot be loaded)")
    g = p.add_argument_group("your own data (instead of the instrument benchmark)")
    g.add_argument("--audio", default=None, help="audio backbone embedding table (labeled: the teacher's "
                   "held-out classes fix the thresholds)")
    g.add_argument("--text", default=None, help="text backbone embedding table")
    g.add_argument("--split", default=None,
                   help="split JSON (teacher_pairs, audio_pool, text_pool, owners, test_audio, test_labels, "
                   "target_classes), the format of the split files this command writes; one split for "
                   "every seed, so the seeds vary the training only")
    g.add_argument("--text-encoder", default=None,
                   help="text encoder of the prompts (default: the one recorded in the text table)")
    p.add_argument("--out", default="pairspace-improve",
                   help="output folder of improve.json, the figure and the reports (default: %(default)s)")
    p.add_argument("--runs", default=None,
                   help="folder of the training runs, the splits and the curated manifests "
                   "(default: the --out folder)")
    p.set_defaults(func=run, other_outputs=("runs",))  # --runs is written, not read


def _check(args: argparse.Namespace) -> None:
    for name in ("seeds", "methods", "losses", "setting", "audio_encoder"):
        vals = getattr(args, name) or []
        dup = sorted({str(v) for v in vals if vals.count(v) > 1})
        if dup:
            raise ValueError(f"--{name.replace('_', '-')} {' '.join(dup)} given more than once; "
                             "give each once")
    if args.teacher_clips + 2 > 16 or args.test_clips + args.target_teacher_clips + 2 > 16:
        raise ValueError("--teacher-clips, and --test-clips plus --target-teacher-clips, must leave at "
                         "least 2 of the 16 clips of an instrument for the pools")


def run(args: argparse.Namespace) -> int:
    _check(args)
    out = check_out_dir(args.out)
    work = check_out_dir(args.runs) if args.runs else out
    from .._progress import log_info as say  # stderr through logging (nothing with -q)
    from ..report.improve import write_improve_report
    from ..studies.improve import ImproveReport, instrument_experiment
    from ._common import emit

    progress = False if args.quiet or args.json else args.progress
    thresholds = {m: getattr(args, f"tau_{m}") for m in CURATION_METHODS
                  if getattr(args, f"tau_{m}") is not None}
    own = [args.audio, args.text, args.split]
    results = []
    if any(own):
        if not all(own):
            raise ValueError("your own data needs all of --audio, --text and --split")
        from ..studies.improve_files import improve_files

        results.append(improve_files(
            args.audio, args.text, args.split, work, text_encoder=args.text_encoder,
            epochs=args.epochs, seeds=args.seeds, thresholds=thresholds, progress=progress, log=say,
            losses=args.losses, methods=args.methods, extra_prob=args.extra_prob,
            a2a_top_k=args.a2a_top_k, student_epochs=args.student_epochs))
    for enc in [] if any(own) else args.audio_encoder or [None]:
        for setting in args.setting:
            name = f"{setting}-{enc or 'default'}"
            say(f"== setting {setting}, audio encoder {enc or 'whisper (default)'}")
            results.append(instrument_experiment(
                work / name, setting=setting, seeds=args.seeds, losses=args.losses, methods=args.methods,
                thresholds=thresholds, extra_prob=args.extra_prob, a2a_top_k=args.a2a_top_k,
                epochs=args.epochs, student_epochs=args.student_epochs, teacher_clips=args.teacher_clips,
                target_teacher_clips=args.target_teacher_clips, test_clips=args.test_clips,
                audio_encoder_name=enc, progress=progress, log=say))
    report = ImproveReport.new(results)
    doc = report.to_dict()
    from .._outputs import write_staged

    # the report files all at once (pairspace._outputs); runs and splits stay in their folders
    paths = write_staged(out, lambda folder: write_improve_report(doc, results, folder))
    return emit(args, report, lambda r: _render(doc), paths)


def _render(doc: dict[str, Any]) -> str:
    from ..report.improve import comparison_table, curation_stats_table, improve_table, verdicts
    from ._render import table

    parts = []
    for run in doc["results"]["runs"]:
        sz = run["settings"]["sizes"]
        parts += [
            f"\n### setting {run['setting']}, audio {run['audio_encoder']}: {sz['target_classes']} target "
            f"instruments, {sz['test_audio']} test clips per seed; teacher pairs {sz['teacher_pairs']}; "
            f"pools {sz['audio_pool']} clips / {sz['text_pool']} captions; seeds {run['settings']['seeds']}",
            "Zero-shot top-1 on the target task (mean over seeds, 95% bootstrap interval over seeds and "
            "clips):", table(*improve_table(run), digits=3),
            "\nPaired differences (per clip and seed; P3 prompt):",
            table(*comparison_table(run, "top1_p3"), digits=3),
            "\nCurated sets (thresholds from the rule on held-out seen classes; DS, ADS, a2a use the "
            "target label names, a2a the target audio):", table(*curation_stats_table(run), digits=3),
            "", *[f"- {v}" for v in verdicts(run)], f"\nTimings (s): {run['timings']}"]
    return "\n".join(parts)
