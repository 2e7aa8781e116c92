"""Frames -> H.264 MP4 by the rules of DESIGN.md "Video".

ffmpeg cannot take per-frame timestamps on a raw-video pipe, so the writer pipes
a minimal Matroska stream it writes itself: one cluster per frame carrying the
frame's own time and duration (microseconds). ffmpeg encodes it with
`-fps_mode passthrough` and no B-frames, so every output frame keeps its source
time exactly and the frame count never changes (variable-rate clips included).

The output is upright (frames arrive upright; no rotation flag is written),
carries no metadata, chapters, subtitles, attachments or encoder tag unless the
user keeps metadata, and carries NO audio unless the user keeps it: voices and
footsteps identify people as well as gait does. It is written to a hidden
temporary file beside the target and renamed only when complete.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np

from ..errors import GaitanonError, UsageError
from ..options import DEFAULT_CRF, DEFAULT_PRESET
from .ffmpeg import Watchdog, ffmpeg_args, last_error_line, source_input, start_ffmpeg, stop_ffmpeg, stopped_by_signal
from .probing import VideoInfo, frame_times, select_frames

__all__ = ["X264_PRESETS", "ExportOptions", "VideoWriter", "check_target", "remove_stale_temp_files"]

TEMP_PREFIX = ".gaitanon-tmp-"
# A temporary file this old whose writer process is gone is left from a killed run.
STALE_TEMP_AGE_S = 10 * 60
# Without a way to ask whether the writing process lives, only much older files go.
STALE_TEMP_AGE_NO_PID_CHECK_S = 24 * 3600
# ffmpeg must take each frame within this long, and finish within FINISH_TIMEOUT_S.
FRAME_TIMEOUT_S = 120.0
FINISH_TIMEOUT_S = 600.0
ENCODER_EXIT_TIMEOUT_S = 10.0
TARGET_SUFFIXES = {".mp4", ".m4v"}
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
AUDIO_BITRATE = "160k"
MP4_TIMESCALE = "90000"


@dataclass(frozen=True)
class ExportOptions:
    # keep_audio: off by default because voices and footsteps identify people.
    keep_audio: bool = False
    keep_metadata: bool = False
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    overwrite: bool = False


# --- a minimal Matroska stream: EBML elements ----------------------------------


def _ebml_size(n: int) -> bytes:
    for length in range(1, 9):
        if n < (1 << (7 * length)) - 1:  # all-ones is reserved for "unknown size"
            return ((1 << (7 * length)) | n).to_bytes(length, "big")
    raise ValueError(f"element of {n} bytes is too large for Matroska")


def _uint(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _element_head(element_id: int, payload_size: int) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big") + _ebml_size(payload_size)


def _element(element_id: int, payload: bytes) -> bytes:
    return _element_head(element_id, len(payload)) + payload


_UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"
_MICROSECONDS = 1000  # TimestampScale in nanoseconds per tick


def matroska_header(width: int, height: int) -> bytes:
    """EBML header, a live (unknown-size) segment and one raw RGB24 video track."""
    ebml = _element(
        0x1A45DFA3,
        _element(0x4286, _uint(1))  # EBMLVersion
        + _element(0x42F7, _uint(1))  # EBMLReadVersion
        + _element(0x42F2, _uint(4))  # EBMLMaxIDLength
        + _element(0x42F3, _uint(8))  # EBMLMaxSizeLength
        + _element(0x4282, b"matroska")  # DocType
        + _element(0x4287, _uint(4))  # DocTypeVersion
        + _element(0x4285, _uint(2)),  # DocTypeReadVersion
    )
    segment = (0x18538067).to_bytes(4, "big") + _UNKNOWN_SIZE
    info = _element(0x1549A966, _element(0x2AD7B1, _uint(_MICROSECONDS)))
    video = _element(
        0xE0,
        _element(0xB0, _uint(width)) + _element(0xBA, _uint(height)) + _element(0x2EB524, b"RGB\x18"),
    )
    track = (
        _element(0xD7, _uint(1))  # TrackNumber
        + _element(0x73C5, _uint(1))  # TrackUID
        + _element(0x83, _uint(1))  # TrackType: video
        + _element(0x86, b"V_UNCOMPRESSED")
        + video
    )
    return ebml + segment + info + _element(0x1654AE6B, _element(0xAE, track))


def matroska_frame_head(time_us: int, duration_us: int, pixel_bytes: int) -> bytes:
    """One cluster holding one frame (its time, its duration), up to where its
    RGB24 bytes follow: the pixels are written after it without being copied."""
    block_head = _element_head(0xA1, 4 + pixel_bytes) + b"\x81\x00\x00\x00"  # track 1, relative time 0
    group_tail = _element(0x9B, _uint(duration_us)) + block_head  # BlockDuration, then the Block
    group_head = _element_head(0xA0, len(group_tail) + pixel_bytes)
    timestamp = _element(0xE7, _uint(time_us))
    cluster_head = _element_head(0x1F43B675, len(timestamp) + len(group_head) + len(group_tail) + pixel_bytes)
    return cluster_head + timestamp + group_head + group_tail


# --- temporary files -------------------------------------------------------------


def _temp_path(folder: Path) -> Path:
    return folder / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.mp4"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _is_stale(path: Path, now: float) -> bool:
    try:
        age = now - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if os.name != "posix":  # os.kill(pid, 0) would terminate a process on Windows
        return age > STALE_TEMP_AGE_NO_PID_CHECK_S
    pid_text = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
    if not pid_text.isdigit():
        return age > STALE_TEMP_AGE_NO_PID_CHECK_S
    return age > STALE_TEMP_AGE_S and not _process_alive(int(pid_text))


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temporary files a killed run left in `folder`; returns what was deleted."""
    now = time.time()
    removed = []
    for path in folder.glob(f"{TEMP_PREFIX}*"):
        if path.is_file() and _is_stale(path, now):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _target_exists(target: Path) -> UsageError:
    return UsageError(f"{target.name} already exists; choose another name or allow overwriting")


def check_target_free(target: Path, overwrite: bool) -> None:
    """Refuse an existing target unless overwriting; the route asks before the work, the writer again at the end."""
    if target.exists() and not overwrite:
        raise _target_exists(target)


def _publish(temp: Path, target: Path, overwrite: bool) -> None:
    """Rename the finished file onto the target; without `overwrite` never replace one."""
    if overwrite:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # fails atomically if the target appeared meanwhile
    except FileExistsError as error:
        raise _target_exists(target) from error
    except OSError:  # file systems without hard links
        if target.exists():
            raise _target_exists(target) from None
        os.replace(temp, target)
        return
    temp.unlink()


# --- the writer ----------------------------------------------------------------------


def check_target(target, source: VideoInfo, options: ExportOptions) -> Path:
    """The resolved target, if it can be written: asked by the route before the work (a missing or read-only
    folder found only when the first frame is written would cost the user the whole people pass) and by the
    writer."""
    target = Path(target).resolve()
    if target.suffix.lower() not in TARGET_SUFFIXES:
        raise UsageError(f"{target.name}: the output must be an .mp4 file")
    if not target.parent.is_dir():
        raise UsageError(f"{target.parent}: the output folder does not exist")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"{target.parent}: the output folder is not writable")
    if target == Path(source.path).resolve() or (target.exists() and target.samefile(source.path)):
        raise UsageError(f"{target.name}: the output cannot be the input file")
    check_target_free(target, options.overwrite)
    if not 0 <= options.crf <= 51:
        raise UsageError(f"crf {options.crf} is outside 0..51")
    if options.preset not in X264_PRESETS:
        raise UsageError(f"unknown preset '{options.preset}'; choose one of {', '.join(X264_PRESETS)}")
    return target


def _even(image: np.ndarray) -> np.ndarray:
    """H.264 in yuv420p needs even sides: repeat the last row/column where needed."""
    pad_rows, pad_cols = image.shape[0] % 2, image.shape[1] % 2
    if pad_rows or pad_cols:
        image = np.pad(image, ((0, pad_rows), (0, pad_cols), (0, 0)), mode="edge")
    return np.ascontiguousarray(image)


def _video_end(source: VideoInfo, start: float | None, end: float | None) -> float:
    """Where the last source frame in [start, end) ends: the next frame's time, or the clip's end."""
    times = frame_times(source.path)
    stop = select_frames(times, start, end).stop
    return float(times[stop]) if stop < len(times) else source.duration


class VideoWriter:
    """Context manager: `write(image, time)` per frame; leaving the block publishes the file.

    `time` is the frame's source time (s); the output's time line starts at
    `start` (or 0). An exception inside the block (Cancelled included) kills
    ffmpeg and removes every temporary file.
    """

    def __init__(
        self,
        target,
        source: VideoInfo,
        options: ExportOptions,
        start: float | None = None,
        end: float | None = None,
    ):
        self.target = check_target(target, source, options)
        self.source = source
        self.options = options
        self.origin = start or 0.0
        self._video_end = _video_end(source, start, end)
        self._temp = _temp_path(self.target.parent)
        self._process: subprocess.Popen | None = None
        self._watchdog: Watchdog | None = None
        self._shape: tuple[int, ...] | None = None
        self._pending: tuple[bytes, float] | None = None  # held until the next time gives its duration
        self.frames_written = 0

    def __enter__(self) -> VideoWriter:
        remove_stale_temp_files(self.target.parent)
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> bool:
        if kind is None:
            try:
                self._finish()
            except BaseException:
                self._abort()
                raise
        else:
            self._abort()
        return False

    def write(self, image: np.ndarray, time: float) -> None:
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image.dtype} {image.shape}")
        image = _even(image)
        if self._shape is None:
            self._start(image.shape[1], image.shape[0])
            self._shape = image.shape
        elif image.shape != self._shape:
            raise ValueError(f"frame size changed from {self._shape[:2]} to {image.shape[:2]}")
        if self._pending is not None:
            if time <= self._pending[1]:
                raise ValueError(f"frame times must increase ({time} after {self._pending[1]})")
            self._send(*self._pending, duration=time - self._pending[1])
        self._pending = (image.tobytes(), float(time))

    # -- internals --

    def _span(self) -> float:
        """The output's length: from the export start to the end of the last source frame exported."""
        return self._video_end - self.origin

    def _last_frame_duration(self, time: float) -> float:
        if self._video_end > time:
            return self._video_end - time
        return 1.0 / self.source.fps if self.source.fps > 0 else 1.0 / 30.0

    def _send(self, pixels: bytes, time: float, duration: float) -> None:
        time_us = round((time - self.origin) * 1e6)
        if time_us < 0:
            raise ValueError(f"frame time {time} is before the export start {self.origin}")
        self._put(matroska_frame_head(time_us, max(1, round(duration * 1e6)), len(pixels)))
        self._put(pixels)
        self.frames_written += 1

    def _put(self, data: bytes) -> None:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(data)
        except OSError as error:  # a broken pipe: ffmpeg has stopped
            raise self._encoder_error("stopped") from error
        if self._watchdog is not None:
            self._watchdog.feed()

    def _encoder_error(self, what: str) -> BaseException:
        """ffmpeg's own last message says why; give it a moment to exit and write it."""
        assert self._process is not None
        try:
            self._process.wait(timeout=ENCODER_EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        reason = last_error_line(self._process)
        if stopped_by_signal(reason):
            return KeyboardInterrupt()
        return GaitanonError(f"the video encoder {what}: {reason}")

    def _start(self, width: int, height: int) -> None:
        self._process = start_ffmpeg(self._command(), stdin=subprocess.PIPE)
        self._watchdog = Watchdog(self._process, FRAME_TIMEOUT_S)
        self._put(matroska_header(width, height))

    def _finish(self) -> None:
        if self._pending is None:
            raise GaitanonError(f"{self.target.name}: no frames were written, so no file was made")
        self._send(*self._pending, duration=self._last_frame_duration(self._pending[1]))
        self._pending = None
        assert self._process is not None and self._process.stdin is not None and self._watchdog is not None
        try:
            self._process.stdin.close()
        except OSError as error:
            raise self._encoder_error("stopped") from error
        self._watchdog.stop()
        try:
            code = self._process.wait(timeout=FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired as error:
            raise GaitanonError(f"the video encoder did not finish within {FINISH_TIMEOUT_S:.0f} s") from error
        if code != 0:
            raise self._encoder_error("failed")
        stop_ffmpeg(self._process)
        _publish(self._temp, self.target, self.options.overwrite)

    def _abort(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        if self._process is not None:
            stop_ffmpeg(self._process)
        self._temp.unlink(missing_ok=True)

    def _command(self) -> list[str]:
        options = self.options
        args = ["-f", "matroska", "-i", "pipe:0"]
        needs_source = (options.keep_audio and self.source.audio_stream is not None) or options.keep_metadata
        if needs_source:
            args += ["-ss", f"{self.origin:.6f}", "-t", f"{self._span():.6f}", *source_input(self.source.path)]
        args += ["-map", "0:v:0", *self._video_codec_args()]
        if options.keep_audio and self.source.audio_stream is not None:
            # Pad short audio with silence up to the video's end (input 1 stops there).
            args += ["-map", f"1:{self.source.audio_stream}", "-c:a", "aac", "-b:a", AUDIO_BITRATE,
                     "-af", f"apad=whole_dur={self._span():.6f}"]  # fmt: skip
        movflags = "+faststart" + ("+use_metadata_tags" if options.keep_metadata else "")
        args += self._metadata_args()
        args += ["-movflags", movflags, "-f", "mp4", "-y", str(self._temp)]
        return ffmpeg_args(*args)

    def _video_codec_args(self) -> list[str]:
        return [
            "-c:v", "libx264", "-preset", self.options.preset, "-crf", str(self.options.crf),
            "-pix_fmt", "yuv420p",
            # Convert with BT.709 and say so: players take untagged HD video for BT.709.
            "-vf", "scale=out_color_matrix=bt709:out_range=tv,"
                   "setparams=colorspace=bt709:color_primaries=bt709:color_trc=bt709:range=tv,"
                   f"setsar={self.source.pixel_aspect[0]}/{self.source.pixel_aspect[1]}",  # anamorphic stays so
            "-bf", "0",  # no reordering: each frame's time goes straight into the MP4 unchanged
            "-fps_mode", "passthrough", "-enc_time_base:v", "demux",
            "-video_track_timescale", MP4_TIMESCALE,
            # x264 writes its version and settings in an SEI NAL unit: drop SEI units.
            "-bsf:v", "filter_units=remove_types=6",
            "-metadata:s:v", "language=und",
        ]  # fmt: skip

    def _metadata_args(self) -> list[str]:
        # Our own encoder's name goes either way: ffmpeg would write it as the
        # container's encoder tag and as the MP4 compressor name.
        ours = ["-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
                "-metadata:s:v", "encoder= "]  # fmt: skip
        if not self.options.keep_metadata:
            return ours + ["-map_metadata", "-1", "-map_chapters", "-1"]
        args = ours + [
            "-map_metadata", "1", "-map_chapters", "1",
            "-map_metadata:s:v:0", f"1:s:{self.source.video_stream}",
        ]  # fmt: skip
        if self.options.keep_audio and self.source.audio_stream is not None:
            args += ["-map_metadata:s:a:0", f"1:s:{self.source.audio_stream}"]
        for index in self.source.text_subtitle_streams:
            args += ["-map", f"1:{index}"]
        if self.source.text_subtitle_streams:
            args += ["-c:s", "mov_text"]
        return args
