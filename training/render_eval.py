"""How the anonymized person is drawn (issue 14): the seam the original outline leaves inside the new body,
limbs drawn twice, faces an independent detector still finds (on the face walker, `training.face_walker`, and
a real clip), and an independent person detector's score; for the texture warp the engine ships (without
and with a cast shadow), and for the paper's eq. 9 (the evaluation condition), per clip.

    python -m training.render_eval [--clips FILE ...] [--faces-clip FILE] [--faces-only] [--json FILE]
    python -m training.render_eval --crops docs/render_eq9_vs_warp.png [--crop-clip FILE] [--crop-frame I]

Seam ratio of a frame: the output's gradient magnitude along the ORIGINAL outline, where that outline lies
`SEAM_INSET` px or more inside the new body, divided by the mean gradient along the same outline moved
`SEAM_INSET` px each way along its normal. Points whose moved copies come within `SEAM_CLEAR` px of the new
edge are left out, so the new body's own edge never enters the comparison. No seam: about 1.
Band edge ratio: the same along the outer edge of the band around S_Or where the background image replaced
the frame (`band_edge_ratio`): a band lighter or darker than the live frame shows the original outline grown
by the margin.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from gaitanon_core.options import default_strength
from gaitanon_core.paths import shared_data_dir
from gaitanon_core.pipeline import AnonymizeOptions, PreviewFrame, anonymize_clip, model_bank
from gaitanon_core.pipeline.route import clip_segmenter
from gaitanon_core.video import probe
from gaitanon_core.render.colouring import colour_frame, scene_margin
from gaitanon_core.render.warp import OutlinePair
from gaitanon_core.shape import codec
from gaitanon_core.shape.tracking import FrameShape, MaskCrop, anonymized_silhouette, outline_pair
from gaitanon_core.render.faces import FACE_MODES
from training.demo_walker import LIMBS, WalkerClip, WalkerIdentity, render_walk
from training.face_walker import face_walk

SEAM_INSET = 3.0  # px: how far inside the new body the original outline must lie, and how far it is moved
SEAM_CLEAR = 2.0  # px: the moved copies stay at least this far inside the new body
BAND_CLEAR = 6.0  # px: the band's edge points (and 3 px less for their moved copies) this far from the new body
MIN_SEAM_POINTS = 20  # a frame with fewer usable outline points has no seam ratio
LABEL_STEP = 40  # a label l is drawn as grey level l * LABEL_STEP, so it survives the colouring's blending
LABEL_TOLERANCE = 4  # grey levels: farther from l * LABEL_STEP is a blend of two parts, not the part
COPY_SHARE = 0.2  # a separate piece of a limb counts as a copy when it holds this share of the limb's pixels
DETECT_EVERY = 2  # the person detector sees every 2nd frame (every 6th gave 12-14 frames a clip: too noisy)
WALKER_HEAD_SHARE = 0.3  # a face counts when its centre lies in this top share of the walker's box
CASIA_CLIPS = ("002-nm-01-090.avi", "003-nm-01-090.avi", "004-nm-01-090.avi", "006-nm-01-090.avi")
CONDITIONS = {  # the render options of each measured condition: the default, with a cast shadow, eq. 9
    "warp": {"colouring": "warp", "cast_shadow": False},
    "warp + shadow": {"colouring": "warp", "cast_shadow": True},
    "eq9": {"colouring": "eq9", "cast_shadow": False},
}


def seam_ratio(image: np.ndarray, original: np.ndarray, anonymized: np.ndarray) -> float | None:
    """The seam ratio of one frame (module docstring); None when too little of the outline lies inside."""
    depth = cv2.distanceTransform(np.pad(anonymized, 1).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)[1:-1, 1:-1]
    return _edge_ratio(image, _outline(original), depth, SEAM_INSET, SEAM_CLEAR)


def band_edge_ratio(image: np.ndarray, original: np.ndarray, anonymized: np.ndarray) -> float | None:
    """The same ratio along the outer edge of the band where the background image replaced the frame
    (`scene_margin` around S_Or, less a pixel), on its upper three quarters (the shadow's band below is
    left out) and `BAND_CLEAR` px or more from the new body: the original outline grown by the margin."""
    margin = scene_margin(original)
    distance = cv2.distanceTransform((~original).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    edge = _outline(distance <= margin - 1.0)
    rows = np.flatnonzero(original.any(axis=1))
    edge = edge[edge[:, 1] < rows[0] + 0.75 * (rows[-1] - rows[0])] if rows.size else edge
    clear = cv2.distanceTransform((~anonymized).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_5)
    return _edge_ratio(image, edge, clear, BAND_CLEAR, SEAM_INSET)


def _edge_ratio(image: np.ndarray, outline: np.ndarray, room: np.ndarray, on_room: float,
                moved_room: float) -> float | None:
    """Mean gradient on `outline` over the mean on its copies moved SEAM_INSET px along the normal, at points
    where `room` (a distance map) is >= `on_room` on the outline and >= `moved_room` on both copies."""
    if len(outline) < MIN_SEAM_POINTS:
        return None
    normal = _normals(outline)
    copies = [outline + SEAM_INSET * normal, outline - SEAM_INSET * normal]
    usable = _sample(room, outline) >= on_room
    for moved in copies:
        usable &= _sample(room, moved) >= moved_room
    if np.count_nonzero(usable) < MIN_SEAM_POINTS:
        return None
    gradient = _gradient(image)
    beside = np.mean([_sample(gradient, moved[usable]).mean() for moved in copies])
    return float(_sample(gradient, outline[usable]).mean() / max(beside, 1e-6))


def _outline(mask: np.ndarray) -> np.ndarray:
    """(M, 2) x, y of every outer boundary pixel of every part of the mask, in order along each part."""
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    parts = [c[:, 0, :].astype(np.float64) for c in contours if len(c) >= 5]
    return np.vstack(parts) if parts else np.zeros((0, 2))


def _normals(points: np.ndarray) -> np.ndarray:
    """Unit normals from the neighbours two points away (the sign does not matter: both sides are used)."""
    tangent = np.roll(points, -2, axis=0) - np.roll(points, 2, axis=0)
    normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    return normal / np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)


def _sample(values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Nearest-pixel samples of a 2-D array at x, y points (clipped to the image)."""
    cols = np.clip(np.round(points[:, 0]).astype(int), 0, values.shape[1] - 1)
    rows = np.clip(np.round(points[:, 1]).astype(int), 0, values.shape[0] - 1)
    return values[rows, cols]


def _gradient(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))


# --- limbs drawn twice (the demo walker's part labels) ---------------------------------------------


def limb_copies(labels: np.ndarray, label: int, limb_area: int) -> int:
    """How many separate pieces of `labels == label` each hold `COPY_SHARE` of the limb's pixels or more."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((labels == label).astype(np.uint8), connectivity=8)
    return int(np.count_nonzero(stats[1:count, cv2.CC_STAT_AREA] >= COPY_SHARE * limb_area))


def limbs_drawn_twice(before: np.ndarray, after: np.ndarray) -> list[str]:
    """The limbs the output shows in more pieces than the input did (a second arm beside the first)."""
    twice = []
    for name, label in LIMBS.items():
        area = int(np.count_nonzero(before == label))
        if area and limb_copies(after, label, area) > max(1, limb_copies(before, label, area)):
            twice.append(name)
    return twice


def drawn_labels(labels: np.ndarray, person: np.ndarray, anonymized: np.ndarray,
                 outline: OutlinePair | None) -> np.ndarray:
    """The part labels as the colouring draws them: the label image through the same colouring as the frame."""
    grey = np.repeat((labels.astype(np.int32) * LABEL_STEP).astype(np.uint8)[..., None], 3, axis=2)
    drawn = colour_frame(grey, np.zeros_like(grey), person, anonymized, outline=outline)[..., 0].astype(np.int32)
    label = np.round(drawn / LABEL_STEP).astype(np.int32)
    pure = np.abs(drawn - label * LABEL_STEP) <= LABEL_TOLERANCE
    return np.where(pure & anonymized, label, 0).astype(np.uint8)


# --- the demo walker with its true silhouettes ----------------------------------------------------


@dataclass
class RenderedFrame:
    index: int
    image: np.ndarray  # the output frame
    original: np.ndarray  # S_Or (true)
    anonymized: np.ndarray  # S_An
    labels: np.ndarray | None = None  # the part labels as drawn


def true_silhouette_frames(clip: WalkerClip, condition: str = "warp", seed: int = 0,
                           alpha: float | None = None, faces: str = "keep") -> Iterator[RenderedFrame]:
    """The demo walker's whole-body frames anonymized from their TRUE silhouettes (no segmenter), each
    frame's own transform, the shipped default model, under one of `CONDITIONS`; with the drawn part labels
    when the clip has them."""
    colouring, cast = CONDITIONS[condition]["colouring"], CONDITIONS[condition]["cast_shadow"]
    bank = model_bank(None, "cpu")
    alpha = default_strength() if alpha is None else alpha
    n = bank.n_points or codec.N_POINTS
    shapes = [_whole_shape(t, mask, n) for t, mask in enumerate(clip.masks)
              if mask.any() and not MaskCrop.of(mask).touches_edge()]
    points = bank.anonymize(np.stack([s.contour for s in shapes]), alpha, np.random.default_rng(seed))
    for shape, new_points in zip(shapes, points):
        person, t = clip.masks[shape.index], shape.index
        anonymized = anonymized_silhouette(shape, new_points)
        outline = None if colouring == "eq9" else OutlinePair(*outline_pair(shape, new_points))
        image = colour_frame(clip.frames[t], clip.background, person, anonymized, shadow=clip.shadows[t],
                             outline=outline, faces=faces, cast=cast)
        labels = None if clip.limbs is None else drawn_labels(clip.limbs[t], person, anonymized, outline)
        yield RenderedFrame(t, image, person, anonymized, labels)


def _whole_shape(index: int, mask: np.ndarray, n: int) -> FrameShape:
    contour, transform = codec.mask_to_contour(mask, n)
    return FrameShape(index=index, person=MaskCrop.of(mask), shadow=MaskCrop.of(np.zeros_like(mask)),
                      segmenter="true", body="whole", people=1, camera_moved=False, measured=transform,
                      transform=transform, contour=contour, detail=n)


def demo_walker_measures(detector=None, clip: WalkerClip | None = None, seed: int = 0) -> dict[str, dict]:
    """Per condition on the demo walker (true silhouettes, part labels): the seam ratio's 90th percentile,
    the frames that draw a limb twice, and with a `detector` its mean person confidence every `DETECT_EVERY`
    frames (output and input)."""
    clip = clip or render_walk(WalkerIdentity(), limbs=True)
    rows = {}
    for condition in CONDITIONS:
        seams, twice, frames, person, original = [], 0, 0, [], []
        for frame in true_silhouette_frames(clip, condition, seed):
            frames += 1
            ratio = seam_ratio(frame.image, frame.original, frame.anonymized)
            seams += [] if ratio is None else [ratio]
            twice += bool(limbs_drawn_twice(clip.limbs[frame.index], frame.labels))
            if detector is not None and frame.index % DETECT_EVERY == 0:
                person.append(detector.person_confidence(frame.image))
                original.append(detector.person_confidence(clip.frames[frame.index]))
        rows[condition] = {"seam_p90": float(np.percentile(seams, 90)), "seam_frames": len(seams),
                           "limbs_twice": twice, "frames": frames}
        if detector is not None:
            rows[condition] |= {"person": float(np.mean(person)), "original_person": float(np.mean(original))}
    return rows


# --- real clips through the whole engine ----------------------------------------------------------


def engine_options(seed: int, **render: str | bool) -> AnonymizeOptions:
    """The engine as a user runs it (CPU, the strength the manifest marks as default), with a fixed draw."""
    return AnonymizeOptions(strength=default_strength(), device="cpu", seed=seed, **render)


@dataclass
class ClipMeasures:
    seams: list[float] = field(default_factory=list)  # per frame with a usable outline
    bands: list[float] = field(default_factory=list)  # the band edge's ratio, per frame with enough of it
    person: list[float] = field(default_factory=list)  # detector confidence, every DETECT_EVERY-th frame
    original_person: list[float] = field(default_factory=list)

    def seam_p90(self) -> float:
        return float(np.percentile(self.seams, 90)) if self.seams else float("nan")


def measure_clip(path: Path, condition: str, folder: Path, seed: int = 0, detector=None,
                 faces: str = "blur") -> ClipMeasures:
    """Anonymize `path` with the engine (its own segmentation) under one of `CONDITIONS` and measure every
    finished frame."""
    measures = ClipMeasures()

    def each(frame: PreviewFrame) -> None:
        ratio = seam_ratio(frame.anonymized, frame.original_silhouette, frame.anonymized_silhouette)
        if ratio is not None:
            measures.seams.append(ratio)
        band = band_edge_ratio(frame.anonymized, frame.original_silhouette, frame.anonymized_silhouette) \
            if frame.original_silhouette.any() else None
        if band is not None:
            measures.bands.append(band)
        if detector is not None and frame.index % DETECT_EVERY == 0 and frame.original_silhouette.any():
            measures.person.append(detector.person_confidence(frame.anonymized))
            measures.original_person.append(detector.person_confidence(frame.original))

    options = engine_options(seed, faces=faces, **CONDITIONS[condition])
    anonymize_clip(path, folder / f"{path.stem}_{condition.replace(', ', '_')}.mp4".replace(" ", "_"), options,
                   on_frame=each)
    return measures


# --- faces -------------------------------------------------------------------------------------------


def face_detectors() -> list[cv2.CascadeClassifier]:
    """OpenCV's frontal and profile face Haar cascades, shipped inside the opencv-python-headless wheel
    (nothing downloaded)."""
    names = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")
    return [cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name)) for name in names]


def face_boxes(image: np.ndarray, detectors: list[cv2.CascadeClassifier]) -> list[tuple[int, int, int, int]]:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return [tuple(int(v) for v in box) for detector in detectors
            for box in detector.detectMultiScale(grey, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24))]


def walker_faces(image: np.ndarray, walker: np.ndarray, detectors: list[cv2.CascadeClassifier],
                 static: list[tuple[int, int, int, int]]) -> int:
    """Faces found on the walker: boxes centred in the top `WALKER_HEAD_SHARE` of the walker's box.

    Only the walker counts (the engine anonymizes the walker), and a box the detectors also find in the
    clip's empty scene (`static`: a poster, a screen) is not a face on the walker. The detectors see the
    walker's box with a margin of half its height (the rest of the frame cannot hold a face on the walker)."""
    rows, cols = np.flatnonzero(walker.any(axis=1)), np.flatnonzero(walker.any(axis=0))
    if rows.size == 0:
        return 0
    bottom = rows[0] + WALKER_HEAD_SHARE * (rows[-1] - rows[0])
    pad = (rows[-1] - rows[0]) // 2
    top, left = max(rows[0] - pad, 0), max(cols[0] - pad, 0)
    crop = image[top : rows[-1] + pad + 1, left : cols[-1] + pad + 1]
    found = 0
    for x, y, w, h in face_boxes(crop, detectors):
        cx, cy = left + x + w / 2, top + y + h / 2
        on_walker = cols[0] <= cx <= cols[-1] and rows[0] <= cy <= bottom
        found += on_walker and not any(abs(cx - (sx + sw / 2)) < sw / 2 and abs(cy - (sy + sh / 2)) < sh / 2
                                       for sx, sy, sw, sh in static)
    return found


def face_check(path: Path, folder: Path, faces: str = "blur", seed: int = 0) -> dict[str, int]:
    """Frames where the detectors find a face on the walker in the input, and how many of those still show
    one on the walker (original or new place) in the output."""
    detectors = face_detectors()
    static = face_boxes(clip_segmenter(probe(path), None, None).background.image, detectors)
    counts = {"input_frames_with_faces": 0, "still_found": 0}

    def each(frame: PreviewFrame) -> None:
        if walker_faces(frame.original, frame.original_silhouette, detectors, static):
            counts["input_frames_with_faces"] += 1
            walker = frame.original_silhouette | frame.anonymized_silhouette
            counts["still_found"] += bool(walker_faces(frame.anonymized, walker, detectors, static))

    anonymize_clip(path, folder / f"{path.stem}_faces_{faces}.mp4",
                   engine_options(seed, faces=faces), on_frame=each)
    return counts


def face_walk_check(clip: WalkerClip, faces: str = "blur", seed: int = 0) -> dict[str, int]:
    """`face_check` on a walker clip with true silhouettes (`training.face_walker`): the whole-body frames
    where the detectors find a face on the walker in the input, and how many still show one in the output."""
    detectors = face_detectors()
    static = face_boxes(clip.background, detectors)
    counts = {"input_frames_with_faces": 0, "still_found": 0}
    for frame in true_silhouette_frames(clip, seed=seed, faces=faces):
        if walker_faces(clip.frames[frame.index], frame.original, detectors, static):
            counts["input_frames_with_faces"] += 1
            walker = frame.original | frame.anonymized
            counts["still_found"] += bool(walker_faces(frame.image, walker, detectors, static))
    return counts


CROP_ZOOM = 3  # the README's crops are enlarged this many times (nearest neighbour: pixels stay visible)


def side_by_side(path: Path, index: int, folder: Path, seed: int = 0) -> np.ndarray:
    """Original | eq. 9 | warp around the person on frame `index` of `path`, enlarged (RGB)."""
    shots: dict[str, PreviewFrame] = {}

    def keep(colouring: str):
        return lambda frame: shots.setdefault(colouring, frame) if frame.index == index else None

    for colouring in ("warp", "eq9"):  # as measured: the shipped default, and eq. 9 (no shadow)
        options = engine_options(seed, **CONDITIONS[colouring])
        anonymize_clip(path, folder / f"{path.stem}_crop_{colouring}.mp4", options, on_frame=keep(colouring))
    warp, eq9 = shots["warp"], shots["eq9"]
    rows = np.flatnonzero((warp.original_silhouette | warp.anonymized_silhouette).any(axis=1))
    cols = np.flatnonzero((warp.original_silhouette | warp.anonymized_silhouette).any(axis=0))
    box = (slice(max(rows[0] - 6, 0), rows[-1] + 7), slice(max(cols[0] - 6, 0), cols[-1] + 7))
    panels = [warp.original[box], eq9.anonymized[box], warp.anonymized[box]]
    gap = np.full((panels[0].shape[0], 2, 3), 255, np.uint8)
    strip = np.hstack([panels[0], gap, panels[1], gap, panels[2]])
    return cv2.resize(strip, None, fx=CROP_ZOOM, fy=CROP_ZOOM, interpolation=cv2.INTER_NEAREST)


def main(argv: list[str] | None = None) -> int:
    from training.naturalness import PersonDetector

    clips_dir = shared_data_dir() / "clips"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="*", type=Path, default=[clips_dir / c for c in CASIA_CLIPS])
    parser.add_argument("--faces-clip", type=Path, default=clips_dir / "demo1.mp4")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--faces-only", action="store_true", help="only the face check")
    parser.add_argument("--crops", type=Path, default=None, help="write only the README's side-by-side crops (PNG)")
    parser.add_argument("--crop-clip", type=Path, default=clips_dir / CASIA_CLIPS[1])
    parser.add_argument("--crop-frame", type=int, default=60)
    args = parser.parse_args(argv)
    if args.crops:
        with tempfile.TemporaryDirectory(prefix="gaitanon-crops-") as folder:
            strip = side_by_side(args.crop_clip, args.crop_frame, Path(folder))
        cv2.imwrite(str(args.crops), cv2.cvtColor(strip, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
        return 0
    detector = PersonDetector()
    result: dict = {"clips": {}, "demo_walker": {} if args.faces_only else demo_walker_measures(detector)}
    if result["demo_walker"]:
        print("demo walker", json.dumps(result["demo_walker"]), flush=True)
    with tempfile.TemporaryDirectory(prefix="gaitanon-render-eval-") as folder:
        for clip in [] if args.faces_only else args.clips:
            row = {}
            for condition in CONDITIONS:
                m = measure_clip(clip, condition, Path(folder), detector=detector)
                row[condition] = {"seam_p90": m.seam_p90(), "seam_frames": len(m.seams),
                                  "band_edge_median": float(np.median(m.bands)), "band_edge_p90": float(np.percentile(m.bands, 90)),
                                  "person": float(np.mean(m.person)), "original_person": float(np.mean(m.original_person))}
            result["clips"][clip.name] = row
            print(clip.name, json.dumps(row), flush=True)
        walker = face_walk()
        result["faces_walker"] = {mode: face_walk_check(walker, mode) for mode in FACE_MODES}
        print("face walker", json.dumps(result["faces_walker"]), flush=True)
        if args.faces_clip.is_file():
            result["faces"] = {mode: face_check(args.faces_clip, Path(folder), mode) for mode in ("keep", "blur")}
            print(args.faces_clip.name, json.dumps(result["faces"]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
