"""`gaitanon-cli people`: the people in a clip, numbered, with a thumbnail each.

The numbers are the ones `gaitanon-cli anonymize --keep-track N` takes (for the
same --start/--end): everyone is anonymized unless kept by number.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from ..errors import EXIT_OK, GaitanonError
from ..pipeline import PersonTrack, people_in_clip
from ..video import frame_times
from ..video.probing import existing_file
from .anonymize import ProgressLine, add_time_options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "people",
        help="list the people in a video, numbered, with a thumbnail each",
        description="Find and follow every person in the video and list them by number, with the frames they are "
        "in and a thumbnail each, so that one can be kept unchanged with anonymize --keep-track N. The thumbnails "
        "show the people as they are: keep the folder private.",
    )
    parser.add_argument("input", type=Path, help="the video (never modified)")
    parser.add_argument("--thumbnails", type=Path, metavar="DIR",
                        help="folder for the thumbnails (default: a new private temporary folder, printed)")
    add_time_options(parser, "look at")
    parser.set_defaults(func=run_people)


def run_people(args: argparse.Namespace) -> int:
    source = args.input
    existing_file(source)  # a clear line for a folder or a missing file; the name stays as typed
    people = people_in_clip(source, args.start, args.end, progress=ProgressLine(source.name))
    folder = _thumbnail_folder(args.thumbnails)
    times = frame_times(source)
    if not people:
        print(f"{source}: nobody found")
    for track in people.values():
        thumbnail = _write_thumbnail(folder, track)
        print(f"person {track.id}: frames {track.first}-{track.last} ({times[track.first]:.2f}-"
              f"{times[track.last]:.2f} s, seen in {track.seen()}), thumbnail {thumbnail or 'none (never whole)'}")
    print(f"thumbnails in {folder}")
    return EXIT_OK


def _thumbnail_folder(folder: Path | None) -> Path:
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="gaitanon-people-"))  # mode 0700: only this user reads it
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GaitanonError(f"cannot make the thumbnail folder {folder}: {error.strerror}") from None
    return folder


def _write_thumbnail(folder: Path, track: PersonTrack) -> Path | None:
    """person-N.png in `folder`, written to a temporary name and renamed; None without a thumbnail."""
    if track.thumbnail is None:
        return None
    target = folder / f"person-{track.id}.png"
    temp = folder / f".person-{track.id}.part.png"
    _, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(track.thumbnail), cv2.COLOR_RGB2BGR))
    try:
        temp.write_bytes(encoded.tobytes())
        temp.replace(target)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise GaitanonError(f"cannot write the thumbnail {target}: {error.strerror}") from None
    return target
