"""`gaitanon-cli silhouettes INPUT -o OUT.mp4`: what the engine sees, as an overlay video.

Each frame shows the walker's mask outline (green), the shadow that will be
removed with them (tinted blue-violet) and the per-frame flags: which segmenter
made the mask, whether the body is whole, cut by the frame edge, occluded or
absent, how many people are in view, and whether the camera moved.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

from ..errors import EXIT_OK
from ..people.silhouettes import segment_clip
from ..render.overlay import draw_overlay
from ..video import ExportOptions, VideoWriter, probe, read_frames


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "silhouettes",
        help="write an overlay video of the person masks, shadows and per-frame flags",
        description="Segment the walking person in every frame and write a video that shows the mask "
        "outline, the shadow (tinted) and the per-frame flags (segmenter, body whole/cut/occluded/absent, "
        "people in view, camera moved). The video carries no audio and no metadata.",
    )
    parser.add_argument("input", type=Path, help="the video to inspect")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the overlay video to write (.mp4)")
    parser.add_argument("--start", type=float, default=None, help="first second to inspect")
    parser.add_argument("--end", type=float, default=None, help="second to stop at")
    parser.add_argument("--overwrite", action="store_true", help="replace OUTPUT if it exists")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = probe(args.input)
    masks = segment_clip(args.input, info, args.start, args.end)
    counts: Counter[str] = Counter()
    moved = 0
    options = ExportOptions(overwrite=args.overwrite)
    with VideoWriter(args.output, info, options, args.start, args.end) as writer:
        for frame, mask in zip(read_frames(args.input, info, args.start, args.end), masks, strict=True):
            writer.write(draw_overlay(frame.image, mask), frame.time)
            counts[f"{mask.segmenter}/{mask.body}"] += 1
            moved += mask.camera_moved
    summary = ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
    print(f"wrote {args.output}: {sum(counts.values())} frames (segmenter/body: {summary}; camera moved: {moved})")
    return EXIT_OK
