"""`gaitanon --self-test`: does this installation anonymize? Headless, no Qt, exit code 0 or 1.

It anonymizes the bundled demo clip with the shipped models into a temporary
folder, then segments the original and the output again with the engine's own
segmenter and compares the walker's silhouette frame by frame. Re-encoding alone
moves a silhouette by a few percent (3-11% of its area measured on the CASIA-B
clips), so a frame counts as changed when the two silhouettes' IoU is below
0.85; the check passes when most frames with the whole body in view changed and
the output kept every frame. This proves the bundle's models, ONNX Runtime, the
person-mask model and ffmpeg all load and work together, not that the result is
private (that is what the evaluation measures).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from gaitanon_core.errors import EXIT_FAILED, EXIT_OK, GaitanonError
from gaitanon_core.paths import demo_clip_path
from gaitanon_core.pipeline import AnonymizeOptions, anonymize_clip
from gaitanon_core.people.silhouettes import iou, segment_clip

CHANGED_BELOW_IOU = 0.85    # a frame's silhouette counts as changed below this IoU with the original
MOST_FRAMES = 0.5           # "most": more than half of the whole-body frames must have changed


def changed_share(original: Path, anonymized: Path) -> tuple[float, int, int]:
    """(share of whole-body frames whose silhouette changed, those frames, frames in the output)."""
    changed = whole = output_frames = 0
    for before, after in zip(segment_clip(original), segment_clip(anonymized), strict=False):
        output_frames += 1
        if before.body != "whole":
            continue
        whole += 1
        changed += iou(before.person, after.person) < CHANGED_BELOW_IOU
    return (changed / whole if whole else 0.0), whole, output_frames


def run_self_test(clip: Path | None = None, models_dir: Path | None = None) -> int:
    clip = clip or demo_clip_path()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gaitanon-self-test-") as folder:
        output = Path(folder) / "anonymized.mp4"
        try:
            report = anonymize_clip(clip, output, AnonymizeOptions(models_dir=models_dir))
            share, whole, output_frames = changed_share(clip, output)
        except GaitanonError as error:
            print(f"gaitanon self-test: FAILED: {error}", file=sys.stderr)
            return EXIT_FAILED
    passed = share > MOST_FRAMES and output_frames == report.frames and whole > 0
    print(f"gaitanon self-test: {'passed' if passed else 'FAILED'}: {clip.name}: {report.frames} frames on "
          f"{report.provider}, strength {report.alpha:g}; silhouette changed (IoU < {CHANGED_BELOW_IOU}) in "
          f"{share:.0%} of the {whole} whole-body frames; {output_frames} frames read back; "
          f"{time.perf_counter() - started:.1f} s")
    return EXIT_OK if passed else EXIT_FAILED
