"""Frames for the viewer, decoded off the GUI thread; the newest request wins.

Scrubbing needs random access fast (goal: under 100 ms at 720p). The engine's
reader streams through imageio-ffmpeg, where each seek would start an ffmpeg
process, so the preview decodes with the engine's `SeekableReader` (OpenCV's
`VideoCapture`, for display only) instead; the proxy below is filled from it too. A seek in H.264 decodes from the
previous keyframe (up to 250 frames: 0.8 s measured at 720p here), so a
background pass also keeps a JPEG of every frame in one private temporary file,
which serves any frame in about 20 ms; until a frame is in it, the seeking
decoder serves it. The review copy's proxy is filled by the render itself, one
frame as each is finished. While the user drags the slider, requests pile up;
only the latest one is decoded.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal

from gaitanon_core.pipeline import PreviewFrame
from gaitanon_core.video import SeekableReader


@dataclass(frozen=True)
class ShownFrame:
    """What the two panes show for one frame index."""

    index: int
    original: np.ndarray                      # HxWx3 RGB
    anonymized: np.ndarray | None = None      # None until that frame has been anonymized
    original_mask: np.ndarray | None = None
    anonymized_mask: np.ndarray | None = None
    xor: np.ndarray | None = None

    @classmethod
    def of(cls, preview: PreviewFrame) -> ShownFrame:
        return cls(preview.index, preview.original, preview.anonymized, preview.original_silhouette,
                   preview.anonymized_silhouette, preview.xor)


PROXY_MAX_SIDE = 1920     # bigger frames are stored smaller and scaled back up for display
PROXY_JPEG_QUALITY = 90


class FrameProxy:
    """A JPEG of every frame, appended to one file in a private temporary folder.

    It is a copy of the source footage, so it lives in a folder only this user can
    read (mkdtemp), and `close()` removes it when the clip is closed.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        self.size = size  # (width, height) to display
        scale = min(1.0, PROXY_MAX_SIDE / max(size))
        self._stored = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
        self.folder = Path(tempfile.mkdtemp(prefix="gaitanon-preview-"))
        self._file = self.folder / "frames.jpg-stream"
        self._spans: list[tuple[int, int]] = []  # (offset, length) per frame index
        self._lock = threading.Lock()

    def fill(self, path: Path) -> Iterator[int]:
        """Decode `path` front to back into the proxy (the engine's display decoder), yielding the frame count so far."""
        reader = SeekableReader(path)
        try:
            for rgb in reader.frames():
                yield self.add(rgb)
        finally:
            reader.close()

    def add(self, rgb: np.ndarray) -> int:
        """Append the next frame (HxWx3 RGB) as it is made; the frame count so far."""
        return self._append(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    def _append(self, bgr: np.ndarray) -> int:
        if bgr.shape[1::-1] != self._stored:
            bgr = cv2.resize(bgr, self._stored, interpolation=cv2.INTER_AREA)
        _, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, PROXY_JPEG_QUALITY])
        with self._lock, open(self._file, "ab") as sink:
            offset = sink.tell()  # append mode starts at the end
            sink.write(jpeg.tobytes())
            self._spans.append((offset, len(jpeg)))
            return len(self._spans)

    def has(self, index: int) -> bool:
        with self._lock:
            return 0 <= index < len(self._spans)

    def read(self, index: int) -> np.ndarray:
        with self._lock:
            offset, length = self._spans[index]
        with open(self._file, "rb") as source:
            source.seek(offset)
            data = np.frombuffer(source.read(length), np.uint8)
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
        if bgr.shape[1::-1] != self.size:
            bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_LINEAR)
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


FrameProvider = Callable[[int], ShownFrame]


class FrameServer(QObject):
    """A decoding thread: `request(i)` returns at once; `frame_ready` brings the frame."""

    frame_ready = Signal(object)   # ShownFrame
    failed = Signal(object)        # the exception

    def __init__(self) -> None:
        super().__init__()
        self._provider: FrameProvider | None = None
        self._wanted: int | None = None
        self._condition = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._serve, name="gaitanon-frames", daemon=True)
        self._thread.start()

    def set_provider(self, provider: FrameProvider | None) -> None:
        """The function that makes a frame; it runs in the decoding thread only."""
        with self._condition:
            self._provider = provider

    def request(self, index: int) -> None:
        with self._condition:
            self._wanted = index  # replaces any request not yet served
            self._condition.notify()

    def stop(self) -> None:
        with self._condition:
            self._stopping = True
            self._condition.notify()
        self._thread.join(timeout=5)

    def _next_job(self) -> tuple[int, FrameProvider] | None:
        with self._condition:
            while not self._stopping and (self._wanted is None or self._provider is None):
                self._condition.wait()
            if self._stopping:
                return None
            index, self._wanted = self._wanted, None
            return index, self._provider

    def _serve(self) -> None:
        while (job := self._next_job()) is not None:
            index, provider = job
            try:
                self.frame_ready.emit(provider(index))
            except Exception as error:  # shown by the GUI thread as one sentence
                self.failed.emit(error)
