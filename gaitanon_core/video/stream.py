"""A file's frames, upright, through one of two backends.

`read_frames` is the exact backend: an ffmpeg pipe, one frame at a time (memory
stays constant whatever the clip's length), each frame at its own source time.
Everything anonymized or exported is read through it. `SeekableReader` is the
display backend: OpenCV's decoder kept open for random access (scrubbing) and a
quick front-to-back pass (`frames()`, what the GUI's preview proxy is filled
from). Both give HxWx3 uint8 RGB pictures.
"""

from __future__ import annotations

import queue
import subprocess
import threading
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from .ffmpeg import Watchdog, ffmpeg_args, source_input, start_ffmpeg, stop_ffmpeg, stopped_by_signal
from .probing import ShowinfoLog, VideoInfo, frame_times, probe, select_frames

__all__ = ["FRAME_TIMEOUT_S", "Frame", "SeekableReader", "read_chosen_frames", "read_frames"]

# ffmpeg must deliver each decoded frame within this long.
FRAME_TIMEOUT_S = 60.0
# Chosen frames further apart than this are each reached by a seek (an ffmpeg start and the frames from the key
# frame before): decoding all that lies between the 30 background samples of a 10-minute 720p clip took 70 s.
SEEK_GAP_S = 5.0


@dataclass(frozen=True)
class Frame:
    index: int  # position in the whole clip, not in the [start, end) excerpt
    time: float  # source time (s, from the container's start)
    image: np.ndarray  # HxWx3 uint8 RGB, upright


def _seek_point(times: np.ndarray, first: int) -> float | None:
    """Just before frame `first` (midway from the frame before), or None to decode from the start."""
    seek = float(times[first - 1] + times[first]) / 2.0 if first > 0 else 0.0
    return seek if seek > 0 else None


def _decoder_command(info: VideoInfo, seek: float | None, pick: str | None = None) -> list[str]:
    # Seek to the key frame before `seek` and keep the file's own timestamps: showinfo
    # then reports each decoded frame's pts, which names the frame whatever the seek did.
    args = [] if seek is None else ["-ss", f"{seek:.6f}", "-noaccurate_seek"]
    # ffmpeg applies the rotation flag while decoding (autorotate), so frames come out upright.
    args += ["-copyts", *source_input(info.path), "-map", f"0:{info.video_stream}", "-an", "-sn", "-dn"]
    # A stream that changes size midway is scaled to the size probed, the size of every Frame. showinfo leaves out
    # its per-plane checksums, means and deviations (1 ms a 720p frame in ffmpeg): only the time is read from it.
    frames = f"showinfo=checksum=0,scale={info.width}:{info.height}"
    if pick is not None:  # only these frames are converted and piped (each is still decoded)
        frames = f"select='{pick}',{frames}"
    args += ["-fps_mode", "passthrough", "-vf", frames, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    return ffmpeg_args("-nostats", *args, loglevel="info")


class _FrameClock(threading.Thread):
    """Drains ffmpeg's log and queues each decoded frame's time (s, from the container start)."""

    def __init__(self, process: subprocess.Popen, start_time: float):
        super().__init__(daemon=True)
        self._process = process
        self._log = ShowinfoLog(start_time)
        self.times: queue.Queue[float | None] = queue.Queue()
        self.log_tail: deque[str] = deque(maxlen=3)
        self.start()

    def run(self) -> None:
        for raw in self._process.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if frame := self._log.frame(line):
                self.times.put(frame[0])
            elif line and "Parsed_showinfo" not in line:
                self.log_tail.append(line)
        self._process.stderr.close()
        self.times.put(None)


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


def _frame_index(times: np.ndarray, time: float) -> int:
    """The listed frame nearest to a decoded frame's time."""
    right = int(np.clip(np.searchsorted(times, time), 1, len(times) - 1)) if len(times) > 1 else 0
    return right - 1 if right and abs(times[right - 1] - time) <= abs(times[right] - time) else right


def _decode(info: VideoInfo, times: np.ndarray, seek: float | None,
            pick: str | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(index, upright RGB image) of every frame ffmpeg decodes from `seek` on (those `pick` selects)."""
    frame_bytes = info.width * info.height * 3
    process = start_ffmpeg(_decoder_command(info, seek, pick), stdout=subprocess.PIPE, stderr_pipe=True)
    clock = _FrameClock(process, info.start_time)
    watchdog = Watchdog(process, FRAME_TIMEOUT_S)
    try:
        while len(data := _read_exact(process.stdout, frame_bytes)) == frame_bytes:
            watchdog.feed()
            time = clock.times.get(timeout=FRAME_TIMEOUT_S)
            if time is None:
                raise InputError(f"{info.path.name}: ffmpeg gave a frame without a timestamp")
            image = np.frombuffer(data, dtype=np.uint8).reshape(info.height, info.width, 3)
            watchdog.pause()  # while the consumer works, ffmpeg waits on a full pipe: not a stall
            yield _frame_index(times, time), image
            watchdog.feed()
        code = process.wait()
        clock.join(timeout=FRAME_TIMEOUT_S)  # its log tail explains a failure
        if watchdog.fired:
            raise InputError(f"{info.path.name}: decoding stalled; the file may be damaged")
        if code != 0:
            reason = clock.log_tail[-1] if clock.log_tail else f"exit code {code}"
            if stopped_by_signal(reason):
                raise KeyboardInterrupt
            raise InputError(f"{info.path.name}: decoding failed ({reason})")
    finally:  # also when the consumer stops early: never leave ffmpeg running
        watchdog.stop()
        stop_ffmpeg(process)
        clock.join(timeout=FRAME_TIMEOUT_S)


def _excerpt(info: VideoInfo, times: np.ndarray, wanted: range, seek: float | None):
    """Yield the wanted frames; return True when a seek missed the excerpt's first frame."""
    last = -1  # index of the last frame yielded
    with closing(_decode(info, times, seek)) as decoded:
        for index, image in decoded:
            if index < wanted.start:
                continue  # decoded from the key frame before the excerpt
            if index >= wanted.stop:
                return False
            if seek is not None and last < 0 and index > wanted.start:
                return True  # the seek overshot
            _check_continuity(info, times, last, index)
            last = index
            yield Frame(index=index, time=float(times[index]), image=image)
    if last < 0:
        return seek is not None
    if last < wanted.stop - 1:
        raise InputError(f"{info.path.name}: only {last + 1} of {len(times)} frames could be decoded; "
                         "the file is damaged or cut short")  # fmt: skip
    return False


def _check_continuity(info: VideoInfo, times: np.ndarray, last: int, index: int) -> None:
    """Every listed frame must come out once, in order: else the export could not keep the count."""
    if last >= 0 and index <= last:
        raise InputError(f"{info.path.name}: two frames share time {times[index]:.6f} s; cannot keep the timing")
    if last >= 0 and index > last + 1:
        raise InputError(f"{info.path.name}: frame {last + 1} cannot be decoded; the file is damaged")


def read_frames(path, info: VideoInfo | None = None, start=None, end=None) -> Iterator[Frame]:
    """Stream the frames with start <= time < end, upright, each with its source time.

    Seeks when the excerpt starts late; where the container cannot seek to a
    key frame before it (MPEG-TS, broken indexes) decodes from the start instead.
    """
    info = info or probe(path)
    times = frame_times(info.path)
    wanted = select_frames(times, start, end)
    if not wanted:
        return
    if (yield from _excerpt(info, times, wanted, _seek_point(times, wanted.start))):
        yield from _excerpt(info, times, wanted, None)


def read_chosen_frames(path, indices: Sequence[int], info: VideoInfo | None = None) -> Iterator[Frame]:
    """Only the frames at `indices` (clip positions, ascending), upright. Chosen frames more than SEEK_GAP_S
    apart are reached by a seek each (`_sought`); closer ones in one pass from the start: ffmpeg still decodes
    every frame before the last one chosen, but converts and hands over only these. A frame the decoder does not
    give is left out."""
    info = info or probe(path)
    times = frame_times(info.path)
    chosen = [k for k in indices if 0 <= k < len(times)]
    if len(chosen) > 1 and np.diff(times[chosen]).min() > SEEK_GAP_S:
        chosen = yield from _sought(info, times, chosen)
    if not chosen:
        return
    with closing(_decode(info, times, None, _selection(chosen))) as decoded:
        wanted = set(chosen)
        for index, image in decoded:
            if index in wanted:
                yield Frame(index=index, time=float(times[index]), image=image)
            if index >= chosen[-1]:
                return


def _sought(info: VideoInfo, times: np.ndarray, chosen: list[int]) -> Generator[Frame, None, list[int]]:
    """Each chosen frame from a seek to the key frame before it, only it converted; returns the chosen frames a
    seek missed, and those after them (a container that cannot seek: read from the start instead)."""
    for position, k in enumerate(chosen):
        seek = _seek_point(times, k)
        pick = None if seek is None else f"gte(t,{info.start_time + seek:.6f})"  # select's t: the file's own time
        with closing(_decode(info, times, seek, pick)) as decoded:
            index, image = next(decoded, (None, None))
        if index != k:
            return chosen[position:]
        yield Frame(index=k, time=float(times[k]), image=image)
    return []


def _selection(indices: Sequence[int]) -> str:
    """ffmpeg's `select` expression for the frames at `indices` (decoded from the start: `n` is the index).

    Evenly spaced indices (a range, or a list that is one) become one `between` and `mod`: ffmpeg refuses a
    chain of more than about a hundred `eq` terms ("Cannot allocate memory"), which every tenth frame of a
    clip over 40 s would be."""
    steps = {b - a for a, b in zip(indices, indices[1:])}
    if len(indices) > 1 and len(steps) == 1 and min(steps) > 0:
        start, step = indices[0], steps.pop()
        return f"between(n,{start},{indices[-1]})*not(mod(n-{start},{step}))"
    return "+".join(f"eq(n,{k})" for k in indices)


class SeekableReader:
    """Random access to one file's frames through OpenCV's decoder, kept open between reads: for display only.

    Scrubbing needs any frame fast; `read_frames` starts an ffmpeg process per
    seek, this decoder stays open: a step forward reads straight on, a jump seeks
    from the key frame before it. OpenCV numbers frames from their timestamps
    and the average rate, so on a variable-rate file an index may be off by a
    frame: whatever is anonymized or exported is read by `read_frames`. One
    thread at a time.
    """

    def __init__(self, path) -> None:
        self.path = Path(path)
        self._capture = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self._capture.isOpened():
            raise InputError(f"{self.path.name} cannot be decoded for preview")
        self._next = 0  # index the next plain read() returns

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as HxWx3 uint8 RGB, upright."""
        if index != self._next:  # a jump: seek (sequential play reads straight on)
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = self._capture.read()
        if not ok:
            self._next = -1
            raise InputError(f"frame {index} of {self.path.name} cannot be decoded")
        self._next = index + 1
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame from the current position to the end, front to back (HxWx3 uint8 RGB)."""
        while True:
            ok, bgr = self._capture.read()
            if not ok:
                self._next = -1
                return
            self._next += 1
            yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self._capture.release()
