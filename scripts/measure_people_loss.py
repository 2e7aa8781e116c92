"""Where an anonymized clip loses the person detector's confidence (README "Several people"; not a test).

From the input and the output of `gaitanon-cli anonymize IN -o OUT [--start S --end S]`, made with the same
times: the people pass is run again on the input (the anonymize run's own on a still camera, deterministic for
the same times; a moving camera's run segments a second time against its own backgrounds, which this does not),
and each person SSD finds in an input frame (as `measure_people.py`: every 2nd frame, score >= 0.5, the best
output detection on the same place, none: 0) is put with the track whose mask box holds most of theirs:

- whole: a whole body, their own;
- group: a whole body whose mask box is over GROUP_WIDTH times as wide as the person (the segmenter took two or
  more people as one, and one body is drawn for them);
- occluded / cut: a body partly hidden or at the frame's edge; none: no track holds them.

Per kind: people, the input's summed confidence and the share of it lost. Then, over every whole body's frames,
the drawn outline's fullness against the input's (area / height^2 of each contour filled on the network's
64-row grid; median of the ratios): under 1, the drawn bodies are slimmer than the masks they replace; and the
input masks' own fullness (full resolution).

    python scripts/measure_people_loss.py IN OUT [--start S] [--end S] [--seed 1]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gaitanon_core.options import default_strength
from gaitanon_core.pipeline.people import ClipPeople, clip_segmenter, find_people
from gaitanon_core.pipeline.route import anonymize_person, model_bank
from gaitanon_core.report import StageClock
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import complete_shapes
from gaitanon_core.video import probe, read_frames
from measure_people import SSD_MIN_CONFIDENCE, clip_pair_parser, matched_score, ssd_detector

GROUP_WIDTH = 1.45  # a track's mask box this many times a detected person's width holds more than them
HOLDS = 0.3  # a track holds a detected person when its mask box covers this share of their box


def people_of(source: Path, start: float | None, end: float | None) -> tuple[ClipPeople, float]:
    info = probe(source)
    segmenter = clip_segmenter(info, start, end, None)
    return find_people(segmenter, read_frames(info.path, info, start, end), info.fps, codec.N_POINTS), info.fps


def boxes_by_frame(people: ClipPeople) -> dict[int, list[tuple[np.ndarray, str]]]:
    """Frame index -> (mask box x0 y0 x1 y1, body) of every track found on it."""
    found: dict[int, list[tuple[np.ndarray, str]]] = {}
    for track in people.tracks.values():
        for shape in track.shapes:
            box = shape.person.box if not shape.person.empty else None
            if box is not None:
                found.setdefault(shape.index, []).append((np.array([box.x0, box.y0, box.x1, box.y1], float), shape.body))
    return found


def kind_of(person: np.ndarray, tracks: list[tuple[np.ndarray, str]]) -> str:
    area = max(1.0, (person[2] - person[0]) * (person[3] - person[1]))
    held = [(overlap_area(person, box) / area, box, body) for box, body in tracks]
    share, box, body = max(held, key=lambda h: h[0], default=(0.0, None, "none"))
    if share < HOLDS:
        return "none"
    if body == "whole" and (box[2] - box[0]) > GROUP_WIDTH * (person[2] - person[0]):
        return "group"
    return body


def overlap_area(a: np.ndarray, b: np.ndarray) -> float:
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def losses_by_kind(source: Path, target: Path, people: ClipPeople, start: float | None, end: float | None,
                   every: int = 2) -> dict[str, list[float]]:
    tracks, detect = boxes_by_frame(people), ssd_detector()
    kinds: dict[str, list[float]] = {}  # kind -> [people, input score, output score]
    pairs = zip(read_frames(source, start=start, end=end), read_frames(target))
    for k, (original, anonymized) in enumerate(pairs):
        if k % every:
            continue
        found = detect(anonymized.image)
        for box, score in detect(original.image):
            if score >= SSD_MIN_CONFIDENCE:
                sums = kinds.setdefault(kind_of(box, tracks.get(original.index, [])), [0, 0.0, 0.0])
                sums[0] += 1
                sums[1] += score
                sums[2] += matched_score(box, found)
    return kinds


def fullness(mask: np.ndarray) -> float | None:
    rows = np.flatnonzero(mask.any(axis=1))
    return None if len(rows) < 5 else float(mask.sum()) / float(rows[-1] - rows[0] + 1) ** 2


def drawn_fullness(people: ClipPeople, fps: float, seed: int) -> tuple[int, float, float]:
    """(whole-body frames, median of the anonymized contour's fullness over the input contour's, median
    fullness of the input masks themselves at full resolution)."""
    bank, clock, draws = model_bank(None, "cpu"), StageClock(), np.random.default_rng(seed)
    ratios, masks = [], []
    for track in people.tracks.values():
        clip = bank.start_clip(default_strength(None), draws)  # the strength and draws of an anonymize run
        shapes = [shape for run in track.runs() for shape in complete_shapes(run, codec.N_POINTS, fps)]
        for _, (shape, points) in anonymize_person(clip, shapes, clock):
            if points is None or shape.body != "whole":
                continue
            before, after = (fullness(codec.decode_casiab(c[None])[0]) for c in (shape.contour, points))
            mask = fullness(shape.person.full())
            if before and after and mask:
                ratios.append(after / before)
                masks.append(mask)
    if not ratios:
        return 0, float("nan"), float("nan")
    return len(ratios), float(np.median(ratios)), float(np.median(masks))


def main() -> None:
    parser = clip_pair_parser(__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="latents of the fullness figure's drawing")
    args = parser.parse_args()
    people, fps = people_of(args.input, args.start, args.end)
    kinds = losses_by_kind(args.input, args.output, people, args.start, args.end)
    lost = sum(before - after for _, before, after in kinds.values())
    print("| kind | people | input confidence | lost | share of all that is lost |")
    print("| --- | --- | --- | --- | --- |")
    for kind, (n, before, after) in sorted(kinds.items(), key=lambda kv: -(kv[1][1] - kv[1][2])):
        share = f"{(before - after) / lost:.0%}" if lost > 0 else "-"  # nothing lost on the whole: no shares
        print(f"| {kind} | {n} | {before:.1f} | {(before - after) / before:.1%} | {share} |")
    frames, ratio, mask = drawn_fullness(people, fps, args.seed)
    print(f"drawn outline fullness / input's: median {ratio:.3f} over {frames} whole-body frames "
          f"(the input masks' own fullness: median {mask:.3f})")


if __name__ == "__main__":
    main()
