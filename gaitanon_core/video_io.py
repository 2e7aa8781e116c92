"""Video in and out: probe a file, stream its frames upright, write H.264 MP4.

The public face of `video_probe` (what a file holds) and `video_writer`
(frames -> file by the rules of DESIGN.md "Video"); reading lives here.
Frames stream through an ffmpeg pipe one at a time, so memory stays constant
whatever the clip's length.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import InputError
from .video_probe import (
    MAX_DURATION_S,
    MAX_FRAMES,
    MAX_PIXELS,
    MAX_SIDE,
    VideoInfo,
    Watchdog,
    ffmpeg_args,
    frame_times,
    last_error_line,
    probe,
    select_frames,
    start_ffmpeg,
    stop_ffmpeg,
)
from .video_writer import ExportOptions, VideoWriter, remove_stale_temp_files

__all__ = [
    "MAX_DURATION_S", "MAX_FRAMES", "MAX_PIXELS", "MAX_SIDE",
    "ExportOptions", "Frame", "VideoInfo", "VideoWriter",
    "frame_times", "probe", "read_frames", "remove_stale_temp_files", "select_frames",
]  # fmt: skip

# ffmpeg must deliver each decoded frame within this long.
FRAME_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Frame:
    index: int  # position in the whole clip, not in the [start, end) excerpt
    time: float  # source time (s, from the container's start)
    image: np.ndarray  # HxWx3 uint8 RGB, upright


def _seek_point(times: np.ndarray, first: int) -> float | None:
    """Midway between the frame before `first` and `first`: ffmpeg's exact seek then starts at `first`."""
    if first == 0:
        return None
    return float(times[first - 1] + times[first]) / 2.0


def _decoder_command(info: VideoInfo, seek: float | None) -> list[str]:
    args = [] if seek is None else ["-ss", f"{seek:.6f}"]
    # ffmpeg applies the rotation flag while decoding (autorotate), so frames come out upright.
    args += ["-i", str(info.path), "-map", f"0:{info.video_stream}", "-an", "-sn", "-dn"]
    args += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    return ffmpeg_args(*args)


def _read_exact(stream, size: int) -> bytearray:
    """Up to `size` bytes (fewer only at the end); a fresh, writable buffer per frame."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    filled = 0
    while filled < size:  # pipes return short reads
        got = stream.readinto(view[filled:])
        if not got:
            return buffer[:filled]
        filled += got
    return buffer


def read_frames(path, info: VideoInfo | None = None, start=None, end=None) -> Iterator[Frame]:
    """Stream the frames with start <= time < end, upright, each with its source time."""
    info = info or probe(path)
    times = frame_times(info.path)
    wanted = select_frames(times, start, end)
    if not wanted:
        return
    frame_bytes = info.width * info.height * 3
    process = start_ffmpeg(_decoder_command(info, _seek_point(times, wanted.start)), stdout=subprocess.PIPE)
    watchdog = Watchdog(process, FRAME_TIMEOUT_S)
    try:
        for index in wanted:
            data = _read_exact(process.stdout, frame_bytes)
            watchdog.feed()
            if len(data) < frame_bytes:
                _raise_if_failed(process, watchdog, info.path, index)
                return  # ffmpeg decoded fewer frames than the container lists: end there
            image = np.frombuffer(data, dtype=np.uint8).reshape(info.height, info.width, 3)
            yield Frame(index=index, time=float(times[index]), image=image)
    finally:  # also when the consumer stops early: never leave ffmpeg running
        watchdog.stop()
        stop_ffmpeg(process)


def _raise_if_failed(process: subprocess.Popen, watchdog: Watchdog, path: Path, index: int) -> None:
    code = process.wait()
    if watchdog.fired:
        raise InputError(f"{path.name}: decoding stalled at frame {index}; the file may be damaged")
    if code != 0:
        raise InputError(f"{path.name}: decoding failed at frame {index} ({last_error_line(process)})")
