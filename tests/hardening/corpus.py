"""The hardening corpus: odd and hostile video files, rebuilt by the tests from recipes.

Nothing binary is committed. Every case is made here with the bundled ffmpeg
(and, for crafted headers, a few bytes patched by hand) from a `Scene`, which
says what each frame shows:

- `PatternScene` stamps each frame's index as a 16-bit bar code across the top,
  so a reader test can tell that every frame arrives once, in order and upright;
- `WalkerScene` is the demo walker (`training.demo_walker`) with its true
  silhouettes, so a pipeline test knows exactly where the person was.

`GOOD_CASES` must give a correct output, `BAD_CASES` one clear error, a documented
exit code and no output. `build_good` / `build_bad` write one case into a folder.
`tests/video_factory.py` (the video tests' test-pattern clips) supplies the
hostile headers and the metadata carriers; this module adds what it lacks:
scene frames of our choosing, in many codecs, pixel formats and containers.
"""

from __future__ import annotations

import contextlib
import functools
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import imageio_ffmpeg
import numpy as np

from gaitanon_core.errors import EXIT_FAILED
from tests import video_factory

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
FFMPEG_TIMEOUT_S = 300.0
FPS = 25.0
BARCODE_BITS = 16  # enough for the 15 000 frames of the 10-minute clip
MIN_BARCODE_WIDTH = 64  # below this the bar code's cells are too small for lossy codecs


def run_ffmpeg(*args: str, stdin: bytes | None = None, timeout: float = FFMPEG_TIMEOUT_S) -> bytes:
    """Run the bundled ffmpeg quietly; its stdout, or CalledProcessError with its stderr."""
    done = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args],
                          input=stdin, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout


def ffmpeg_banner(path: Path) -> str:
    """What `ffmpeg -i FILE` says about a file (streams, tags, side data)."""
    done = subprocess.run([FFMPEG, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True,
                          timeout=60, check=False)
    return done.stderr.decode("utf-8", "replace")


def ffmetadata(path: Path) -> str:
    """The container's tags and chapters as ffmpeg's ffmetadata text."""
    # bitexact: else the ffmetadata writer adds its own `encoder=Lavf...` line to what it reports
    return run_ffmpeg("-i", str(path), "-fflags", "+bitexact", "-f", "ffmetadata", "-",
                      timeout=60).decode("utf-8", "replace")


# ---- scenes ------------------------------------------------------------------------


class Scene(Protocol):
    width: int
    height: int
    count: int  # frames in the scene's own length; a case may ask for more

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint8 RGB, upright."""


@dataclass(frozen=True)
class PatternScene:
    """A textured background, a moving square and the frame index as a bar code in the top band."""

    width: int
    height: int
    count: int

    def frame(self, index: int) -> np.ndarray:
        image = _pattern_background(self.width, self.height).copy()
        side = max(2, self.height // 5)
        x = int((index * 3) % max(1, self.width - side))
        image[self.height // 2: self.height // 2 + side, x: x + side] = (250, 60, 40)
        band = max(1, self.height // 6)
        for bit in range(BARCODE_BITS):
            left, right = _cell(bit, self.width)
            image[:band, left:right] = 235 if (index >> bit) & 1 else 16
        return image


def _cell(bit: int, width: int) -> tuple[int, int]:
    return bit * width // BARCODE_BITS, (bit + 1) * width // BARCODE_BITS


@functools.lru_cache(maxsize=4)
def _pattern_background(width: int, height: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    image = np.stack([80 + 100 * xx / max(1, width), 90 + 80 * yy / max(1, height),
                      120 + 40 * np.sin(xx / 9.0) * np.cos(yy / 7.0)], axis=-1)
    return image.clip(0, 255).astype(np.uint8)


def read_barcode(image: np.ndarray) -> int:
    """The frame index stamped by `PatternScene` (read from the middle of each cell)."""
    height, width = image.shape[:2]
    band = max(1, height // 6)
    rows = slice(band // 4, max(band // 4 + 1, 3 * band // 4))
    value = 0
    for bit in range(BARCODE_BITS):
        left, right = _cell(bit, width)
        margin = (right - left) // 4
        cell = image[rows, left + margin: max(left + margin + 1, right - margin)]
        if cell.mean() > 128:
            value |= 1 << bit
    return value


@dataclass(frozen=True)
class WalkerScene:
    """Frames `first .. first+count-1` of a rendered demo walk, with its true masks."""

    clip: object  # gaitanon_core.demo_walker.WalkerClip
    first: int
    count: int

    @property
    def width(self) -> int:
        return int(self.clip.frames.shape[2])

    @property
    def height(self) -> int:
        return int(self.clip.frames.shape[1])

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` of the window; a longer case loops the window."""
        return self.clip.frames[self.first + index % self.count]

    def person(self, index: int) -> np.ndarray:
        return self.clip.masks[self.first + index]

    def shadow(self, index: int) -> np.ndarray:
        return self.clip.shadows[self.first + index]


def walker_clip(size: tuple[int, int] = (320, 240), seed: int = 11):
    """A demo walk of one random identity at `size`: (WalkerClip, first and last whole-body frame)."""
    from training import demo_walker  # imported late: reader-only tests do not need it

    clip = demo_walker.render_walk(demo_walker.random_identity(seed), size=size, fps=FPS, seed=seed)
    whole = [t for t in range(len(clip.masks)) if _whole_body(clip.masks[t])]
    return clip, whole[0], whole[-1]


def _whole_body(mask: np.ndarray) -> bool:
    """The silhouette is in view and touches no frame edge."""
    if not mask.any():
        return False
    return not (mask[0].any() or mask[-1].any() or mask[:, 0].any() or mask[:, -1].any())


def walker_window(clip, first_whole: int, last_whole: int, count: int) -> WalkerScene:
    """`count` frames centred on the whole-body part of the walk."""
    centre = (first_whole + last_whole) // 2
    first = max(0, min(centre - count // 2, len(clip.frames) - count))
    return WalkerScene(clip, first, min(count, len(clip.frames)))


# ---- encoding ----------------------------------------------------------------------


def vfr_times(count: int) -> np.ndarray:
    """Frame durations cycling 40, 40, 100 ms: clearly variable-rate (matches `_VFR_SETPTS`)."""
    index = np.arange(count)
    return index * 0.04 + (index // 3) * 0.06


_VFR_SETPTS = "settb=1/1000,setpts=(N*0.04+floor(N/3)*0.06)/TB"


def cfr_times(count: int, fps: float = FPS) -> np.ndarray:
    return np.arange(count) / fps


@dataclass(frozen=True)
class GoodCase:
    """A file the tool must turn into a correct output."""

    name: str
    filename: str
    encode: tuple[str, ...] = ("-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast")
    size: tuple[int, int] | None = None  # displayed (upright) size; None: the scene's
    seconds: float | None = None  # clip length; None: the scene's
    rotation: int = 0  # display rotation flag, counter-clockwise degrees as ffmpeg's -display_rotation
    vfr: bool = False
    fps: float = FPS
    audio: bool = False
    post: tuple[str, ...] = ()  # extra output options of a final stream-copy remux
    filters: tuple[str, ...] = ()  # ffmpeg video filters applied before encoding
    slow: bool = False
    findable: bool = True  # whether a walker in this case is big enough for any segmenter to find
    note: str = ""

    def frame_count(self, scene: Scene) -> int:
        return scene.count if self.seconds is None else int(round(self.seconds * self.fps))

    def shown_size(self, scene: Scene) -> tuple[int, int]:
        """The upright size a reader must report (width, height)."""
        return self.size or (scene.width, scene.height)

    def times(self, scene: Scene) -> np.ndarray:
        count = self.frame_count(scene)
        return vfr_times(count) if self.vfr else cfr_times(count, self.fps)


_X264 = ("-c:v", "libx264", "-preset", "ultrafast")
_X265 = ("-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-tag:v", "hvc1")

GOOD_CASES: tuple[GoodCase, ...] = (
    GoodCase("h264_mp4", "plain.mp4"),
    GoodCase("vfr_mp4", "vfr.mp4", vfr=True, post=("-video_track_timescale", "1000")),
    GoodCase("vfr_mkv", "vfr.mkv", vfr=True),
    GoodCase("rotated_90", "rot90.mp4", rotation=90),
    GoodCase("rotated_180", "rot180.mp4", rotation=180),
    GoodCase("rotated_270", "rot270.mp4", rotation=270),
    GoodCase("rotated_90_mov", "rot90.mov", rotation=90),
    GoodCase("odd_size_yuv444", "odd.mp4", _X264 + ("-pix_fmt", "yuv444p"), size=(321, 241)),
    GoodCase("odd_size_mjpeg", "odd.avi", ("-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj422p"), size=(255, 199)),
    GoodCase("tiny_96x72", "tiny.mp4", size=(96, 72)),
    GoodCase("tiny_32x24", "tiny32.mp4", size=(32, 24), findable=False),
    GoodCase("uhd_4k", "uhd.mp4", _X264 + ("-pix_fmt", "yuv420p"), size=(3840, 2160), seconds=2.0, slow=True),
    GoodCase("long_10min", "long.mp4", _X264 + ("-pix_fmt", "yuv420p", "-tune", "zerolatency"),
             seconds=600.0, slow=True, note="10 minutes: the reader and writer path only"),
    GoodCase("h264_10bit", "tenbit.mp4", _X264 + ("-pix_fmt", "yuv420p10le")),
    GoodCase("h265_8bit", "hevc.mp4", _X265 + ("-pix_fmt", "yuv420p")),
    GoodCase("h265_10bit", "hevc10.mp4", _X265 + ("-pix_fmt", "yuv420p10le")),
    GoodCase("mjpeg_avi", "motion.avi", ("-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p")),
    GoodCase("h264_mov", "camera.mov"),
    GoodCase("prores_mov", "prores.mov", ("-c:v", "prores_ks", "-profile:v", "1", "-pix_fmt", "yuv422p10le")),
    GoodCase("interlaced_h264", "interlaced.mp4",
             _X264 + ("-pix_fmt", "yuv420p", "-flags", "+ildct+ilme", "-x264-params", "tff=1")),
    GoodCase("interlaced_mpeg2_ts", "broadcast.ts",
             ("-c:v", "mpeg2video", "-q:v", "3", "-flags", "+ildct+ilme"), filters=("setfield=tff",)),
    GoodCase("vp9_webm", "clip.webm", ("-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                                       "-b:v", "400k")),
    GoodCase("vp8_webm", "clip8.webm", ("-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "400k")),
    GoodCase("ffv1_mkv", "lossless.mkv", ("-c:v", "ffv1",)),
    GoodCase("xvid_avi", "old.avi", ("-c:v", "mpeg4", "-q:v", "4", "-tag:v", "XVID")),
    GoodCase("fragmented_mp4", "fragmented.mp4", post=("-movflags", "frag_keyframe+empty_moov")),
    GoodCase("faststart_mp4", "faststart.mp4", post=("-movflags", "+faststart")),
    GoodCase("ntsc_29_97", "ntsc.mp4", fps=30000 / 1001),
    GoodCase("fps_60", "fast.mp4", fps=60.0),
    GoodCase("fps_12", "slow.mp4", fps=12.0),
    GoodCase("gray", "gray.mkv", ("-c:v", "ffv1", "-pix_fmt", "gray")),
    GoodCase("full_range_bt709", "bt709.mp4", _X264 + ("-pix_fmt", "yuvj420p", "-color_primaries", "bt709",
                                                       "-color_trc", "bt709", "-colorspace", "bt709")),
    GoodCase("bframes_pyramid", "bframes.mp4", ("-c:v", "libx264", "-preset", "medium", "-bf", "8",
                                                "-b_strategy", "2", "-pix_fmt", "yuv420p")),
    GoodCase("with_aac_audio", "talking.mp4", audio=True, note="audio must be dropped by default"),
    GoodCase("with_opus_audio_webm", "talking.webm", ("-c:v", "libvpx-vp9", "-deadline", "realtime",
                                                      "-cpu-used", "8", "-b:v", "400k"), audio=True),
    GoodCase("name_non_ascii", "Zeugenaussage café ñandú 日本語 😀.mp4"),
    GoodCase("name_spaces", "  my clip   (final copy) .mov"),
    GoodCase("name_colon_and_shell", "interview 12:30; $(touch pwned) 'x' \"y\".mkv"),
    GoodCase("name_leading_dash", "-i evil.mp4"),
)


def _audio_codec(filename: str) -> tuple[str, ...]:
    return ("-c:a", "libopus") if filename.endswith(".webm") else ("-c:a", "aac")


def encode_scene(scene: Scene, target: Path, case: GoodCase) -> Path:
    """Encode the case's frames (looping the scene when the case is longer) into `target`."""
    count = case.frame_count(scene)
    stored = np.rot90(scene.frame(0), -case.rotation // 90)
    height, width = stored.shape[:2]
    args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{case.fps:.6f}", "-i", "-"]
    if case.audio:
        args += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={count / case.fps + 1:.3f}"]
    filters = list(case.filters)
    if case.size is not None:
        out_w, out_h = case.size if case.rotation in (0, 180) else case.size[::-1]
        filters.append(f"scale={out_w}:{out_h}:flags=bicubic")
    if case.vfr:
        filters.append(_VFR_SETPTS)
        args += ["-fps_mode", "passthrough", "-enc_time_base:v", "1:1000"]
    if filters:
        args += ["-vf", ",".join(filters)]
    args += ["-map", "0:v"] + (["-map", "1:a", *_audio_codec(case.filename), "-shortest"] if case.audio else [])
    needs_remux = bool(case.rotation or case.post)
    first = target.with_name("encode-" + target.name) if needs_remux else target
    with subprocess.Popen([FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args,
                           *case.encode, "-frames:v", str(count), str(first)],
                          stdin=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # ffmpeg stopped early: its status is checked below
            for index in range(count):
                frame = np.rot90(scene.frame(index), -case.rotation // 90)
                process.stdin.write(np.ascontiguousarray(frame).tobytes())
            process.stdin.close()
        error = process.stderr.read() if process.stderr else b""
        if process.wait(timeout=FFMPEG_TIMEOUT_S) != 0:
            raise subprocess.CalledProcessError(process.returncode, case.encode, b"", error)
    if needs_remux:
        rotation = ("-display_rotation", str(case.rotation)) if case.rotation else ()
        run_ffmpeg(*rotation, "-i", str(first), "-map", "0", "-c", "copy", *case.post, str(target))
        first.unlink()
    return target


def build_good(case: GoodCase, scene: Scene, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return encode_scene(scene, folder / case.filename, case)


# ---- bad inputs --------------------------------------------------------------------


@dataclass(frozen=True)
class BadCase:
    """A file the tool must refuse with one clear line, `exit_code`, and no output."""

    name: str
    make: Callable[[Path, Path], Path]  # (folder, a valid plain MP4 of the scene) -> the bad file
    exit_code: int = EXIT_FAILED
    note: str = ""


def _derived(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _truncated(fraction: float, faststart: bool = False) -> Callable[[Path, Path], Path]:
    def make(folder: Path, base: Path) -> Path:
        source = base
        if faststart:
            source = folder / "faststart-source.mp4"
            run_ffmpeg("-i", str(base), "-c", "copy", "-movflags", "+faststart", str(source))
        data = source.read_bytes()
        path = _derived(folder, f"truncated_{int(fraction * 100)}{'_faststart' if faststart else ''}.mp4",
                        data[: int(len(data) * fraction)])
        if source != base:
            source.unlink()
        return path

    return make


def _truncated_avi(folder: Path, base: Path) -> Path:
    full = folder / "full.avi"
    run_ffmpeg("-i", str(base), "-c:v", "mjpeg", "-q:v", "5", str(full))
    data = full.read_bytes()
    full.unlink()
    return _derived(folder, "truncated_60.avi", data[: int(len(data) * 0.6)])


def _zero_bytes(folder: Path, base: Path) -> Path:
    return _derived(folder, "empty.mp4", b"")


def _text_file(folder: Path, base: Path) -> Path:
    return _derived(folder, "notes.mov", "Interview notes, not a video.\n".encode() * 50)


def _html_file(folder: Path, base: Path) -> Path:
    return _derived(folder, "download.mp4", b"<!DOCTYPE html><html><body>404 Not Found</body></html>\n")


def _random_bytes(folder: Path, base: Path) -> Path:
    return _derived(folder, "random.mp4", np.random.default_rng(1).bytes(200_000))


def _mp4_header_then_random(folder: Path, base: Path) -> Path:
    return _derived(folder, "ftyp_random.mp4", base.read_bytes()[:32] + np.random.default_rng(2).bytes(200_000))


def _audio_only(extension: str, codec: tuple[str, ...]) -> Callable[[Path, Path], Path]:
    def make(folder: Path, base: Path) -> Path:
        path = folder / f"voice_memo{extension}"
        run_ffmpeg("-f", "lavfi", "-i", "sine=frequency=300:duration=2", *codec, str(path))
        return path

    return make


def _still(extension: str) -> Callable[[Path, Path], Path]:
    def make(folder: Path, base: Path) -> Path:
        path = folder / f"photo{extension}"
        run_ffmpeg("-i", str(base), "-frames:v", "1", "-update", "1", str(path))
        return path

    return make


def _y4m_absurd_size(folder: Path, base: Path) -> Path:
    return video_factory.hostile_oversized_header(folder / "absurd_size.y4m", 16000, 16000)


def _absurd_duration(folder: Path, base: Path) -> Path:
    return video_factory.hostile_long_duration(folder / "eight_hours.mp4")


def _mjpeg_absurd_size(folder: Path, base: Path) -> Path:
    """An MJPEG AVI whose every JPEG frame header (SOF0) and AVI header claim 16000x16000."""
    source = folder / "mjpeg-source.avi"
    run_ffmpeg("-i", str(base), "-c:v", "mjpeg", "-q:v", "5", str(source))
    data = bytearray(source.read_bytes())
    source.unlink()
    giant = (16000).to_bytes(2, "big")
    start = 0
    while (at := data.find(b"\xff\xc0", start)) >= 0:  # SOF0: marker, length(2), precision(1), height, width
        data[at + 5: at + 7] = giant
        data[at + 7: at + 9] = giant
        start = at + 9
    for tag, offset in ((b"avih", 40), (b"strf", 12)):  # dwWidth/dwHeight; biWidth/biHeight
        at = data.find(tag)
        data[at + offset: at + offset + 8] = (16000).to_bytes(4, "little") * 2
    return _derived(folder, "absurd_size.avi", bytes(data))


def _patch_stts(data: bytes, delta: int) -> bytes:
    """Set every sample duration of the MP4's time-to-sample table to `delta`."""
    out = bytearray(data)
    at = out.find(b"stts")
    entries = int.from_bytes(out[at + 8: at + 12], "big")
    for k in range(entries):
        field_at = at + 12 + 8 * k + 4
        out[field_at: field_at + 4] = delta.to_bytes(4, "big")
    return bytes(out)


def _timestamps_all_zero(folder: Path, base: Path) -> Path:
    return _derived(folder, "same_timestamp.mp4", _patch_stts(base.read_bytes(), 0))


def _timestamps_absurd_gap(folder: Path, base: Path) -> Path:
    return _derived(folder, "absurd_duration.mp4", _patch_stts(base.read_bytes(), 0xFFFFFFF0))


def _damaged_avi(folder: Path, base: Path) -> Path:
    """Header intact, the middle of the movie data overwritten with noise."""
    full = folder / "full.avi"
    run_ffmpeg("-i", str(base), "-c:v", "mpeg4", "-q:v", "4", str(full))
    data = bytearray(full.read_bytes())
    full.unlink()
    lo, hi = len(data) // 8, len(data) * 7 // 8
    data[lo:hi] = np.random.default_rng(3).bytes(hi - lo)
    return _derived(folder, "smashed.avi", bytes(data))


BAD_CASES: tuple[BadCase, ...] = (
    BadCase("zero_bytes", _zero_bytes),
    BadCase("truncated_5", _truncated(0.05)),
    BadCase("truncated_50", _truncated(0.50)),
    BadCase("truncated_95", _truncated(0.95)),
    BadCase("truncated_50_faststart", _truncated(0.50, faststart=True),
            note="index intact, half of the frames missing"),
    BadCase("truncated_avi", _truncated_avi, note="AVI header promises more frames than the file holds"),
    BadCase("smashed_avi", _damaged_avi, note="the middle of the movie data is noise"),
    BadCase("text_file", _text_file),
    BadCase("html_file", _html_file),
    BadCase("random_bytes", _random_bytes),
    BadCase("mp4_header_random_body", _mp4_header_then_random),
    BadCase("audio_only_m4a", _audio_only(".mp4", ("-c:a", "aac"))),
    BadCase("audio_only_wav", _audio_only(".wav", ("-c:a", "pcm_s16le"))),
    BadCase("still_png", _still(".png")),
    BadCase("still_jpeg", _still(".jpg")),
    BadCase("absurd_size_y4m", _y4m_absurd_size),
    BadCase("absurd_size_mjpeg", _mjpeg_absurd_size),
    BadCase("timestamps_all_zero", _timestamps_all_zero),
    BadCase("timestamps_absurd_gap", _timestamps_absurd_gap),
    BadCase("absurd_duration_8h", _absurd_duration, note="a 1 s clip whose timestamps claim 8.3 hours"),
)


def build_bad(case: BadCase, base: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return case.make(folder, base)


# ---- metadata that must not leak -----------------------------------------------------

# Planted beside video_factory's identifying tags, subtitle and chapters: none may reach an output.
EXTRA_TAGS = {
    "encoded_by": "LeakEncoder 9.9 by LeakSoft",
    "title": "Witness interview 0xC0FFEE",
    "comment": "shot by reporter Jane Leakington",
    "artist": "Leakington Newsroom",
}
HANDLER_MARKER = "LeakCam Video Handler"


def leak_markers() -> dict[str, str]:
    """Every planted string, by what it stands for."""
    markers = {f"tag {k}": v for k, v in video_factory.IDENTIFYING_TAGS.items()}
    markers["tag creation_time"] = video_factory.IDENTIFYING_TAGS["creation_time"][:19]
    markers.update({f"tag {k}": v for k, v in EXTRA_TAGS.items()})
    markers["subtitle"] = video_factory.SUBTITLE_TEXT
    markers.update({f"chapter {t}": t for t in video_factory.CHAPTER_TITLES})
    markers["stream handler"] = HANDLER_MARKER
    return markers


def build_metadata_rich(picture: Path, folder: Path, container: str) -> Path:
    """`picture`'s video with everything identifying a file can carry, from video_factory.make_video.

    mkv: tags (date, GPS, make/model, encoder, title...), chapters, an SRT subtitle, an attachment, audio.
    mp4: the same tags, chapters, a mov_text subtitle and audio; `mp4_cover`: cover art and chapters
    (video_factory cannot put cover art and make/model tags in one MP4).
    """
    folder.mkdir(parents=True, exist_ok=True)
    mkv, cover = container == "mkv", container == "mp4_cover"
    suffix = ".mkv" if mkv else ".mp4"
    seconds = float(ffmetadata_duration(picture))
    carrier = video_factory.make_video(
        folder / f"carrier{suffix}", duration=seconds, audio=not cover, identifying=not cover, chapters=True,
        subtitles=not cover, attachment=mkv, cover_art=cover)
    target = folder / f"rich_metadata_{container}{suffix}"
    maps = ["-map", "0:v:0", "-map", "1:a?", "-map", "1:s?", "-map", "1:t?", "-map_metadata", "1",
            "-map_chapters", "1"]
    if cover:
        maps += ["-map", "1:v:1", "-disposition:v:1", "attached_pic"]
    tags = [arg for key, value in EXTRA_TAGS.items() for arg in ("-metadata", f"{key}={value}")]
    tags += ["-metadata:s:v:0", f"handler_name={HANDLER_MARKER}"]
    flags = [] if mkv or cover else ["-movflags", "+use_metadata_tags"]
    run_ffmpeg("-i", str(picture), "-i", str(carrier), *maps, "-c", "copy", *tags, *flags, str(target))
    carrier.unlink()
    return target


def ffmetadata_duration(path: Path) -> float:
    """The container's duration (s) as `ffmpeg -i` states it."""
    hours, minutes, seconds = ffmpeg_banner(path).split("Duration: ", 1)[1].split(",", 1)[0].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def markers_in(path: Path) -> list[str]:
    """Planted strings found anywhere in a file's bytes (UTF-8 and UTF-16, as containers store text)."""
    data = path.read_bytes()
    return [name for name, value in leak_markers().items()
            if any(value.encode(codec) in data for codec in ("utf-8", "utf-16-le", "utf-16-be"))]
