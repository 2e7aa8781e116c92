"""Write models/MODEL_CARD.md from the manifests, so every figure in it is one a command measured.

Reads models/manifest.json (shipped), $GAITANON_CACHE/reference/manifest.json (the paper's
configuration) and $GAITANON_CACHE/baseline/manifest.json (Tieu et al. 2017); the
"validation" blocks come from training.export / training.baseline, the "evaluation"
blocks from training.evaluate.

Usage: python -m training.model_card
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gaitanon_core.paths import models_dir
from training.splits import SUBJECT_SPLIT

from .anonymize_sils import model_folders
from .manifest import load_manifest

INTRO = """# Model card: gaitanon identity generator and identity-replacement anonymizers

## Purpose
The models change the outline (body shape and pose-by-pose silhouette) of a walking person so
that gait recognition no longer identifies them, even by someone who owns this tool, while the
result still walks like a person. The product runs them through ONNX Runtime on canonical
contours (`gaitanon_core.shape.codec`, layout and N in the manifest); the GUI's strength steps
are the anonymizers' alpha values and the manifest marks the default (`"default": true`).

## How they work (training/identity.py says it in full)
The ST-GAN of Tieu et al. (2019), which this project shipped before, learnt a change that was
nearly the same for everyone, so an attacker who retrained on its outputs or subtracted its mean
change identified most walks (figures under "Tried before" below). These models replace the
identity instead:
- `noise_generator` (an identity generator): z ~ N(0, I) -> ONE person who does not exist,
  as a gait cycle of 24 phases at each of the 11 CASIA-B views. It is a joint PCA over
  subject-level walks of the noise group (051-060, never evaluated on): a component moves the
  same body consistently at every view; new people are Gaussian draws of the whitened
  coefficients, their pose deviation scaled back to real people's (`pose_gain`). Drawn fresh
  per clip; the latent is never stored or logged.
- `anonymizer` at each alpha: inside the graph, the window picks the generated person's view
  block (or its mirror) that fits the input best, gives each frame the generated phases nearest
  in pose (soft nearest neighbour, smoothed half way over 3 frames), and blends
  `output = input + alpha * (generated - input smoothed over 3 frames)`: at alpha 1 the outline
  is the generated person's, in step with the input, carrying the input's frame-to-frame jitter.
  Small loops the blend makes (two outline edges at most 32 apart crossing) are cut onto their
  chord in the graph. No learned weights: nothing to overfit.
- Kept from the input on purpose, because the scene needs them: where the body is, its size
  (height), its view, the phase of its step, its speed and cadence, and its path. Each of these
  can also identify someone; the GUI, the report and docs/THREAT_MODEL.md say so.
- `attacker_gei_cnn`: the distortion-trained GEI CNN the per-clip privacy check asks. Where
  retraining it on a strength's own outputs identifies more held-out walks, `python -m
  training.adapted_attackers` ships that one as `attacker_adapted_<anonymizer>` and the check
  asks it at that strength; for these models retraining never beat the start (the evaluation's
  plateau rule kept epoch 0 at every seed), so none ships and the check's attacker is already
  the best GEI attacker who owns the tool found.

## Data
CASIA Gait Database, dataset B (Yu, Tan & Tan, "A framework for evaluating the effect of
view angle, clothing and carrying condition on gait recognition", ICPR 2006): 64x64
silhouettes of 124 subjects (99 here), 11 views, normal / bag / coat walks. Research use
only: cite the paper above; the model files ship with this card naming the data.
Subject groups (disjoint; `training.splits`):
"""

LIMITS = """
## Limits, and what holds the figures back
- The target of the anonymity issue (at least 90% of walks not identified by every attacker who
  owns the tool, at the default) is not met: the evaluation figures above say by how much. What
  is measured to hold them back: at alpha below 1 the output keeps 1 - alpha of the person's own
  outline, and the tool owner who subtracts the mean change recovers part of it (tool-owner
  success rises with alpha in the validation table); at alpha 1 nothing of the outline's shape
  is blended in, yet some walks are still identified.
- What is still carried over at alpha 1: the input's frame-to-frame jitter (kept so the walk
  does not look frozen), which phases of the generated cycle each frame takes (chosen by the
  input's own pose, so the sequence of poses follows the person's stride), the view block
  picked, and the step timing. The jitter is measured NOT to be what carries the identity: the
  same model without it (`train_identity fit --name identity_v4j0 --jitter-keep 0 ...`, then
  `python -m training.evaluate --quick --subjects 077-084 --no-adaptive --candidate
  $GAITANON_CACHE/candidates/identity_v4j0 --only identity_w1`, validation subjects) left the
  set-based recogniser's success where it was (80.7% both), lowered the tool owner's worst case
  (80.1% against 82.4%) and the motion ratio (0.78x against 1.07x). The phase pick is the next
  suspect, unmeasured; keeping the phase is what keeps the walk in step with the scene.
- Generated people come from a PCA of only ten real people, so the space of new identities is
  narrow; that does not help an attacker link a walk to its owner, but it bounds how different
  two anonymized people can be.
- The adaptive attackers did not adapt: retraining the GEI CNN (3 seeds) and the set-based
  recogniser (1 seed) on the outputs lowered their held-out rank-1 at every epoch, so the plateau
  rule kept their distortion-trained starts; the evaluation's adaptive figures are those starts.
  A better retraining recipe (another learning rate, more draws, longer) may still find what the
  outputs keep of their owner.
- On the four colour clips run through the whole engine and re-segmented (the default only),
  the set-based recogniser identified more walkers than on the dataset's silhouettes (the
  README's colour-clips column against its silhouette figures). Four clips are too few to size
  it, and the cause is not yet found (the engine's re-segmented output, whole walks against the
  quick mode's 30 frames, or the side view); it is the next thing to measure.
- Height, speed, cadence and the path are kept on purpose (the scene needs them) and can
  identify someone; so can the face (hidden by default in the render), hair, clothes, colours,
  the voice and footsteps if audio is kept.
- Outlines still fold before the in-graph loop cut, more at higher alpha; the validation table
  gives the share before and after it (training/identity.py, how far the cut moves points).
- Generated people move less than real ones before `pose_gain`; the motion ratio with both
  sequences smoothed (the validation table's "(smoothed)") is lower than the plain one, which
  counts the input's pixel jitter as motion.
- Built from CASIA-B's 64-px silhouettes of one indoor corridor: other cameras, crowds, children
  or unusual clothing are outside what it has seen; silhouette quality bounds the result.
- Validation figures come from the validation subjects (077-084), and chose the stops and the
  default; the evaluation's figures come from the test subjects (085-100), which no model or
  choice saw. Attackers vary from one training to the next; the default's adaptive GEI figure is
  the mean over the attacker seeds the evaluation block names.

## Tried before (not shipped)
The ST-GAN anonymizers shipped until 2026-12-06 (commit e759c9e, whose models/manifest.json holds
their evaluation blocks) moved the outline toward the generated walker by a blend the privacy term
barely changed: about 94% of the per-point displacement was constant over time and 97% the same
whatever the noise draw, so a recogniser retrained on their outputs, or one that undid their
mean change, took most of the protection back, and two anonymizations of one walk stayed
linkable. Longer training folded outlines, so selection stopped at step 50 of 300. Variants tried
(privacy weights 2-48, a smoothness term, a distortion-trained surrogate, a GEI CNN surrogate on
differentiably drawn silhouettes) moved along the same trade-off; none changed the template.
"""

VALIDATION_COLUMNS = (
    ("distance_from_input", "dist. from input", 4),
    ("iou_with_input", "IoU with input", 2),
    ("self_intersecting_share_without_loop_cut", "folded before loop cut", 3),
    ("self_intersecting_share", "folded (raw output)", 4),
    ("motion_ratio", "motion ratio", 2),
    ("motion_ratio_smoothed", "(smoothed)", 2),
    ("jitter_ratio", "jitter ratio", 2),
    ("attacker_success", "attacker success", 3),
    ("tool_owner_success", "tool-owner success", 3),
    ("linkability_rank1", "two draws linked", 3),
)


def all_entries() -> list[tuple[Path, dict[str, Any]]]:
    return [(folder, entry) for folder in model_folders() for entry in load_manifest(folder).get("models", [])]


def _number(value: Any, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def subjects_section() -> str:
    rows = [f"| {group} | {ids[0]}-{ids[-1]} ({len(ids)}) |" for group, ids in SUBJECT_SPLIT.items()]
    return "\n".join(["| group | subjects |", "| --- | --- |", *rows]) + "\n"


def models_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = ["\n## Models and how they were trained\n",
             "| name | role | alpha | file (sha256) | noise | group | seed | steps | wall time (s) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for folder, e in entries:
        t = e.get("training", {})
        place = "models/" if folder == models_dir() else f"$GAITANON_CACHE/{folder.name}/"
        steps, wall = t.get("steps", ""), t.get("wall_time_s", "")
        if t.get("selected_on_validation"):
            steps, wall = f"{steps} (selected) of {t['run_steps']}", f"{wall} of {t['run_wall_time_s']}"
        lines.append(f"| {e['name']} | {e['role']} | {e.get('alpha', '')} | {place}{e['file']} ({e['sha256'][:12]}) "
                     f"| {e.get('noise', {}).get('kind', '')} | {t.get('group', '')} | {t.get('seed', '')} "
                     f"| {steps} | {wall} |")
    lines += ["", "Commands (seeded; the fit takes under a minute on one core, the evaluation hours, cached and resumable "
              "under `$GAITANON_CACHE`):", "```",
              "python -m training.dataset --groups noise anonymiser validation   # contour cache",
              "python -m training.train_identity fit --name identity_v4 --components 24 --phases 24 --seed 5",
              "python -m training.train_identity measure --name identity_v4 --weights 0.5 0.7 0.85 1   # validation",
              "python -m training.train_identity export --name identity_v4 --weights 0.5 0.7 0.85 1    # candidate folder",
              "python -m training.train_identity ship --name identity_v4 --weights 0.85 1 --default 1   # models/",
              "python -m training.train_attackers                                   # the shipped attacker",
              "python -m training.evaluate --set-seeds 1                            # test figures into the manifest",
              "python -m training.adapted_attackers                                 # the privacy check's attackers",
              "python -m training.privacy_floor --write                             # the regression floor",
              "python -m training.model_card                                       # this card", "```"]
    return "\n".join(lines) + "\n"


def validation_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = ["\n## Validation figures (subjects 077-084, canonical units: 1 = body height)\n",
             "Written by `python -m training.train_identity measure` (training/identity_validation.py), all 11 "
             "views. Distances are mean point distances; motion and jitter ratios compare the output's "
             "frame-to-frame (and second) differences with the original's; folded = share of frames whose "
             "outline crosses itself; attacker success = share of anonymized nm-05/06 walks the shipped "
             "distortion-trained GEI CNN does not match to the right person (rank-1, same view, original "
             "gallery); tool-owner success = the same after subtracting the mean change measured on the "
             "anonymiser subjects; two draws linked = rank-1 of one draw against another draw of every walk "
             "(lower is better). These chose the stops; the published figures are the evaluation's below.\n",
             "| model | " + " | ".join(label for _, label, _ in VALIDATION_COLUMNS) + " |",
             "| --- |" + " --- |" * len(VALIDATION_COLUMNS)]
    for _, e in entries:
        v = e.get("validation")
        if v:
            lines.append(f"| {e['name']} | " + " | ".join(_number(v.get(k), d) for k, _, d in VALIDATION_COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def noise_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = ["\n## Noise generators (`training.train_noise.noise_quality`, 200 samples)\n",
             "Root-mean-square point distances in canonical units: from each generated sample to the "
             "nearest real sample of the noise group (a generator that copied real people would sit "
             "near 0), between generated samples, and between real samples.\n",
             "| name | kind | self-intersecting frames | to nearest real | between generated | real to real |",
             "| --- | --- | --- | --- | --- | --- |"]
    for _, e in entries:
        q = e.get("quality")
        if e["role"] == "noise_generator" and q:
            lines.append(f"| {e['name']} | {e['noise']['kind']} | {_number(q['self_intersecting_share'], 3)} "
                         f"| {_number(q['nearest_real_distance'], 4)} | {_number(q['nearest_generated_distance'], 4)} "
                         f"| {_number(q['real_to_real_distance'], 4)} |")
    return "\n".join(lines) + "\n" if len(lines) > 4 else ""  # the identity generator has no such block


def evaluation_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    evaluated = [(f, e) for f, e in entries if e.get("evaluation") and e["role"] == "anonymizer"]
    lines = ["\n## Evaluation figures (test subjects 085-100; written by `python -m training.evaluate`)\n",
             "Success = share of anonymized nm-05/06 walks NOT identified (rank-1, same view, mean of the views) "
             "against an attacker who owns the tool (adaptive: retrained on this model's outputs; tool owner: its "
             "mean change undone), and linking (rank-1 of anonymized walks matched to anonymized walks; lower is "
             "better). Figures against recognisers that never saw the tool's output are in reports/evaluation.md.\n"]
    if not evaluated:
        return "\n".join(lines + ["Not run yet for these files: see reports/evaluation.md once it is.\n"])
    for _, e in evaluated:
        ev = e["evaluation"]
        protection = ev.get("protection") or {}
        attacks = protection.get("success_rank1") or {}
        measured = "; ".join(f"{name} {_number((v or {}).get('mean'), 3)}" for name, v in attacks.items()) or "not measured"
        links = protection.get("linkability_rank1") or {}
        lines.append(f"- **{e['name']}** ({ev.get('mode')}, {ev.get('date')}, `{ev.get('command')}`): "
                     f"weakest success {_number(protection.get('weakest_success_rank1'), 3)} ({measured}); "
                     f"linking rank-1: two draws {_number(links.get('two_draws_same_walk'), 3)}, anonymized gallery "
                     f"{_number(links.get('anonymized_gallery'), 3)}; frame score relative "
                     f"{_number(ev.get('frame_score_relative'), 3)} (person detector on the colour output of the four "
                     f"clips: {_number((ev.get('video') or {}).get('frame_score_relative'), 3)}); motion ratio "
                     f"{_number(ev.get('motion_ratio'), 2)}; "
                     f"self-intersecting raw {_number(ev.get('raw_self_intersection_share'), 3)}, after the engine "
                     f"{_number(ev.get('self_intersection_share'), 3)}")
    return "\n".join(lines) + "\n"


def floor_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    lines = []
    for _, e in entries:
        if floor := e.get("privacy_floor"):
            lines.append(f"\n## Privacy floor (a regression guard)\n\n`{floor['command']}` measured {e['name']} on "
                         f"{floor['probes']} validation walks (views {', '.join(floor['views'])}): tool-owner success "
                         f"{_number(floor['tool_owner_success'], 3)}; tests/test_privacy_floor.py fails below "
                         f"{_number(floor['floor'], 3)}, so a weaker default cannot land silently.\n")
    return "".join(lines)


def attackers_section(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    rows = [f"| {e['name']} | {e.get('adapted_to') or 'none (distortion-trained)'} | {e['file']} ({e['sha256'][:12]}) "
            f"| {_number((e.get('calibration') or {}).get('threshold'), 3)} "
            f"| {_number((e.get('calibration') or {}).get('equal_error_rate'), 3)} |"
            for _, e in entries if e["role"] == "attacker"]
    if not rows:
        return ""
    return "\n".join(["\n## The privacy check's attackers (calibrated on validation subjects 077-084)\n",
                      "| name | adapted to | file (sha256) | equal-error distance | equal error rate |",
                      "| --- | --- | --- | --- | --- |", *rows]) + "\n"


def render() -> str:
    everything = all_entries()
    entries = [(f, e) for f, e in everything if e["role"] in ("noise_generator", "anonymizer", "reference", "baseline")]
    return INTRO + subjects_section() + models_section(entries) + validation_section(entries) + noise_section(entries) \
        + evaluation_section(entries) + floor_section(entries) + attackers_section(everything) + LIMITS


README_BEGIN = "<!-- figures from models/manifest.json (python -m training.model_card): begin -->"
README_END = "<!-- figures: end -->"


def readme_figures(entries: list[tuple[Path, dict[str, Any]]]) -> str:
    """The README's headline, generated from the shipped manifest's evaluation blocks (never typed)."""
    rows = ["| strength | measured | not identified by an attacker who owns the tool (weakest) | by each of those attacks "
            "| two draws of a walk linked | anonymized gallery linked | vs distortion-trained GEI CNN (never saw the tool) "
            "| colour clips through the engine (4): weakest of those attacks | person detector on the colour output "
            "| frame score (silhouettes) | motion | raw self-intersecting |",
            "|" + " --- |" * 12]
    unmeasured = []
    for folder, e in entries:
        if folder != models_dir() or e["role"] != "anonymizer":
            continue
        ev = e.get("evaluation")
        if not ev or "protection" not in ev:
            unmeasured.append(f"{e['alpha']:g}")
            continue
        protection = ev["protection"]
        attacks = "; ".join(f"{name}: {_percent((v or {}).get('mean'))}" for name, v in protection["success_rank1"].items())
        links = protection.get("linkability_rank1") or {}
        plain = (ev.get("success_rank1_same_view_nm") or {}).get("GEI CNN, distortion-trained")
        rows.append(f"| {e['alpha']:g} | {ev['mode']} run, {ev['date']} | **{_percent(protection['weakest_success_rank1'])}** "
                    f"| {attacks} | {_percent(links.get('two_draws_same_walk'))} | {_percent(links.get('anonymized_gallery'))} "
                    f"| {_percent(plain)} | {_percent(_video_weakest(ev.get('video')))} "
                    f"| {_number((ev.get('video') or {}).get('frame_score_relative'), 2)} "
                    f"| {_number(ev.get('frame_score_relative'), 2)} | {_number(ev.get('motion_ratio'), 2)} "
                    f"| {_percent(ev.get('raw_self_intersection_share'))} |")
    note = (f"\nStrengths {', '.join(unmeasured)}: not yet measured against an attacker who owns the tool; their "
            "earlier figures (an older protocol that cut off raised heads and adapted the attacker to 0.3 only) were "
            "removed rather than shown.\n" if unmeasured else "")
    return "\n".join([README_BEGIN, *rows, note, README_END])


def _video_weakest(video: dict[str, Any] | None) -> float | None:
    """The lowest video-domain success against an attacker who owns the tool (adaptive or tool owner)."""
    owned = [v for name, v in ((video or {}).get("success_rank1") or {}).items() if "adaptive" in name or "tool owner" in name]
    return min(owned) if owned else None


def _percent(value: Any) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def write_readme_figures(readme: Path, block: str) -> None:
    text = readme.read_text()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    readme.write_text(text[:start] + block + text[end:])


def main() -> None:
    path = models_dir() / "MODEL_CARD.md"
    path.write_text(render())
    print(f"wrote {path}")
    readme = models_dir().parent / "README.md"
    write_readme_figures(readme, readme_figures(all_entries()))
    print(f"wrote the figures block of {readme}")


if __name__ == "__main__":
    main()
