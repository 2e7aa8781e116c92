"""What a video file holds, read with the bundled ffmpeg (there is no ffprobe).

`probe()` parses the banner of `ffmpeg -i FILE` (streams, tags, chapters,
rotation) and scans the main video stream's packets without decoding them
(`-c copy -f framecrc`) for the exact presentation time of every frame. Hostile
headers (absurd sizes, durations, frame counts) are refused with an
`InputError` before anything is allocated for them.

Every ffmpeg child runs with a timeout (`ffmpeg.py`).
"""

from __future__ import annotations

import functools
import re
import subprocess
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .ffmpeg import Watchdog, ffmpeg_args, last_error_line, run_ffmpeg, source_input, start_ffmpeg, stop_ffmpeg

# Refused before anything is allocated: no camera the tool is meant for exceeds these.
MAX_SIDE = 8192
MAX_PIXELS = 40_000_000
MAX_DURATION_S = 6 * 3600.0
MAX_FRAMES = int(MAX_DURATION_S * 240)
MAX_FPS = 1000.0  # above the fastest slow-motion phone modes (960 fps)

BANNER_TIMEOUT_S = 30.0
# Packet scan: a fixed allowance plus one second per 20 MB read (the file is read, not decoded).
SCAN_TIMEOUT_S = 60.0
SCAN_BYTES_PER_S = 20e6
# Files without packet times are decoded instead: one more second per 2 MB.
DECODE_BYTES_PER_S = 2e6

# Tags every muxer writes on its own (they say nothing about who filmed what).
_NEUTRAL_TAGS = {"major_brand", "minor_version", "compatible_brands", "duration"}
_NEUTRAL_VALUES = {
    "handler_name": {"VideoHandler", "SoundHandler", "SubtitleHandler"},
    "vendor_id": {"[0][0][0][0]"},
    "language": {"und"},
}
# Demuxers that pull in other files: a user's clip is one file.
_PLAYLIST_FORMATS = {"hls", "applehttp", "concat", "dash", "webm_dash_manifest", "imf"}
# Subtitle codecs an MP4 can carry (as mov_text) when the user keeps metadata.
_TEXT_SUBTITLE_CODECS = {"subrip", "srt", "ass", "ssa", "mov_text", "webvtt", "text"}
# Relative tolerance on frame intervals before a clip counts as variable-rate;
# the absolute floor absorbs millisecond time bases (Matroska, WebM).
_VFR_RELATIVE = 0.02
_VFR_FLOOR_S = 0.0015


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int  # displayed size, after rotation
    height: int
    fps: float  # mean rate over the clip
    frame_count: int
    duration: float  # seconds, from the container's start to the end of the last frame
    is_vfr: bool
    rotation: int  # 0/90/180/270 clockwise, as stored in the file
    video_codec: str
    has_audio: bool
    audio_codec: str | None
    metadata: dict[str, str]  # container + stream tags present (would be stripped)
    other_streams: list[str]  # subtitles, attachments, data, cover art
    # Where the streams are, for reading and writing (ffmpeg stream indices).
    video_stream: int = 0
    start_time: float = 0.0  # the container's start (s); frame times count from it
    audio_stream: int | None = None
    text_subtitle_streams: tuple[int, ...] = field(default=())
    pixel_aspect: tuple[int, int] = (1, 1)  # width:height of one upright pixel (not square in anamorphic video)


# --- the `ffmpeg -i` banner -------------------------------------------------

_INPUT_RE = re.compile(r"^Input #0, ([^ ]+), from ")
_STREAM_RE = re.compile(r"^\s*Stream #0:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (\w+): (.*)$")
_SIZE_RE = re.compile(r", (\d+)x(\d+)(?=[ ,]|$)")
_SAR_RE = re.compile(r"\[SAR (\d+):(\d+) DAR")
_DURATION_RE = re.compile(r"^\s*Duration: (?:(\d+):(\d+):([\d.]+)|N/A)(?:, start: (-?[\d.]+))?")
_ROTATION_RE = re.compile(r"^\s*Display ?matrix: rotation of (-?[\d.]+) degrees", re.IGNORECASE)
_TAG_RE = re.compile(r"^\s*([^:]+?)\s*: (.*)$")
_CHAPTER_RE = re.compile(r"^\s*Chapter #0:\d+:")


@dataclass
class _Stream:
    index: int
    kind: str  # Video, Audio, Subtitle, Attachment, Data
    codec: str
    description: str
    tags: dict[str, str] = field(default_factory=dict)
    rotation: int = 0

    @property
    def is_cover_art(self) -> bool:
        return self.kind == "Video" and "(attached pic)" in self.description


@dataclass
class _Banner:
    format: str
    streams: list[_Stream]
    tags: dict[str, str]
    chapters: int
    duration: float | None
    start: float


def _clockwise(displaymatrix_degrees: float) -> int:
    """ffmpeg prints the counter-clockwise angle; phones' `rotate` tag is clockwise."""
    return int(round(-displaymatrix_degrees / 90.0)) % 4 * 90


def _parse_banner(text: str) -> _Banner:
    streams: list[_Stream] = []
    container_tags: dict[str, str] = {}
    chapters = 0
    duration: float | None = None
    start = 0.0
    container = ""
    section = ""  # which block the indented lines belong to
    tags: dict[str, str] | None = None
    last_key = ""
    for line in text.splitlines():
        stripped = line.strip()
        if match := _INPUT_RE.match(line):
            container = match[1].rstrip(",")
            section, tags = "input", None
        elif match := _STREAM_RE.match(line):
            streams.append(_Stream(int(match[1]), match[2], match[3].split()[0].rstrip(","), match[3]))
            section, tags = "stream", None
        elif match := _DURATION_RE.match(line):
            if match[1] is not None:
                duration = int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])
            start = float(match[4] or 0.0)
            section, tags = "input", None
        elif stripped == "Chapters:" or _CHAPTER_RE.match(line):
            chapters += stripped != "Chapters:"
            section, tags = "chapter", None
        elif stripped == "Metadata:":
            tags = {"input": container_tags, "stream": streams[-1].tags if streams else None}.get(section)
        elif stripped in ("Side data:", "Side data"):
            tags = None
        elif section == "stream" and (match := _ROTATION_RE.match(line)):
            streams[-1].rotation = _clockwise(float(match[1]))
        elif tags is not None and stripped.startswith(": ") and last_key:
            tags[last_key] += "\n" + stripped[2:]  # a multi-line tag value
        elif tags is not None and (match := _TAG_RE.match(line)):
            last_key = match[1]
            tags[last_key] = match[2]
    return _Banner(container, streams, container_tags, chapters, duration, start)


def _identifying_tags(tags: dict[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in tags.items()
        if value.strip() and key.lower() not in _NEUTRAL_TAGS and value not in _NEUTRAL_VALUES.get(key.lower(), ())
    }


def _stream_label(stream: _Stream) -> str:
    if stream.is_cover_art:
        return f"cover art ({stream.codec})"
    return f"{stream.kind.lower()} ({stream.codec})"


# --- frame timestamps ---------------------------------------------------------

_TB_RE = re.compile(r"^#tb 0: (\d+)/(\d+)")
_NO_PTS = -(2**63)  # AV_NOPTS_VALUE: the packet carries no presentation time
_PACKET_CORRUPT = 0x2  # AV_PKT_FLAG_CORRUPT
_PACKET_DISCARD = 0x4  # AV_PKT_FLAG_DISCARD: decoded as a reference, never displayed


def _scan_timeout(path: Path) -> float:
    return SCAN_TIMEOUT_S + path.stat().st_size / SCAN_BYTES_PER_S


def _read_packet_table(path: Path, stream: int) -> tuple[float, array, array]:
    """(seconds per tick, pts, durations) of every packet, read line by line from
    `-f framecrc` so that a file listing absurdly many frames is stopped early."""
    process = start_ffmpeg(
        ffmpeg_args(*source_input(path), "-map", f"0:{stream}", "-c", "copy", "-copyts", "-f", "framecrc", "-"),
        stdout=subprocess.PIPE,
    )
    watchdog = Watchdog(process, _scan_timeout(path))  # never fed: a deadline for the whole scan
    tick, pts, durations = 0.0, array("q"), array("q")
    try:
        for raw in process.stdout:
            line = raw.decode("ascii", "replace")
            if match := _TB_RE.match(line):
                tick = int(match[1]) / int(match[2])
            elif not line.startswith("#"):
                fields = line.split(",")  # stream, dts, pts, duration, size, crc[, F=flags, side data]
                flags = int(fields[6].strip()[2:], 16) if len(fields) > 6 and "F=" in fields[6] else 0
                if flags & _PACKET_CORRUPT:
                    raise InputError(f"{path.name}: the file is damaged or cut short (a corrupt video packet)")
                if flags & _PACKET_DISCARD:
                    continue  # before an edit list's start: never shown
                pts.append(int(fields[2]))
                durations.append(int(fields[3]))
                _check_frame_count(len(pts), path)
        code = process.wait()
        if watchdog.fired:
            raise InputError(f"{path.name}: reading the video stream took longer than {_scan_timeout(path):.0f} s")
        if code != 0 or not tick:
            raise InputError(f"{path.name}: the video stream cannot be read ({last_error_line(process)})")
    finally:
        watchdog.stop()
        stop_ffmpeg(process)
    return tick, pts, durations


class ShowinfoLog:
    """Reads ffmpeg's `showinfo` filter log: its time base, then each frame's time and duration."""

    _TIME_BASE_RE = re.compile(r"Parsed_showinfo.*config in time_base: (\d+)/(\d+)")
    _FRAME_RE = re.compile(r"Parsed_showinfo.*\] n:\s*\d+ pts:\s*(-?\d+) .*?duration:\s*(-?\d+)")

    def __init__(self, start_time: float):
        self._start_time = start_time
        self._tick = 0.0

    def frame(self, line: str) -> tuple[float, float] | None:
        """(time from the container start, duration) in seconds if `line` reports a frame."""
        if match := self._FRAME_RE.search(line):
            return int(match[1]) * self._tick - self._start_time, max(0, int(match[2])) * self._tick
        if match := self._TIME_BASE_RE.search(line):
            self._tick = int(match[1]) / int(match[2])
        return None


def _decoded_times(path: Path, stream: int, start: float) -> tuple[np.ndarray, float]:
    """Frame times as the decoder gives them, for files whose packets carry no
    presentation times (raw H.264, AVI): slower than the packet scan, but what the reader sees."""
    command = ffmpeg_args("-nostats", "-copyts", *source_input(path), "-map", f"0:{stream}",
                          "-vf", "showinfo=checksum=0", "-f", "null", "-", loglevel="info")  # fmt: skip
    process = start_ffmpeg(command, stderr_pipe=True)
    timeout = SCAN_TIMEOUT_S + path.stat().st_size / DECODE_BYTES_PER_S
    watchdog = Watchdog(process, timeout)  # never fed: a deadline for the whole scan
    log, times, last_duration = ShowinfoLog(start), array("d"), 0.0
    try:
        for raw in process.stderr:
            if frame := log.frame(raw.decode("utf-8", "replace")):
                times.append(frame[0])
                last_duration = frame[1]
                _check_frame_count(len(times), path)
        if process.wait() != 0 or watchdog.fired:
            raise InputError(f"{path.name}: the video stream cannot be decoded")
    finally:
        watchdog.stop()
        stop_ffmpeg(process)
        process.stderr.close()
    if not times:
        raise InputError(f"{path.name}: the video stream holds no frames")
    return np.sort(np.frombuffer(times, dtype=np.float64)), last_duration


def _check_frame_count(count: int, path: Path) -> None:
    if count > MAX_FRAMES:
        raise InputError(f"{path.name}: the video lists more than {MAX_FRAMES} frames, more than this tool accepts")


def _packet_times(path: Path, stream: int, start: float) -> tuple[np.ndarray, float]:
    """Presentation times (s, from the container start) of every frame, and the last one's duration."""
    tick, pts, durations = _read_packet_table(path, stream)
    if not pts:
        raise InputError(f"{path.name}: the video stream holds no frames")
    pts_array = np.frombuffer(pts, dtype=np.int64)
    if (pts_array == _NO_PTS).any():
        return _decoded_times(path, stream, start)
    order = np.argsort(pts_array, kind="stable")  # packets come in decode order
    times = pts_array[order] * tick - start
    return times, durations[int(order[-1])] * tick


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1].strip() if lines else "no message"


@functools.lru_cache(maxsize=8)
def _cached_scan(path: Path, _size: int, _mtime_ns: int) -> tuple[_Banner, np.ndarray, float]:
    """Banner + packet times, cached per file version (the reader and the writer ask again)."""
    banner = _read_banner(path)
    video = _main_video(banner, path)
    _check_header_limits(banner, video, path)
    times, last_duration = _packet_times(path, video.index, banner.start)
    if last_duration <= 0 and len(times) > 1:  # some containers leave the last duration unset
        last_duration = float(np.median(np.diff(times)))
    _check_duration(float(times[-1] - times[0]) + last_duration, path)  # the frames' own span may lie too
    _check_rate(times, last_duration, path)
    times.setflags(write=False)
    return banner, times, last_duration


def existing_file(path) -> Path:
    """The resolved path of a file that exists; a folder or a missing path is one clear line."""
    path = Path(path).resolve()
    if path.is_dir():
        raise InputError(f"{path.name}: this is a folder, not a video file; batch anonymizes a folder")
    if not path.is_file():
        raise InputError(f"{path.name}: no such file")
    return path


def _scan(path: Path) -> tuple[_Banner, np.ndarray, float]:
    path = existing_file(path)
    stat = path.stat()
    if stat.st_size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes)")
    return _cached_scan(path, stat.st_size, stat.st_mtime_ns)


def _read_banner(path: Path) -> _Banner:
    # `ffmpeg -i` alone exits 1 ("At least one output file must be specified"): expected.
    _, _, err = run_ffmpeg(ffmpeg_args(*source_input(path), loglevel="info"), timeout=BANNER_TIMEOUT_S)
    banner = _parse_banner(err)
    if not banner.streams:
        raise InputError(f"{path.name}: not a video file ffmpeg can read ({_last_line(err)})")
    if banner.format in _PLAYLIST_FORMATS:
        raise InputError(f"{path.name}: this is a playlist ({banner.format}), not a video file; open the video itself")
    if banner.format == "image2" or banner.format.endswith("_pipe"):
        raise InputError(f"{path.name}: this is a still image, not a video")
    return banner


def _main_video(banner: _Banner, path: Path) -> _Stream:
    for stream in banner.streams:
        if stream.kind == "Video" and not stream.is_cover_art:
            return stream
    raise InputError(f"{path.name}: the file holds no video stream")


def _stored_size(video: _Stream, path: Path) -> tuple[int, int]:
    match = _SIZE_RE.search(video.description)
    if match is None:
        raise InputError(f"{path.name}: the video stream does not state its frame size")
    return int(match[1]), int(match[2])


def _pixel_aspect(video: _Stream) -> tuple[int, int]:
    match = _SAR_RE.search(video.description)
    if match is None or int(match[1]) == 0 or int(match[2]) == 0:
        return (1, 1)
    num, den = int(match[1]), int(match[2])
    return (den, num) if video.rotation in (90, 270) else (num, den)  # a quarter turn swaps the sides


def _check_header_limits(banner: _Banner, video: _Stream, path: Path) -> None:
    width, height = _stored_size(video, path)
    if width < 1 or height < 1 or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise InputError(
            f"{path.name}: a frame size of {width}x{height} is outside what this tool accepts "
            f"(at most {MAX_SIDE} pixels a side and {MAX_PIXELS // 1_000_000} megapixels)"
        )
    if banner.duration is not None:
        _check_duration(banner.duration, path)


def _check_duration(seconds: float, path: Path) -> None:
    if seconds > MAX_DURATION_S:
        raise InputError(
            f"{path.name}: a duration of {seconds / 3600:.1f} h is more than the "
            f"{MAX_DURATION_S / 3600:.0f} h this tool accepts"
        )


def _check_rate(times: np.ndarray, last_duration: float, path: Path) -> None:
    if len(times) < 2:
        return
    if times[-1] == times[0]:
        raise InputError(f"{path.name}: all its frames carry the same timestamp; the file is damaged")
    fps = _mean_fps(times, last_duration)
    if fps > MAX_FPS:
        raise InputError(f"{path.name}: its timestamps give {fps:.0f} frames a second, which no camera records")


def _is_vfr(times: np.ndarray) -> bool:
    if len(times) < 3:
        return False
    steps = np.diff(times)
    median = float(np.median(steps))
    return bool(np.max(np.abs(steps - median)) > max(_VFR_FLOOR_S, _VFR_RELATIVE * median))


def _mean_fps(times: np.ndarray, last_duration: float) -> float:
    span = float(times[-1] - times[0]) + last_duration
    return len(times) / span if span > 0 else 0.0


def probe(path) -> VideoInfo:
    """Everything a user needs to know before anonymizing; `InputError` on a bad file."""
    path = Path(path).resolve()
    banner, times, last_duration = _scan(path)
    video = _main_video(banner, path)
    audio = [s for s in banner.streams if s.kind == "Audio"]
    width, height = _stored_size(video, path)
    if video.rotation in (90, 270):
        width, height = height, width
    metadata = _identifying_tags(banner.tags)
    for stream in banner.streams:
        for key, value in _identifying_tags(stream.tags).items():
            metadata[f"stream {stream.index} {key}"] = value
    if banner.chapters:
        metadata["chapters"] = str(banner.chapters)
    kept = {video.index, audio[0].index if audio else None}
    return VideoInfo(
        path=path,
        width=width,
        height=height,
        fps=_mean_fps(times, last_duration),
        frame_count=len(times),
        duration=float(times[-1]) + last_duration,
        is_vfr=_is_vfr(times),
        rotation=video.rotation,
        video_codec=video.codec,
        has_audio=bool(audio),
        audio_codec=audio[0].codec if audio else None,
        metadata=metadata,
        other_streams=[_stream_label(s) for s in banner.streams if s.index not in kept],
        video_stream=video.index,
        start_time=banner.start,
        audio_stream=audio[0].index if audio else None,
        text_subtitle_streams=tuple(
            s.index for s in banner.streams if s.kind == "Subtitle" and s.codec in _TEXT_SUBTITLE_CODECS
        ),
        pixel_aspect=_pixel_aspect(video),
    )


def select_frames(times: np.ndarray, start: float | None, end: float | None) -> range:
    """Indices of the frames with start <= time < end."""
    first = 0 if start is None else int(np.searchsorted(times, start, side="left"))
    stop = len(times) if end is None else int(np.searchsorted(times, end, side="left"))
    return range(first, max(first, stop))


def frame_times(path) -> np.ndarray:
    """Source timestamps (s, from the container's start) of every frame, in display order."""
    _, times, _ = _scan(Path(path))
    return times
