"""Person IoU of the people pass (not a test): `find_people` on the four CASIA-B colour clips, every track's
person masks of a frame together, normalised the dataset's way and compared with its silhouettes frame by
frame (`training.silhouette_eval.casiab_ious`). The route's trackers and masks are judged by it (README
"Speed": how often the detector runs while all is calm).

    PYTHONPATH=. .venv/bin/python scripts/measure_people_iou.py
"""

from __future__ import annotations

import numpy as np

from gaitanon_core.pipeline.people import clip_segmenter, find_people
from gaitanon_core.shape import codec
from gaitanon_core.video import probe, read_frames
from training.silhouette_eval import CLIP_ALIGNMENT, casiab_ious, clip_path


def people_masks(subject: str) -> tuple[list[np.ndarray], int]:
    """Per video frame, every track's person mask together; and the number of tracks."""
    info = probe(clip_path(subject))
    people = find_people(clip_segmenter(info, None, None), read_frames(info.path, info), info.fps, codec.N_POINTS)
    masks = [np.zeros((info.height, info.width), bool) for _ in range(info.frame_count)]
    for track in people.tracks.values():
        for shape in track.shapes:
            if not shape.person.empty:
                masks[shape.index] |= shape.person.full()
    return masks, len(people.tracks)


def main() -> None:
    means = []
    print("| clip | tracks | person IoU (mean) | worst frame |\n| --- | --- | --- | --- |")
    for subject in sorted(CLIP_ALIGNMENT):
        masks, tracks = people_masks(subject)
        ious = casiab_ious(masks, subject)
        means.append(float(ious.mean()))
        print(f"| {subject} | {tracks} | {ious.mean():.4f} | {ious.min():.3f} |")
    print(f"| all four | | {np.mean(means):.4f} | |")


if __name__ == "__main__":
    main()
