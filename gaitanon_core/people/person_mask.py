"""A learned person mask on one person's box: MediaPipe's BlazePose landmark model.

`pose_landmark_full.tflite` (from the MediaPipe 0.10.21 wheel, Apache-2.0, in
`resources/person_models/`) takes a 256x256 crop around one person and, besides
the landmarks, returns a person-presence score and a 256x256 segmentation
logit map. Run on the walker's box only (not the whole frame), it separates the
legs, ignores shadows and rejects blobs that are not people, at about 16 ms a
box on one core here (12 ms on two). It runs in ai-edge-litert's interpreter (2-3x faster than
cv2.dnn on these files; STACK.md).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from ..errors import GaitanonError
from ..paths import resources_dir

MODEL_FILE = "pose_landmark_full.tflite"
INPUT_SIZE = 256
ROI_SCALE = 1.25  # MediaPipe's own margin around a person's box
SEGMENTATION_OUTPUT = "Identity_2"  # (1, 256, 256, 1) logits
PRESENCE_OUTPUT = "Identity_1"  # (1, 1) probability that a person is in the crop
OUTSIDE_LOGIT = -20.0  # what the box's pixels outside the crop get
# The interpreter's threads: two ran a box in 12.4 ms instead of 16.1 (2-core machine, 640x480 frame; more
# cores gain little on one 256x256 crop)
THREADS = min(2, os.cpu_count() or 1)
MAX_DETAIL_REDUCTION = 2.0  # a full-resolution crop is read for the model when reduced at most this much


def model_path() -> Path:
    return resources_dir() / "person_models" / MODEL_FILE


@dataclass(frozen=True)
class Box:
    """A region of the frame, in pixels, x1/y1 exclusive."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2.0, (self.y0 + self.y1) / 2.0

    def grown(self, fraction: float, shape: tuple[int, int]) -> Box:
        """The box grown by `fraction` of its height on every side, clipped to the frame."""
        return self.padded(int(round(fraction * self.height)), shape)

    def padded(self, pad: int, shape: tuple[int, int]) -> Box:
        """The box grown by `pad` px on every side, clipped to the frame."""
        return Box(max(0, self.x0 - pad), max(0, self.y0 - pad), min(shape[1], self.x1 + pad),
                   min(shape[0], self.y1 + pad))

    def rescaled(self, shape: tuple[int, int], to: tuple[int, int]) -> Box:
        """The box of a `shape` frame in the pixels of a `to` frame (the same picture, larger or not)."""
        ky, kx = to[0] / shape[0], to[1] / shape[1]
        return Box(int(self.x0 * kx), int(self.y0 * ky), min(to[1], int(np.ceil(self.x1 * kx))),
                   min(to[0], int(np.ceil(self.y1 * ky))))

    def union(self, other: Box) -> Box:
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def contains_centre_of(self, other: Box) -> bool:
        cx, cy = other.centre
        return self.x0 <= cx < self.x1 and self.y0 <= cy < self.y1

    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @staticmethod
    def of_mask(mask: np.ndarray) -> Box | None:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            return None
        return Box(int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


@dataclass(frozen=True)
class PersonPrediction:
    box: Box  # the region `logits` covers
    logits: np.ndarray  # (box.height, box.width) float32: > 0 means person
    presence: float  # the model's probability that the crop holds a person

    def probability(self) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.logits, -30.0, 30.0)))

    def extent(self) -> Box | None:
        """The box of the pixels the model calls person, in frame coordinates."""
        inner = Box.of_mask(self.logits > 0)
        if inner is None:
            return None
        return Box(inner.x0 + self.box.x0, inner.y0 + self.box.y0, inner.x1 + self.box.x0, inner.y1 + self.box.y0)


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """TFLite prints an INFO line on stderr when it creates its CPU delegate: keep the CLI clean."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class PersonMaskModel:
    """The BlazePose landmark model as a person-mask predictor on boxes."""

    def __init__(self, path: Path | None = None, threads: int = THREADS) -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = path or model_path()
        if not path.is_file():
            raise GaitanonError(f"The person model {path.name} is missing from {path.parent}; reinstall gaitanon.")
        with _quiet_stderr():
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
        self._segmentation = outputs[SEGMENTATION_OUTPUT]
        self._presence = outputs[PRESENCE_OUTPUT]

    def predict(self, frame: np.ndarray, box: Box, region: Box | None = None,
                detail: np.ndarray | None = None) -> PersonPrediction:
        """The person logits over `region` (default: the model's square crop within the frame). `detail`: the
        same picture at a larger size (full resolution, `frame` reduced from it), to read the crop from where
        `frame` has fewer pixels than the model takes (`_crop_source`)."""
        region = region or roi(box, frame.shape[:2])
        crop_to_frame = _roi_transform(box)
        source, source_to_crop = _crop_source(frame, detail, crop_to_frame, box)
        crop = cv2.warpAffine(source, source_to_crop, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT)
        self._interpreter.set_tensor(self._input, (crop.astype(np.float32) * (1.0 / 255.0))[None])
        self._interpreter.invoke()
        seg = self._interpreter.get_tensor(self._segmentation)[0, :, :, 0]
        presence = float(self._interpreter.get_tensor(self._presence).reshape(-1)[0])
        # Map the crop back onto the region only: the rest of the frame is not needed.
        to_region = crop_to_frame.copy()
        to_region[:, 2] += to_region[:, :2] @ np.array([region.x0, region.y0], np.float32)
        logits = cv2.warpAffine(seg, to_region, (region.width, region.height),
                                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=OUTSIDE_LOGIT)
        return PersonPrediction(region, logits, presence)


def roi(box: Box, shape: tuple[int, int]) -> Box:
    """The part of the frame the model sees for `box`: the square of `_roi_transform`, clipped."""
    cx, cy = box.centre
    half = max(box.width, box.height) * ROI_SCALE / 2
    return Box(max(0, int(cx - half)), max(0, int(cy - half)),
               min(shape[1], int(np.ceil(cx + half))), min(shape[0], int(np.ceil(cy + half))))


def _crop_source(frame: np.ndarray, detail: np.ndarray | None, frame_to_crop: np.ndarray, box: Box
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(picture, its pixels -> the crop's) to read the model's crop from: `detail` where `frame` would be
    enlarged into it and `detail` is reduced by at most MAX_DETAIL_REDUCTION (bilinear sampling skips pixels
    beyond that), else `frame`. On vtest (people about 30 px tall at the working size) the model called 21 %
    of the tracks' boxes empty from the working size, 16 % from full resolution."""
    side = max(box.width, box.height) * ROI_SCALE
    if detail is None or side >= INPUT_SIZE:
        return frame, frame_to_crop
    k = detail.shape[0] / frame.shape[0]
    if k <= 1 or side * k > MAX_DETAIL_REDUCTION * INPUT_SIZE:
        return frame, frame_to_crop
    # detail pixel -> frame pixel as cv2.resize maps pixel centres, then on into the crop
    detail_to_frame = np.array([[1 / k, 0.0, 0.5 / k - 0.5], [0.0, 1 / k, 0.5 / k - 0.5], [0.0, 0.0, 1.0]])
    return detail, (np.vstack([frame_to_crop, [0.0, 0.0, 1.0]]) @ detail_to_frame)[:2].astype(np.float32)


def _roi_transform(box: Box) -> np.ndarray:
    """Frame -> crop: a square of ROI_SCALE times the box's longer side, centred on the box."""
    cx, cy = box.centre
    side = max(box.width, box.height) * ROI_SCALE
    s = INPUT_SIZE / side
    return np.array([[s, 0.0, INPUT_SIZE / 2 - cx * s], [0.0, s, INPUT_SIZE / 2 - cy * s]], np.float32)
