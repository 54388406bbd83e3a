"""The image demo's files and tables: ``image_demo.json``, the template-study reports of both modes,
``report.html`` (:func:`render_html`) and :func:`docs_markdown` (the docs page's generated tables);
both pages are read from the JSON document only and share the row builders (``*_rows``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .._atomic import write_json
from .templates import md_escape


def write_image_demo(result: Any, out: str | os.PathLike[str]) -> dict[str, Path]:
    """Write ``image_demo.json``, ``template-study/``, ``template-study-paper/`` and the
    self-contained ``report.html`` (:func:`render_html`) into ``out``.

    Returns
    -------
    dict
        File role -> path: ``json``, ``html`` and the template reports' roles
        (``template-study/...``).
    """
    from .html import write_html
    from .templates import write_template_report

    out = Path(out)
    doc = result.to_dict()
    files = {"json": write_json(out / "image_demo.json", doc)}
    figures: dict[str, Path] = {}
    for sub, study in (("template-study", result.template_study),
                       ("template-study-paper", result.template_study_paper)):
        report = write_template_report(study, out / sub)
        files.update({f"{sub}/{role}": path for role, path in report.items()})
        figures.update({f"{sub}/{role}": report[role] for role in ("scatter", "curves") if role in report})
    files["html"] = write_html(out / "report.html", render_html(doc, figures))
    return files


_FIGURE_CAPTIONS = {
    "template-study/scatter": "Template study (default mode): similarity against single-template top-1",
    "template-study/curves": "Template study (default mode): NNGS against k of every template",
    "template-study-paper/scatter": "Template study (paper-exact mode): similarity against "
                                    "single-template top-1",
    "template-study-paper/curves": "Template study (paper-exact mode): NNGS against k of every template",
}


def render_html(doc: dict[str, Any], figures: Mapping[str, str | os.PathLike[str]] | None = None) -> str:
    """The self-contained ``report.html`` of the image demo from its ``pairspace.image_demo/1``
    document.

    The tables are those of :func:`docs_markdown` (the same row builders, with HTML escaping in
    place of Markdown escaping): the held-out zero-shot result against chance with its class-bootstrap
    interval, the per-model comparison, both template studies' correlations and paired differences,
    and the ImageNet-overlap table; ``figures`` (role -> PNG, e.g. ``template-study/scatter``) are
    embedded as data URIs. Every string of the document is HTML-escaped.
    """
    import html

    from .format import format_number, timings_rows
    from .html import html_page, html_table, png_data_uri

    def para(text: str) -> str:
        return f"<p>{html.escape(text)}</p>"

    res, info = doc["results"], doc["inputs"]
    z = res["zeroshot"]
    run = html_table(["field", "value"], [
        ("command", doc["command"]), ("pairspace", doc["pairspace_version"]), ("created", doc["created"]),
        ("classes", f"{res['n_classes']} ({res['n_seen_classes']} seen, {res['n_unseen_classes']} unseen)"),
        ("images, captions", f"{info['n_images']}, {info['n_captions']}")])
    head = html_table(["model", "top-1", "95% CI", "top-5", "95% CI", "chance", "unseen classes", "images"],
                      [(z["model"], _f(z["top1"]), _ci(z["top1_ci"]), _f(z["top5"]), _ci(z["top5_ci"]),
                        _f(z["chance"], 4), z["n_classes"], z["n"])])
    sections = [("Run", run),
                ("Held-out zero-shot on the unseen classes", para(_verdict(doc, str)) + head),
                ("Model comparison (zero-shot and retrieval on the unseen classes; 95% class-bootstrap "
                 "intervals)", html_table(*zeroshot_rows(doc, str)))]
    for key, mode in (("template_study", "default mode"), ("template_study_paper", "paper-exact mode")):
        st = res[key]
        body = para(study_verdict(st, str)) + html_table(*correlation_rows(st, str))
        if st.get("comparisons"):
            body += para(_COMPARISONS) + html_table(*comparison_rows(st, str))
        sections.append((f"Template study, {mode} ({len(st['templates'])} templates, "
                         f"{st['settings']['metric']}, k = {st['settings']['k']})", body))
    ov = res["imagenet_overlap"]
    named = ", ".join(f"{a}: {b}" for a, b in ov["imagenet_named"]) or "none"
    sections.append(("ImageNet overlap (supervised pre-training of the backbone)",
                     para(_overlap_head(doc)) + html_table(*overlap_rows(doc, str))
                     + para(overlap_verdict(doc, str))
                     + para(f"ImageNet-named unseen classes (benchmark name: ImageNet class): {named}.")))
    images = "".join(f'<p>{html.escape(_FIGURE_CAPTIONS.get(role, role))}<br>'
                     f'<img alt="{html.escape(role)}" src="{png_data_uri(path)}"></p>'
                     for role, path in (figures or {}).items())
    if images:
        sections.append(("Figures", images))
    sections.append(("Timings", html_table(["stage", "seconds"], [
        (k, format_number(v, 1)) for k, v in timings_rows(res["timings_s"])])))
    return html_page("pairspace demo --image", sections,
                     note=f"schema {doc['schema']}, pairspace {doc['pairspace_version']}, created "
                          f"{doc['created']}")


def _f(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "-"
    return f"{v:.{digits}f}"


def _ci(ci: Any, digits: int = 3) -> str:
    if not ci or ci[0] is None or ci[0] != ci[0]:
        return "-"
    return f"[{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _p(v: Any) -> str:
    from .format import format_p

    return "-" if v is None or v != v else format_p(v)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


Escape = Callable[[Any], str]
Table = tuple[list[str], list[list[str]]]


def zeroshot_rows(doc: dict[str, Any], esc: Escape = md_escape) -> Table:
    """Headers and rows of the per-model zero-shot and retrieval table (user strings through ``esc``)."""
    rows = []
    for name, m in doc["results"]["models"].items():
        z, r = m["zeroshot"], m["retrieval"]
        rows.append([esc(name), _f(z["top1"]), _ci(z["top1_ci"]), _f(z["top5"]), _ci(z["top5_ci"]),
                     _f(z["chance"], 4), _f(r["text_to_image"]["R@1"]), _f(r["text_to_image"]["R@10"]),
                     _f(r["image_to_text"]["R@1"]), _f(r["image_to_text"]["R@10"])])
    return (["model", "top-1", "95% CI", "top-5", "95% CI", "chance", "text->image R@1",
             "text->image R@10", "image->text R@1", "image->text R@10"], rows)


def zeroshot_markdown(doc: dict[str, Any]) -> str:
    """The per-model zero-shot and retrieval table on the unseen classes."""
    return _table(*zeroshot_rows(doc))


def correlation_rows(study: dict[str, Any], esc: Escape = md_escape) -> Table:
    """Headers and rows of one template study's correlations with accuracy across templates."""
    rows = [[esc(m), _f(c["pearson"]), _ci([c["pearson_ci_low"], c["pearson_ci_high"]]),
             _p(c["pearson_p"]), _f(c["spearman"]), _ci([c["spearman_ci_low"], c["spearman_ci_high"]]),
             _p(c["spearman_p"])] for m, c in study["correlations"].items()]
    return ["measure", "Pearson", "95% CI", "p", "Spearman", "95% CI", "p"], rows


def comparison_rows(study: dict[str, Any], esc: Escape = md_escape) -> Table:
    """Headers and rows of the paired differences of the correlations (empty rows when none)."""
    rows = [[esc(n), _f(c["pearson"]), _ci(c["pearson_ci"]), _f(c["spearman"]), _ci(c["spearman_ci"])]
            for n, c in (study.get("comparisons") or {}).items()]
    return ["difference", "Pearson", "95% CI", "Spearman", "95% CI"], rows


_COMPARISONS = "Paired differences of the correlations (same bootstrap resamples of the templates):"


def study_markdown(study: dict[str, Any]) -> str:
    """Correlations with accuracy across templates and the paired differences, of one study."""
    out = [_table(*correlation_rows(study))]
    if study.get("comparisons"):
        out += ["", _COMPARISONS, "", _table(*comparison_rows(study))]
    return "\n".join(out)


def per_template_markdown(study: dict[str, Any]) -> str:
    """One row per template: group, NNGS, CKA, mutual kNN and single-template top-1."""
    rbf = "rbf_cka" in study["correlations"]
    rows = [[md_escape(r["template"]), md_escape(r["group"]), _f(r["nngs"]), _f(r["linear_cka"]),
             *([_f(r["rbf_cka"])] if rbf else []), _f(r["mutual_knn"]), _f(r["accuracy"])]
            for r in study["per_template"]]
    return _table(["template", "group", "NNGS", "linear CKA", *(["RBF CKA"] if rbf else []),
                   "mutual kNN", "top-1"], rows)


def overlap_rows(doc: dict[str, Any], esc: Escape = md_escape) -> Table:
    """Headers and rows of the ImageNet-overlap table."""
    rows = [[esc(name), _f(r["imagenet_named"]), _ci(r["imagenet_named_ci"]), _f(r["others"]),
             _ci(r["others_ci"]), _f(r["difference"]), _ci(r["difference_ci"])]
            for name, r in doc["results"]["imagenet_overlap"]["rows"].items()]
    return ["quantity", "ImageNet-named", "95% CI", "others", "95% CI", "difference", "95% CI"], rows


def _overlap_head(doc: dict[str, Any]) -> str:
    ov = doc["results"]["imagenet_overlap"]
    return (f"{ov['n_imagenet_named']} of the {ov['n_unseen_classes']} unseen classes carry the name of "
            "an ImageNet-1k class (name or alias, exact match):")


def overlap_markdown(doc: dict[str, Any]) -> str:
    """The ImageNet-overlap table: ImageNet-named unseen classes against the others."""
    return "\n".join([_overlap_head(doc), "", _table(*overlap_rows(doc))])


def _verdict(doc: dict[str, Any], esc: Escape = md_escape) -> str:
    z = doc["results"]["zeroshot"]
    ratio = z["top1"] / z["chance"]
    above = z["top1_ci"][0] > 2 * z["chance"]
    return (f"Held-out zero-shot top-1 of the model \"{esc(z['model'])}\": {_f(z['top1'])} "
            f"(95% class-bootstrap interval {_ci(z['top1_ci'])}) against chance {_f(z['chance'], 4)} "
            f"over {z['n_classes']} unseen classes, {ratio:.0f} times chance; the interval "
            f"{'lies above' if above else 'does not lie above'} twice chance.")


def _excludes_zero(ci: Any) -> bool:
    return bool(ci) and ci[0] is not None and ci[0] == ci[0] and (ci[0] > 0 or ci[1] < 0)


def study_verdict(study: dict[str, Any], esc: Escape = md_escape) -> str:
    """The template study in sentences: each measure's Pearson with its interval, and which paired
    differences of NNGS against another measure have an interval that excludes zero."""
    corr = study["correlations"]
    parts = [f"{esc(m)} {_f(c['pearson'])} {_ci([c['pearson_ci_low'], c['pearson_ci_high']])}"
             for m, c in corr.items()]
    text = (f"Across the {len(study['templates'])} templates, Pearson correlation of each measure with "
            f"the single-template top-1 (95% bootstrap interval over templates): {'; '.join(parts)}.")
    comp = study.get("comparisons") or {}
    if comp:
        clear = [f"{esc(n)} {_f(c['pearson'])} {_ci(c['pearson_ci'])}" for n, c in comp.items()
                 if _excludes_zero(c["pearson_ci"])]
        text += (" Paired differences of the Pearson coefficients whose interval excludes zero: "
                 + ("; ".join(clear) if clear else "none") + ".")
    return text


def group_markdown(study: dict[str, Any]) -> str:
    """Per template group (positive / negation / film-music): count, mean NNGS and mean top-1."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in study["per_template"]:
        groups.setdefault(r["group"], []).append(r)
    rows = [[md_escape(g), str(len(rs)), _f(sum(r["nngs"] for r in rs) / len(rs)),
             _f(sum(r["linear_cka"] for r in rs) / len(rs)), _f(sum(r["accuracy"] for r in rs) / len(rs)),
             _f(min(r["accuracy"] for r in rs)), _f(max(r["accuracy"] for r in rs))]
            for g, rs in groups.items()]
    return _table(["group", "templates", "mean NNGS", "mean linear CKA", "mean top-1", "min top-1",
                   "max top-1"], rows)


def overlap_verdict(doc: dict[str, Any], esc: Escape = md_escape) -> str:
    """The ImageNet-overlap rows whose difference interval excludes zero, in one sentence."""
    rows = doc["results"]["imagenet_overlap"]["rows"]
    if not rows:
        return "Too few ImageNet-named unseen classes for the comparison."
    clear = [f"{esc(n)} ({_f(r['difference'])}, {_ci(r['difference_ci'])})" for n, r in rows.items()
             if _excludes_zero(r["difference_ci"])]
    return ("ImageNet-named against other unseen classes, differences whose 95% class-bootstrap interval "
            "excludes zero: " + ("; ".join(clear) if clear else "none") + ".")


def docs_markdown(doc: dict[str, Any]) -> str:
    """The generated part of ``docs/studies/image_demo.md`` from the ``pairspace.image_demo/1`` JSON."""
    res = doc["results"]
    info = doc["inputs"]
    s, sp = res["template_study"], res["template_study_paper"]
    parts = [
        f"Run: `{str(doc['command']).replace('`', '')}`, pairspace {doc['pairspace_version']}, "
        f"{doc['created']}; "
        f"{res['n_classes']} classes ({res['n_seen_classes']} seen, {res['n_unseen_classes']} unseen), "
        f"{info['n_images']} images, {info['n_captions']} captions.",
        "",
        "### Zero-shot and retrieval on the unseen classes",
        "",
        _verdict(doc),
        "",
        zeroshot_markdown(doc),
        "",
        f"### Template study ({len(s['templates'])} templates; default mode: normalized, "
        f"{s['settings']['metric']}, k = {s['settings']['k']}, RBF CKA at 0.8 x median distance)",
        "",
        study_verdict(s),
        "",
        study_markdown(s),
        "",
        group_markdown(s),
        "",
        f"### Template study, paper-exact mode (unnormalized, {sp['settings']['metric']}, "
        f"k = {sp['settings']['k']}, RBF CKA at 0.8 x median squared distance)",
        "",
        study_verdict(sp),
        "",
        study_markdown(sp),
        "",
        "### ImageNet overlap (supervised pre-training of the backbone)",
        "",
        overlap_markdown(doc),
        "",
        overlap_verdict(doc),
        "",
        "ImageNet-named unseen classes (benchmark name: ImageNet class): "
        + ", ".join(f"{md_escape(a)}: {md_escape(b)}" for a, b in res["imagenet_overlap"]["imagenet_named"])
        + ".",
        "",
        "### Per template (default mode)",
        "",
        per_template_markdown(s),
        "",
        f"Timings (s): {', '.join(f'{k} {v}' for k, v in res['timings_s'].items())}.",
    ]
    return "\n".join(parts) + "\n"
