"""The evaluation's outputs: reports/evaluation.md and .json, the figures, and the blocks each shipped
model's manifest entry receives (written only through training.manifest)."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gaitanon_core.errors import GaitanonError
from training.splits import VIEWS
from training.manifest import file_sha256, load_manifest, manifest_path, update_entry

from .metrics import NATURALNESS_VIEWS, headline
from .suite import GEI_CNN_DISTORTED

HEADLINE_ATTACKER = GEI_CNN_DISTORTED


# --- manifest ---------------------------------------------------------------------------------------


def protection(result: dict[str, Any]) -> dict[str, Any]:
    """The figures a strength stands by (same view, nm, mean of views): success against each strong
    attack (adaptive ones as the mean over their seeds), the tool owner's, linkability, and the weakest."""
    figures: dict[str, Any] = {}
    for attack, spread in result.get("adaptive_seeds", {}).items():
        figures[attack] = spread
    for name, tables in result.get("tool_owner", {}).items():
        figures[f"tool owner + {name}"] = {"mean": headline(tables), "rank5": headline(tables, rank="rank5")}
    linkability = result.get("linkability", {})
    means = [f["mean"] for f in figures.values() if f and f.get("mean") is not None]
    return {
        "success_rank1": figures,
        "weakest_success_rank1": min(means) if means else None,
        "linkability_rank1": {k: v.get("rank1") for k, v in linkability.items()},
    }


def video_block(video: dict[str, Any]) -> dict[str, Any]:
    """The colour clips through the whole engine: the independent person detector's confidence kept on
    the colour output, and each attacker's success on the re-segmented walks (rank-1 of 1 - hit)."""
    return {
        "clips": len(video.get("frames", {})),
        "frame_score_relative": (video.get("frame_score") or {}).get("relative"),
        "success_rank1": {name: 1.0 - r["rank1"] for name, r in video.get("recognition", {}).items()},
    }


def manifest_blocks(report: dict[str, Any], subjects_label: str, models_dir: Path,
                    entries: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """The "evaluation" block of each shipped anonymizer's manifest entry (and the attacker's).
    `entries`: condition name -> (manifest entry name, fingerprint of the files measured)."""
    manifest = {e["name"]: e for e in load_manifest(models_dir).get("models", [])}
    blocks: dict[str, Any] = {}
    for condition, (entry_name, fingerprint) in entries.items():
        if entry_name not in manifest:
            continue
        result = report["anonymity"][condition]
        natural = report["naturalness"][condition]
        blocks[entry_name] = {
            "model_sha256": fingerprint.split("+")[0],  # the file measured, even if replaced since
            "files_sha256": fingerprint,  # with the noise generator it ran with
            "mode": report["settings"]["mode"],
            "date": report["settings"]["date"],
            "command": report["settings"]["command"],
            "subjects": subjects_label,
            "success_rank1_same_view_nm": {n: headline(t) for n, t in result["success"].items()},
            "success_rank3_same_view_nm": {n: headline(t, rank="rank3") for n, t in result["success"].items()},
            "success_rank5_same_view_nm": {n: headline(t, rank="rank5") for n, t in result["success"].items()},
            "success_rank1_cross_view_nm": {n: headline(t, kind="cross_view") for n, t in result["success"].items()},
            "protection": protection(result),
            "frame_score_relative": natural.get("frame_score", {}).get("relative"),
            "stride_period_ratio": natural["stride_period_ratio"],
            "motion_ratio": natural["motion_ratio"],
            "jitter_ratio": natural["jitter_ratio"],
            "self_intersection_share": natural["self_intersection_share"],
            "raw_self_intersection_share": natural.get("raw_self_intersection_share"),
            "iou_with_original": natural["iou_with_original"],
        }
        if video := report.get("video", {}).get("conditions", {}).get(condition):
            blocks[entry_name]["video"] = video_block(video)
    attacker = next((e for e in manifest.values() if e.get("role") == "attacker" and not e.get("adapted_to")), None)
    if attacker is not None and "levels" in report["calibration"]:
        strength = report["attackers"].get(HEADLINE_ATTACKER, {}).get("strength", {})
        blocks[attacker["name"]] = {
            "model_sha256": attacker["sha256"],
            "calibration": report["calibration"],
            "rank1_same_view_nm_original": headline(strength) if strength else None,
        }
    return json_ready(blocks)


def write_manifest(report: dict[str, Any], models_dir: Path, log: Callable[[str], None]) -> None:
    """Each block into its entry, unless the entry's file changed while the evaluation ran."""
    current = {e["name"]: e.get("sha256") for e in load_manifest(models_dir).get("models", [])}
    for name, block in report["manifest_blocks"].items():
        if current.get(name) != block["model_sha256"]:
            log(f"not writing figures for {name}: its file changed during the evaluation; run it again")
        elif "calibration" in block:
            update_entry(name, models_dir, calibration=block["calibration"],
                         evaluation={k: v for k, v in block.items() if k != "calibration"})
        else:
            update_entry(name, models_dir, evaluation=block)


def snapshot_models(models_dir: Path, cache: Path, tries: int = 5) -> Path:
    """A checked copy of the models folder, so that files replaced during a long run (a trainer
    exporting) neither break it nor get figures measured on their predecessors."""
    for _ in range(tries):
        manifest_file = manifest_path(models_dir)
        if not manifest_file.exists():
            return models_dir
        text = manifest_file.read_text()
        folder = cache / "models_snapshot" / hashlib.sha256(text.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        entries = [e for e in json.loads(text).get("models", []) if "file" in e]
        for entry in entries:
            shutil.copyfile(models_dir / entry["file"], folder / entry["file"])
        if all(file_sha256(folder / e["file"]) == e.get("sha256") for e in entries):
            (folder / "manifest.json").write_text(text)
            return folder
        time.sleep(10)  # caught a file half-written: wait for the exporter to finish
    raise GaitanonError(f"the models in {models_dir} keep changing; run the evaluation once they are exported")


def json_ready(node: Any) -> Any:
    """numpy scalars -> Python numbers; NaN -> None (JSON has no NaN)."""
    if isinstance(node, dict):
        return {str(k): json_ready(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [json_ready(v) for v in node]
    if isinstance(node, (float, np.floating)):
        return None if not np.isfinite(node) else float(node)
    if isinstance(node, np.integer):
        return int(node)
    return node


def write_reports(report: dict[str, Any], out_dir: Path, examples: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    clean = json_ready({k: v for k, v in report.items()})
    (out_dir / "evaluation.json").write_text(json.dumps(clean, indent=1) + "\n")
    figures = plot_figures(clean, out_dir, examples)
    (out_dir / "evaluation.md").write_text(markdown_report(clean, figures))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def subject_label(ids: Sequence[str]) -> str:
    return f"{ids[0]}-{ids[-1]} ({len(ids)} subjects)" if len(ids) > 1 else ids[0]


def markdown_report(report: dict[str, Any], figures: list[str]) -> str:
    settings = report["settings"]
    lines = [
        "# Evaluation",
        "",
        f"Generated by `{settings['command']}` on {settings['date']} in {settings['wall_time_s']:.0f} s "
        f"({settings['mode']} mode: frames per walk: {settings['frames_per_walk']}; seed {settings['seed']}).",
        f"Data: `{settings['data']}`. Evaluated subjects: {subject_label(settings['subjects'])}. "
        f"Gallery: {settings['gallery']}; probes: " + "; ".join(f"{k} = {', '.join(v)}" for k, v in settings["probes"].items()) + ".",
        "Rates are means over probe views; cross-view averages every gallery view except the probe's own. "
        f"With {len(settings['subjects'])} gallery subjects, chance rank-1 is {100 / max(len(settings['subjects']), 1):.1f}%. "
        "Every anonymized frame is drawn on a canvas two body heights tall (nothing cut off) and pre-treated like "
        "the dataset before an attacker sees it.",
        "",
        "## 1. The attackers' own strength (original probes)",
        "",
        f"Success rates are printed only against attackers whose same-view rank-1 on original nm probes is at least "
        f"{100 * settings['qualifying_rank1']:.0f}%: a weak attacker makes any anonymizer look good. Adaptive attackers "
        "are retrained on one anonymizer's outputs for the attacker subjects and judge only that anonymizer.",
        "",
    ]
    rows = []
    for name, info in report["attackers"].items():
        strength = info["strength"]
        rows.append(
            [name]
            + [f"{_pct(headline(strength, s))} / {_pct(headline(strength, s, rank='rank3'))}" for s in settings["probes"]]
            + [_pct(headline(strength, "nm", "cross_view"))]
            + ["yes" if info["qualified"] else "**no: success rates refused**"]
        )
    lines += _table(["attacker", "nm same-view r1/r3 %", "bg same-view r1/r3 %", "cl same-view r1/r3 %", "nm cross-view r1 %", "qualifies"], rows)
    lines += _protection_lines(report)
    lines += _plain_success_lines(report)
    lines += _naturalness_lines(report)
    lines += _video_lines(report)
    lines += _calibration_lines(report)
    lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(lines)


def _spread(node: dict[str, Any] | None) -> str:
    if not node or node.get("mean") is None:
        return "-"
    if node.get("seeds", 1) > 1:
        return f"{_pct(node['mean'])} ({_pct(node['min'])}-{_pct(node['max'])}, {node['seeds']} seeds)"
    return _pct(node["mean"])


def _protection_lines(report: dict[str, Any]) -> list[str]:
    """The figures the product states: against attackers who own the tool."""
    rows = []
    for name, r in report["anonymity"].items():
        if not r.get("adaptive_seeds") and not r.get("tool_owner"):
            continue
        p = protection(r)
        attacks = p["success_rank1"]
        link = p["linkability_rank1"]
        rows.append([
            name,
            "; ".join(f"{a}: {_spread(v)}" for a, v in attacks.items()),
            _pct(p["weakest_success_rank1"]),
            _pct(link.get("two_draws_same_walk")),
            _pct(link.get("anonymized_gallery")),
        ])
    if not rows:
        return []
    return [
        "## 2. Protection against an attacker who owns the tool (nm, same view, top-1 success %)",
        "",
        "Adaptive: the recogniser retrained on this anonymizer's outputs for the attacker subjects (4 draws a walk, "
        "until its held-out validation stops rising), mean over seeds with their range. Tool owner: the mean change "
        "of the outline, measured by running the tool on the attacker subjects, undone on each probe before the "
        "distortion-trained recogniser matches it. Linkability (rank-1 %, lower is better, distortion-trained GEI CNN): "
        "two anonymizations of the same walk matched to each other, and anonymized probes against an anonymized gallery.",
        "",
    ] + _table(["anonymizer", "success vs each attack", "weakest", "link: two draws", "link: anonymized gallery"], rows)


def _plain_success_lines(report: dict[str, Any]) -> list[str]:
    qualified = [n for n, i in report["attackers"].items() if i["qualified"] and "adaptive" not in n]
    lines = ["## 3. Success against recognisers that have not seen the tool's output (%, nm, same view; top-1 / top-3 / top-5)", "",
             "Not a privacy figure on its own: the tool is public.", ""]
    if not qualified:
        return lines + ["No attacker qualifies, so no success rate is reported.", ""]
    rows = [
        [name] + [f"{_pct(headline(r['success'][a]))} / {_pct(headline(r['success'][a], rank='rank3'))} / "
                  f"{_pct(headline(r['success'][a], rank='rank5'))}" if a in r["success"] else "-" for a in qualified]
        for name, r in report["anonymity"].items()
    ]
    lines += _table(["anonymizer"] + qualified, rows)
    rows = [
        [name] + [f"{_pct(headline(r['success'][a], 'nm', 'cross_view'))}; {_pct(headline(r['success'][a], 'bg'))} / "
                  f"{_pct(headline(r['success'][a], 'cl'))}" if a in r["success"] else "-" for a in qualified]
        for name, r in report["anonymity"].items()
    ]
    lines += ["Cross-view success (top-1, %), and bg / cl probes same-view (top-1, %):", ""]
    lines += _table(["anonymizer"] + [f"{a}: cross; bg / cl" for a in qualified], rows)
    if HEADLINE_ATTACKER in qualified:
        lines += _per_view_lines(
            f"Success top-1 per view against {HEADLINE_ATTACKER} (nm, same-view, %)",
            {n: r["success"][HEADLINE_ATTACKER] for n, r in report["anonymity"].items() if HEADLINE_ATTACKER in r["success"]},
            "same_view", "rank1",
        )
    return lines


def _per_view_lines(title: str, tables: dict[str, Any], kind: str, rank: str) -> list[str]:
    rows = []
    for name, t in tables.items():
        per_view = t.get("nm", {}).get(kind, {}).get("per_view", {})
        rows.append([name] + [_pct(per_view[v][rank]) if v in per_view else "-" for v in VIEWS])
    return [f"{title}:", ""] + _table(["", *VIEWS], rows)


def _naturalness_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        "## 4. Naturalness (nm-05 walks, views " + ", ".join(NATURALNESS_VIEWS) + "; ratios are anonymized / original)",
        "",
        "Frame score: SSD-MobileNet-v2 (COCO) person confidence, side view; each 64-px silhouette is pasted, shaded, "
        "into the empty CASIA-B corridor at people's size there (a bare binary mask scores near zero either way). "
        "The paper's video score used a Kinetics action recogniser, which cannot be obtained offline; in its place "
        "the gait rhythm (stride period and periodicity of the legs' spread over time, and the swing's amplitude) "
        "says whether the motion is still a walk with the same cadence, and the temporal jitter says whether it flickers.",
        "",
    ]
    rows = []
    for name, n in report["naturalness"].items():
        fs = n.get("frame_score") or {}
        rows.append(
            [
                name,
                f"{_ratio(fs.get('anonymized'))} / {_ratio(fs.get('original'))}",
                _ratio(fs.get("relative")),
                _ratio(n["stride_period_ratio"]),
                _ratio(n["periodicity_ratio"]),
                _ratio(n["leg_swing_ratio"]),
                _ratio(n["motion_ratio"]),
                _ratio(n["jitter_ratio"]),
                _ratio(n["iou_with_original"]),
                _pct(n["self_intersection_share"]),
                _pct(n.get("raw_self_intersection_share")),
            ]
        )
    return lines + _table(
        ["anonymizer", "person conf. anon / orig", "frame score (rel.)", "stride period", "periodicity", "leg swing", "motion",
         "jitter", "IoU with original", "self-intersecting % (after engine)", "raw network output %"],
        rows,
    ) + _tradeoff_lines(report)


def _tradeoff_lines(report: dict[str, Any]) -> list[str]:
    models = {n: r for n, r in report["anonymity"].items() if r["kind"] in ("model", "baseline")}
    if not models or HEADLINE_ATTACKER not in report["attackers"] or not report["attackers"][HEADLINE_ATTACKER]["qualified"]:
        return []
    rows = []
    for name, r in models.items():
        n = report["naturalness"][name]
        rows.append(
            [
                name,
                _pct(protection(r)["weakest_success_rank1"]),
                _pct(headline(r["success"][HEADLINE_ATTACKER])),
                _ratio((n.get("frame_score") or {}).get("relative")),
                _ratio(n["stride_period_ratio"]),
                _ratio(n["motion_ratio"]),
                _ratio(n["jitter_ratio"]),
                _pct(n.get("raw_self_intersection_share")),
            ]
        )
    return ["Trade-off across strengths (the paper's Tables 2-3).", ""] + _table(
        ["anonymizer", "success vs the weakest attack (tool owner / adaptive) %", f"vs {HEADLINE_ATTACKER} %", "frame score",
         "stride period", "motion", "jitter", "raw self-intersecting %"],
        rows,
    )


def _video_lines(report: dict[str, Any]) -> list[str]:
    video = report.get("video")
    if not video:
        return []
    lines = ["## 5. Video domain", "", video["note"] + ".", ""]
    if "conditions" not in video:
        return lines
    names = list(dict.fromkeys(a for entry in video["conditions"].values() for a in entry["recognition"]))
    rows = []
    for label, entry in video["conditions"].items():
        fs = entry.get("frame_score") or {}
        rows.append(
            [label]
            + [f"{_pct(entry['recognition'][a]['rank1'])} / {_pct(entry['recognition'][a]['rank3'])}" if a in entry["recognition"] else "-" for a in names]
            + [_ratio(fs.get("relative")), _ratio(entry.get("stride_period_ratio"))]
        )
    return lines + _table(["probe", *[f"{a} r1/r3 %" for a in names], "frame score (rel.)", "stride period"], rows) + [
        f"Each rate is over {len(video['clips'])} clips: one clip is {100 / max(len(video['clips']), 1):.0f} points. "
        "These are identification rates (lower is better for the tool).",
        "",
    ]


def _calibration_lines(report: dict[str, Any]) -> list[str]:
    cal = report["calibration"]
    if "levels" not in cal:
        return ["## 6. Privacy check calibration", "", cal["note"], ""]
    levels = cal["levels"]
    pick = [levels.index(x) for x in (0.05, 0.5, 0.95)]
    same = ", ".join(f"{cal['same_person'][i]:.3f}" for i in pick)
    different = ", ".join(f"{cal['different_person'][i]:.3f}" for i in pick)
    return [
        "## 6. Privacy check calibration",
        "",
        f"The shipped attacker's distances on the {cal['subjects']}, same view, nm walks "
        f"({cal['pairs']['same_person']} same-person and {cal['pairs']['different_person']} different-person pairs): "
        f"same person 5/50/95% quantiles {same}; different people {different}; "
        f"equal-error threshold {cal['threshold']:.3f} (equal error rate {100 * cal['equal_error_rate']:.1f}%).",
        "",
    ]


def plot_figures(report: dict[str, Any], out_dir: Path, examples: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if HEADLINE_ATTACKER in report["attackers"] and report["attackers"][HEADLINE_ATTACKER]["qualified"]:
        figure, axis = plt.subplots(figsize=(7, 5))
        for name, r in report["anonymity"].items():
            fs = (report["naturalness"][name].get("frame_score") or {}).get("relative")
            success = headline(r["success"][HEADLINE_ATTACKER])
            if fs is None or success is None:
                continue
            marker = {"model": "o", "baseline": "s", "reference": "^"}.get(r["kind"], "x")
            axis.scatter(fs, 100 * success, marker=marker)
            axis.annotate(name, (fs, 100 * success), fontsize=7, xytext=(3, 3), textcoords="offset points")
        axis.set_xlabel("frame score (person confidence, anonymized / original)")
        axis.set_ylabel(f"success top-1 % vs {HEADLINE_ATTACKER}")
        axis.set_title("Anonymity against naturalness")
        axis.grid(alpha=0.3)
        written.append(_save(figure, out_dir / "tradeoff.png"))

        figure, axis = plt.subplots(figsize=(8, 4.5))
        for name, r in report["anonymity"].items():
            per_view = r["success"][HEADLINE_ATTACKER].get("nm", {}).get("same_view", {}).get("per_view", {})
            if r["kind"] in ("model", "baseline") or name == "codec round trip":
                axis.plot([int(v) for v in per_view], [100 * per_view[v]["rank1"] for v in per_view], marker="o", label=name)
        axis.set_xlabel("probe view (degrees)")
        axis.set_ylabel("success top-1 % (nm, same view)")
        axis.set_title(f"Success per view against {HEADLINE_ATTACKER}")
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
        written.append(_save(figure, out_dir / "success_per_view.png"))
    shown = {n: e for n, e in examples.items() if report["anonymity"][n]["kind"] in ("model", "baseline")} or {
        n: e for n, e in examples.items() if report["anonymity"][n]["kind"] == "trivial"
    }
    if shown:
        written.append(xor_figure(shown, out_dir / "xor.png", plt))
    return written


def xor_figure(examples: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, plt: Any) -> str:
    """The paper's Figure 18: per anonymizer, original and anonymized silhouettes overlaid on
    six frames (white: both; red: original only; green: anonymized only)."""
    rows = len(examples)
    figure, axes = plt.subplots(rows, 6, figsize=(9, 1.9 * rows), squeeze=False)
    for row, (name, (original, anonymized)) in enumerate(examples.items()):
        for col, index in enumerate(np.linspace(0, min(len(original), len(anonymized)) - 1, 6).astype(int)):
            both = original[index] & anonymized[index]
            image = np.zeros((*both.shape, 3))
            image[both] = 1.0
            image[original[index] & ~anonymized[index]] = (0.9, 0.15, 0.15)
            image[anonymized[index] & ~original[index]] = (0.15, 0.8, 0.15)
            axes[row, col].imshow(image, interpolation="nearest")
            axes[row, col].set_axis_off()
        axes[row, 0].set_title(name, fontsize=8, loc="left")
    return _save(figure, path)


def _save(figure: Any, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path.name
