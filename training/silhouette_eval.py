"""Scoring silhouettes against CASIA-B's own: the four colour clips and their 64x64 sequences.

The clips `clips/SSS-nm-01-090.avi` are the raw videos of the `casiab64`
sequences `SSS.npz["nm-01_090"]`, which keep only the frames where the whole
person is in view: one contiguous block of the video's frames, found by best
mean IoU over offsets (data README). A full-resolution mask is normalised the
way the dataset is (`normalise_like_casiab`) and compared frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.shape.casiab import load_walk
from gaitanon_core.paths import shared_data_dir
from gaitanon_core.people.silhouettes import iou
from gaitanon_core.shape.casiab import normalise_like_casiab
from gaitanon_core.video import read_frames


@dataclass(frozen=True)
class ClipAlignment:
    subject: str
    first_frame: int  # the video frame of the dataset's first silhouette
    frames: int  # how many silhouettes the dataset keeps


CLIP_ALIGNMENT = {
    "002": ClipAlignment("002", 51, 61),
    "003": ClipAlignment("003", 40, 58),
    "004": ClipAlignment("004", 66, 68),
    "006": ClipAlignment("006", 38, 47),
}
TUNING_CLIPS = ("002", "003")  # the segmenter's levels were chosen on these
HELD_OUT_CLIPS = ("004", "006")


def clip_path(subject: str, data_dir: Path | None = None) -> Path:
    return (data_dir or shared_data_dir()) / "clips" / f"{subject}-nm-01-090.avi"


def read_clip(subject: str, data_dir: Path | None = None) -> list[np.ndarray]:
    """Every frame of the subject's colour clip, RGB (the clips are small: about 130 frames of 320x240)."""
    return [frame.image for frame in read_frames(clip_path(subject, data_dir))]


def casiab_ious(masks: list[np.ndarray], subject: str, data_dir: Path | None = None) -> np.ndarray:
    """Per dataset frame, the IoU of our normalised mask (masks indexed by video frame) with the dataset's."""
    alignment = CLIP_ALIGNMENT[subject]
    truth = load_walk(subject, "nm-01", "090", data_dir)
    if truth is None or len(truth) != alignment.frames:
        raise ValueError(f"casiab64 {subject} nm-01_090 does not match the clip alignment")
    return np.array([iou(normalise_like_casiab(masks[alignment.first_frame + k]), truth[k])
                     for k in range(alignment.frames)])


def plain_background_masks(frames: list[np.ndarray], level: float = 30.0) -> list[np.ndarray]:
    """The reference method of the data README: plain median background, max RGB difference above
    `level`, a 7-px closing, pieces under 5 % of the largest dropped."""
    background = np.median(np.stack(frames), axis=0).astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))
    masks = []
    for frame in frames:
        foreground = (np.abs(frame.astype(np.float32) - background).max(axis=-1) > level).astype(np.uint8)
        foreground = cv2.morphologyEx(foreground, cv2.MORPH_CLOSE, kernel)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(foreground)
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = np.flatnonzero(areas >= max(30, 0.05 * areas.max())) + 1 if count > 1 else []
        masks.append(np.isin(labels, keep))
    return masks
