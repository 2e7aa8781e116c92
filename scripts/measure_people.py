"""Figures of a run with several people (README "Several people"; not a test).

From the input, the output and the JSON report of `gaitanon-cli anonymize IN -o OUT --report REPORT`:
the tracks, the share of track-frames covered instead of reshaped, the frames with something covered that
no track follows, and how person-like the output stays to a person detector the engine does not use
(OpenCV's HOG pedestrian detector), person by person: each person the detector finds in an input frame
against the best output detection on the same place (none: 0). The engine's own SSD detector is
reported too (it chose the tracks, so it is not independent).

    python scripts/measure_people.py IN OUT REPORT [--start S] [--end S] [--every 2]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.people.detection import PersonDetector
from gaitanon_core.video import read_frames

HOG_SCALE = 1.5  # vtest's people are about 90 px tall: HOG's window is 128 px
HOG_MIN_WEIGHT = 0.5  # a HOG window scoring less is not a person in the input
SSD_MIN_CONFIDENCE = 0.5  # detection.MIN_CONFIDENCE: the tracker's sure detections
SAME_PLACE_IOU = 0.5  # an output detection on the same place as the input's

Detector = Callable[[np.ndarray], list[tuple[np.ndarray, float]]]  # RGB frame -> (box x0 y0 x1 y1, score)


def hog_detector() -> Detector:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def people(image: np.ndarray) -> list[tuple[np.ndarray, float]]:
        larger = cv2.resize(image, None, fx=HOG_SCALE, fy=HOG_SCALE)
        rects, weights = hog.detectMultiScale(larger, winStride=(8, 8), padding=(8, 8), scale=1.05)
        return [(np.array([x, y, x + w, y + h], float) / HOG_SCALE, float(s))
                for (x, y, w, h), s in zip(rects, np.ravel(weights))]

    return people


def ssd_detector() -> Detector:
    ssd = PersonDetector()
    return lambda image: [(np.array([d.box.x0, d.box.y0, d.box.x1, d.box.y1], float), d.confidence)
                          for d in ssd.people(image, 0.0)]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def matched_score(box: np.ndarray, found: list[tuple[np.ndarray, float]]) -> float:
    """The best score of the output's detections on the same place as `box` (none: 0)."""
    return max((score for other, score in found if iou(box, other) >= SAME_PLACE_IOU), default=0.0)


def kept_scores(detectors: dict[str, tuple[Detector, float]], pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Per detector (with the score from which it calls something a person): the sum of the output's scores
    on the input's people over the sum of the input's."""
    sums = {name: [0, 0.0, 0.0] for name in detectors}  # people, input score, output score
    for original, anonymized in pairs:
        for name, (detect, floor) in detectors.items():
            found = detect(anonymized)
            for box, score in detect(original):
                if score >= floor:
                    sums[name][0] += 1
                    sums[name][1] += score
                    sums[name][2] += matched_score(box, found)
    return {name: {"people": n, "input": round(before / max(n, 1), 3), "output": round(after / max(n, 1), 3),
                   "kept": round(after / before, 3) if before else None} for name, (n, before, after) in sums.items()}


def track_figures(report: dict) -> dict:
    people = report["people"].values()
    frames, covered = sum(p["frames"] for p in people), sum(p["covered"] for p in people)
    unfollowed = {f["index"] for f in report["flagged"] if f["reason"].startswith("something moved")}
    return {"frames": report["frames"], "tracks": len(report["people"]), "track_frames": frames,
            "covered": covered, "covered_share": round(covered / max(frames, 1), 3),
            "frames_with_unfollowed_cover": len(unfollowed)}


def clip_pair_parser(description: str, report: bool = False) -> argparse.ArgumentParser:
    """Arguments of an input clip and its anonymized output (and the run's report), with the run's times."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("input", type=Path)
    parser.add_argument("output", type=Path)
    if report:
        parser.add_argument("report", type=Path)
    parser.add_argument("--start", type=float, help="the --start the output was made with")
    parser.add_argument("--end", type=float, help="the --end the output was made with")
    return parser


def main() -> None:
    parser = clip_pair_parser(__doc__.splitlines()[0], report=True)
    parser.add_argument("--every", type=int, default=2, help="score every Nth frame (HOG is slow)")
    args = parser.parse_args()
    figures = track_figures(json.loads(args.report.read_text()))
    frames = zip(read_frames(args.input, start=args.start, end=args.end), read_frames(args.output))
    pairs = ((original.image, anonymized.image) for k, (original, anonymized) in enumerate(frames)
             if k % args.every == 0)
    detectors = {"hog": (hog_detector(), HOG_MIN_WEIGHT), "ssd": (ssd_detector(), SSD_MIN_CONFIDENCE)}
    figures.update(kept_scores(detectors, pairs))
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
