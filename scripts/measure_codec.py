"""Measure the contour codec (gaitanon_core.contours) on CASIA-B 64x64 frames.

Prints the figures quoted in README "Contour codec":
- whether the frames follow the casiab64 mapping (rows 0-63, median column 32);
- round trip decode(encode(frame)) IoU against the frame, and against what the
  codec keeps by definition (the largest part, holes filled), mean and worst;
- the share of encoded contours that self-intersect;
- encode / decode speed in frames per second on one thread;
- how often a point-by-point blend of two people's contours self-intersects,
  for each layout (why the anchored layout exists);
- the arc-length share of each anchored piece (how SEGMENT_POINTS was set);
- the round trip per N (why N = 256);
- whether mirroring a frame mirrors its contour (training's mirror augmentation);
- the run-time path on 5x upscaled frames: mask_to_contour against encode_casiab.

With --smoothing instead: the per-frame transform on the four CASIA-B colour
clips (masks from gaitanon_core.silhouettes), raw against smoothed, and how
well smooth_transforms places frames it is told are cut off (the first and
last six whole-body frames, hidden and estimated from the rest).

Usage: nice -n 10 .venv/bin/python scripts/measure_codec.py [--every-subject 10] [--every-frame 1]
       nice -n 10 .venv/bin/python scripts/measure_codec.py --smoothing
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
from scipy import ndimage

from gaitanon_core.shape import codec as C
from gaitanon_core.shape.casiab import load_subject
from gaitanon_core.paths import shared_data_dir

ALL_SUBJECTS = [f"{i:03d}" for i in range(2, 101)]


def load_frames(subject_ids: list[str], every_frame: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Non-empty frames of every walk (all views, nm/bg/cl), their subject index and walk key."""
    frames, owner, keys = [], [], []
    for s, subject in enumerate(subject_ids):
        for key, walk in sorted(load_subject(subject).items()):
            walk = walk[::every_frame]
            walk = walk[walk.any(axis=(1, 2))]
            frames.append(walk)
            owner += [s] * len(walk)
            keys += [key] * len(walk)
    return np.concatenate(frames), np.array(owner), keys


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-frame IoU of two (T, H, W) bool stacks."""
    return (a & b).sum(axis=(1, 2)) / np.maximum((a | b).sum(axis=(1, 2)), 1)


def kept_by_definition(frame: np.ndarray) -> np.ndarray:
    """The largest 8-connected part with its holes filled: all the codec promises to keep."""
    labels, count = ndimage.label(frame, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))


def summary(values: np.ndarray) -> str:
    return f"mean {values.mean():.4f}, 1st percentile {np.percentile(values, 1):.4f}, worst {values.min():.4f}"


def centring(frames: np.ndarray) -> None:
    """Check the casiab64 mapping y = row / 64, x = (col - 32) / 64 on the data itself."""
    rows = frames.any(axis=2)
    fills_rows = rows[:, 0] & rows[:, -1]
    offset = np.array([C.median_column(f) for f in frames]) - C.CASIAB_CENTRE_COL
    print(f"centring: {np.sum(~fills_rows)} of {len(frames)} frames do not span rows 0-63; median column = 32 in "
          f"{np.mean(offset == 0):.2%}, {np.sum(np.abs(offset) > 1)} frames more than 1 column off "
          f"(furthest {np.abs(offset).max()})")


def round_trip(frames: np.ndarray, contours: np.ndarray) -> None:
    decoded = C.decode_casiab(contours)
    kept = np.stack([kept_by_definition(f) for f in frames])
    several = np.mean([ndimage.label(f, structure=np.ones((3, 3)))[1] > 1 for f in frames])
    print(f"round trip IoU vs the frame:                  {summary(iou(decoded, frames))}")
    print(f"round trip IoU vs largest part, holes filled: {summary(iou(decoded, kept))}")
    print(f"frames with more than one part: {several:.2%}")


def self_intersection_share(contours: np.ndarray) -> float:
    return float(np.mean([C.self_intersects(c) for c in contours]))


def speed(frames: np.ndarray, repeats: int = 3) -> None:
    """Frames per CPU second on one thread (CPU time, so a busy shared machine does not skew it)."""
    cv2.setNumThreads(1)
    batch = frames[:2000]
    encode_s = min(_cpu_seconds(lambda: C.encode_casiab(batch)) for _ in range(repeats))
    contours = C.encode_casiab(batch)
    decode_s = min(_cpu_seconds(lambda: C.decode_casiab(contours)) for _ in range(repeats))
    print(f"encode_casiab: {len(batch) / encode_s:.0f} frames/s, decode_casiab: {len(batch) / decode_s:.0f} frames/s"
          f" (one thread, CPU time, {len(batch)} frames, best of {repeats})")


def _cpu_seconds(work) -> float:
    start = time.process_time()
    work()
    return time.process_time() - start


def blend_pairs(owner: np.ndarray, keys: list[str], pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Random (i, j) frame pairs of different subjects seen from the same view."""
    views = np.array([k.split("_")[1] for k in keys])
    chosen = []
    while len(chosen) < pairs:
        i = int(rng.integers(len(owner)))
        others = np.flatnonzero((views == views[i]) & (owner != owner[i]))
        if others.size:
            chosen.append((i, int(rng.choice(others))))
    return np.array(chosen)


def blend_folds(frames: np.ndarray, pairs: np.ndarray) -> None:
    for layout in C.LAYOUTS:
        a = C.encode_casiab(frames[pairs[:, 0]], layout=layout)
        b = C.encode_casiab(frames[pairs[:, 1]], layout=layout)
        print(f"half-way blend of two people (same view), {layout}: "
              f"{self_intersection_share(0.5 * (a + b)):.2%} self-intersect ({len(pairs)} pairs)")


def layout_shares(frames: np.ndarray) -> None:
    shares = []
    for frame in frames:
        outline = C.canonical_outline(C.CASIAB_TRANSFORM.to_canonical(C.largest_outline(frame)))
        arc = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(np.vstack([outline, outline[:1]]), axis=0).T))])
        at = np.interp(C.layout_anchors(outline), np.arange(len(arc)), arc)
        shares.append(np.diff(at) / at[-1])
    shares = np.array(shares)
    for name, column in zip(C.ANCHOR_NAMES, shares.T):
        print(f"piece from {name:10s}: arc share median {np.median(column):.3f}, "
              f"10th-90th percentile {np.percentile(column, 10):.3f}-{np.percentile(column, 90):.3f}")


def n_sweep(frames: np.ndarray) -> None:
    kept = np.stack([kept_by_definition(f) for f in frames])
    for n in (64, 128, 192, 256, 384):
        print(f"N = {n:3d}: round trip IoU vs largest part, holes filled: "
              f"{summary(iou(C.decode_casiab(C.encode_casiab(frames, n)), kept))}")


def mirror_check(frames: np.ndarray) -> None:
    """Encoding the mirrored frame should give the mirrored contour (x -> -x, order i -> -i mod N)."""
    mirrored = np.roll(frames[:, :, ::-1], 1, axis=2)  # column c -> 64 - c, so x -> -x exactly
    direct = C.encode_casiab(frames)
    flipped = direct[:, (-np.arange(C.N_POINTS)) % C.N_POINTS].copy()
    flipped[..., 0] *= -1
    error_px = np.abs(C.encode_casiab(mirrored) - flipped).max(axis=(1, 2)) * C.CASIAB_SIZE
    print(f"mirror: {np.mean(error_px < 1e-4):.2%} of frames exact, worst {error_px.max():.2f} px")


def full_resolution(frames: np.ndarray, factor: int = 5) -> None:
    """mask_to_contour on frames drawn 5x larger (nearest, so the parts stay the same) at an offset.

    Each frame is first shifted to put its own median column on 32, which is
    where mask_to_contour puts x = 0 (CASIA-B's own centring is off by up to
    a column on some frames).
    """
    errors, coarse, restored = [], [], []
    for frame in frames:
        centred = np.roll(frame, 32 - C.median_column(frame), axis=1)
        big = np.repeat(np.repeat(centred, factor, axis=0), factor, axis=1)
        canvas = np.zeros((64 * factor + 40, 64 * factor + 60), bool)
        canvas[20 : 20 + big.shape[0], 30 : 30 + big.shape[1]] = big
        kept = kept_by_definition(canvas)
        points, transform = C.mask_to_contour(canvas)
        errors.append(np.abs(points - C.encode_casiab(centred[None])[0]).max() * C.CASIAB_SIZE)
        drawn = C.contour_to_mask(points, transform, canvas.shape, outline_rows=C.CASIAB_SIZE)
        coarse.append(iou(drawn[None], kept[None])[0])
        fine = C.detailed_contour(canvas, transform)
        back = C.contour_to_mask(C.restore_detail(fine, points, points), transform, canvas.shape)
        restored.append(iou(back[None], kept[None])[0])
    print(f"mask_to_contour vs encode_casiab on {factor}x frames: worst difference {max(errors):.2e} px (64-row units)")
    print(f"  IoU vs largest part, holes filled: the 64-row contour drawn at full size {summary(np.array(coarse))}")
    print(f"  IoU vs largest part, holes filled: full detail restored (no change)      {summary(np.array(restored))}")


CLIPS = ("002-nm-01-090.avi", "003-nm-01-090.avi", "004-nm-01-090.avi", "006-nm-01-090.avi")
HIDDEN_AT_EACH_END = 6


def transform_smoothing() -> None:
    from gaitanon_core.people.silhouettes import segment_clip  # only this measurement needs the segmenter

    for clip in CLIPS:
        masks = list(segment_clip(shared_data_dir() / "clips" / clip))
        raw = [C.mask_to_contour(m.person)[1] if m.person.any() else None for m in masks]
        whole = np.array([m.body == "whole" and t is not None for m, t in zip(masks, raw)])
        smooth = C.smooth_transforms(raw, list(whole))
        seen = np.flatnonzero(whole)
        hidden = np.r_[seen[:HIDDEN_AT_EACH_END], seen[-HIDDEN_AT_EACH_END:]]
        estimated = C.smooth_transforms(raw, list(whole & ~np.isin(np.arange(len(whole)), hidden)))
        height = np.mean([raw[i].scale for i in seen])
        print(f"{clip}: {len(masks)} frames, {len(seen)} whole-body")
        for name in ("scale", "x0", "y0"):
            before, after = _values(raw, name), _values(smooth, name)
            miss = np.abs(_values(estimated, name)[hidden] - after[hidden]) / height
            print(f"  {name:5s}: frame-to-frame bob (median |2nd difference|, whole runs) "
                  f"{_bob(before, whole):.2f} px raw -> {_bob(after, whole):.2f} px smoothed; "
                  f"hidden end frames off by median {np.median(miss):.3f}, worst {miss.max():.3f} body heights")


def _values(transforms: list, name: str) -> np.ndarray:
    return np.array([getattr(t, name) if t is not None else np.nan for t in transforms])


def _bob(values: np.ndarray, whole: np.ndarray) -> float:
    """Median |v[i+1] - 2 v[i] + v[i-1]| over frames whose neighbours are whole too: what steady motion leaves."""
    centre = np.flatnonzero(whole[1:-1] & whole[:-2] & whole[2:]) + 1
    return float(np.median(np.abs(values[centre + 1] - 2 * values[centre] + values[centre - 1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--every-subject", type=int, default=10, help="take every k-th subject of 002-100")
    parser.add_argument("--every-frame", type=int, default=1, help="take every k-th frame of each walk")
    parser.add_argument("--pairs", type=int, default=2000, help="blend pairs")
    parser.add_argument("--seed", type=int, default=0, help="for the sampled pairs and subsets (reproducibility)")
    parser.add_argument("--smoothing", action="store_true", help="measure transform smoothing on the colour clips")
    args = parser.parse_args()
    if args.smoothing:
        transform_smoothing()
        return
    rng = np.random.default_rng(args.seed)
    subject_ids = ALL_SUBJECTS[:: args.every_subject]
    frames, owner, keys = load_frames(subject_ids, args.every_frame)
    print(f"{len(frames)} non-empty frames of {len(subject_ids)} subjects ({', '.join(subject_ids)}), "
          f"all views, nm/bg/cl; layout {C.LAYOUT}, N = {C.N_POINTS}")
    centring(frames)
    contours = C.encode_casiab(frames)
    round_trip(frames, contours)
    sample = rng.choice(len(frames), size=min(5000, len(frames)), replace=False)
    print(f"encoded contours that self-intersect: {self_intersection_share(contours[sample]):.3%} "
          f"(of {len(sample)} sampled)")
    speed(frames)
    blend_folds(frames, blend_pairs(owner, keys, args.pairs, rng))
    layout_shares(frames[sample])
    n_sweep(frames[sample[:2000]])
    mirror_check(frames[sample])
    full_resolution(frames[sample[:200]])


if __name__ == "__main__":
    main()
