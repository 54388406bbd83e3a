"""The audio demo's files: ``audio_demo.json`` and the template-study report of the trained model."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .._atomic import write_json


def write_audio_demo(result: Any, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``audio_demo.json`` and ``template-study/`` (results, Markdown, plots) into ``out``.

    Parameters
    ----------
    result : pairspace.studies.audio_demo.AudioDemoResult
        The demo's result.
    out : str or os.PathLike
        The output folder (created when missing).

    Returns
    -------
    dict
        File role -> path: ``json`` and the template report's own roles (``template-study/...``).
    """
    from .templates import write_template_report

    out = Path(out)
    files = {"json": write_json(out / "audio_demo.json", result.to_dict())}
    report = write_template_report(result.template_study, out / "template-study")
    files.update({f"template-study/{role}": path for role, path in report.items()})
    return files
