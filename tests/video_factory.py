"""Synthetic test videos made with the bundled ffmpeg (nothing binary is committed).

`make_video(path, ...)` builds one clip with whatever a test needs: variable
frame rate, audio, a rotation flag, identifying metadata (creation time,
location, make/model), chapters, a subtitle stream, an attachment (Matroska
only), cover art (MP4/MOV only). The container follows the suffix (.mp4, .mov, .mkv).
`hostile_*` helpers make files whose headers lie about size or duration.
Reused by the video tests and the hardening corpus.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import imageio_ffmpeg

FFMPEG_TIMEOUT_S = 60

# What `make_video(..., identifying=True)` writes: a date, a place, a device.
IDENTIFYING_TAGS = {
    "creation_time": "2021-06-05T14:03:07.000000Z",
    "location": "+48.8583+002.2945/",
    "make": "Apple",
    "model": "iPhone 12",
}
SUBTITLE_TEXT = "Jane Doe walks to work"
CHAPTER_TITLES = ("Arrival", "Departure")


def run_ffmpeg(*args: str) -> None:
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]
    subprocess.run(command, check=True, capture_output=True, timeout=FFMPEG_TIMEOUT_S)


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _write_subtitles(path: Path, duration: float) -> Path:
    srt = path.with_name(path.stem + ".factory.srt")
    end = min(duration, 1.0)
    srt.write_text(f"1\n00:00:00,000 --> 00:00:{int(end):02d},{int(end % 1 * 1000):03d}\n{SUBTITLE_TEXT}\n\n")
    return srt


def _write_chapters(path: Path, duration: float) -> Path:
    meta = path.with_name(path.stem + ".factory.ffmeta")
    half = int(duration * 500)
    lines = [";FFMETADATA1"]
    for title, (start, end) in zip(CHAPTER_TITLES, ((0, half), (half, int(duration * 1000)))):
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={start}", f"END={end}", f"title={title}"]
    meta.write_text("\n".join(lines) + "\n")
    return meta


def make_video(
    path: Path,
    *,
    size: tuple[int, int] = (160, 120),
    fps: int = 30,
    duration: float = 1.0,
    vfr: bool = False,
    audio: bool = False,
    rotation: int = 0,
    identifying: bool = False,
    chapters: bool = False,
    subtitles: bool = False,
    attachment: bool = False,
    cover_art: bool = False,
    codec: str = "libx264",
    pixel_aspect: tuple[int, int] = (1, 1),
) -> Path:
    """Make a clip at `path` (.h264 gives a raw stream without timestamps).

    `vfr` drops every third frame (intervals of 1 and 2 frames);
    `rotation` is the clockwise rotation a phone stores (90/180/270) as a display matrix;
    `pixel_aspect` (width, height) of a pixel makes an anamorphic clip."""
    path = Path(path)
    mkv = path.suffix.lower() in (".mkv", ".webm")
    if attachment and not mkv:
        raise ValueError("attachments need a Matroska container (.mkv)")
    if cover_art and mkv:
        raise ValueError("cover art is made for MP4/MOV here (Matroska stores it as an attachment)")
    if cover_art and identifying:
        # make/model/location need `-movflags +use_metadata_tags`, and with it the MP4 muxer drops cover art
        raise ValueError("an MP4 cannot carry cover art together with make/model/location tags here")
    width, height = size
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={duration}"]
    maps = ["-map", "0:v"]
    codecs = ["-c:v:0", codec, "-pix_fmt:v:0", "yuv420p"]
    if codec == "libx264":  # veryfast uses B-frames: decode order differs from display order, as in phone clips
        codecs += ["-preset", "veryfast"]
    elif codec == "mpeg4":
        codecs += ["-bf", "2"]
    out_opts: list[str] = []
    helpers: list[Path] = []
    n_inputs = 1

    filters = [f"setsar={pixel_aspect[0]}/{pixel_aspect[1]}"]
    if vfr:
        filters.append(r"select='not(eq(mod(n\,3)\,1))'")
        out_opts += ["-fps_mode", "vfr"]
    out_opts += ["-filter:v:0", ",".join(filters)]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=44100:duration={duration}"]
        maps += ["-map", f"{n_inputs}:a"]
        codecs += ["-c:a", "aac"]
        n_inputs += 1
    if subtitles:
        helpers.append(_write_subtitles(path, duration))
        inputs += ["-i", str(helpers[-1])]
        maps += ["-map", f"{n_inputs}:s"]
        codecs += ["-c:s", "srt" if mkv else "mov_text"]
        n_inputs += 1
    if chapters:
        helpers.append(_write_chapters(path, duration))
        inputs += ["-i", str(helpers[-1])]
        out_opts += ["-map_chapters", str(n_inputs)]
        n_inputs += 1
    if cover_art:
        helpers.append(path.with_name(path.stem + ".factory.png"))
        run_ffmpeg("-f", "lavfi", "-i", "color=c=red:size=64x64", "-frames:v", "1", str(helpers[-1]))
        inputs += ["-i", str(helpers[-1])]
        maps += ["-map", f"{n_inputs}:v"]
        codecs += ["-c:v:1", "mjpeg", "-disposition:v:1", "attached_pic"]
        n_inputs += 1
    if identifying:
        for key, value in IDENTIFYING_TAGS.items():
            out_opts += ["-metadata", f"{key}={value}"]
        if not mkv:
            out_opts += ["-movflags", "+use_metadata_tags"]  # else MP4 drops make/model/location
    if attachment:
        helpers.append(path.with_name(path.stem + ".factory.ttf"))
        helpers[-1].write_bytes(b"not really a font")
        out_opts += ["-attach", str(helpers[-1]), "-metadata:s:t", "mimetype=application/x-truetype-font"]

    target = path.with_name(path.stem + ".unrotated" + path.suffix) if rotation else path
    try:
        run_ffmpeg(*inputs, *maps, *codecs, *out_opts, str(target))
        if rotation:
            # ffmpeg's display_rotation is counter-clockwise; a phone's rotate tag is clockwise.
            keep_tags = [] if mkv else ["-movflags", "+use_metadata_tags"]
            run_ffmpeg("-display_rotation", str((360 - rotation) % 360), "-i", str(target),
                       "-map", "0", "-c", "copy", "-map_metadata", "0", *keep_tags, str(path))  # fmt: skip
            helpers.append(target)
    finally:
        for helper in helpers:
            helper.unlink(missing_ok=True)
    return path


def hostile_oversized_header(path: Path, width: int = 9000, height: int = 9000) -> Path:
    """A YUV4MPEG2 header that claims a huge frame and holds no frame data."""
    path = Path(path)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
    return path


def hostile_long_duration(path: Path, scale: int = 30000) -> Path:
    """A 1 s clip whose timestamps are stretched `scale` times (1 s -> 8.3 h at 30000)."""
    path = Path(path)
    short = make_video(path.with_name(path.stem + ".short.mp4"), size=(32, 32), fps=10, duration=1.0)
    try:
        run_ffmpeg("-itsscale", str(scale), "-i", str(short), "-c", "copy", str(path))
    finally:
        short.unlink(missing_ok=True)
    return path


def stream_end_time(path: Path, selector: str) -> float:
    """End (s) of the first stream matching `selector` ("v", "a"): last packet's time plus duration."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
               "-i", str(path), "-map", f"0:{selector}:0", "-c", "copy", "-f", "framecrc", "-"]  # fmt: skip
    out = subprocess.run(command, check=True, capture_output=True, timeout=FFMPEG_TIMEOUT_S).stdout.decode()
    num, den = next(line for line in out.splitlines() if line.startswith("#tb 0:")).split()[-1].split("/")
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return max(int(row[2]) + int(row[3]) for row in rows) * int(num) / int(den)


def cut_with_edit_list(source: Path, path: Path, start: float) -> Path:
    """A stream copy from `start`: the MP4 keeps the key frame before it plus an edit list
    that hides the frames before `start` (what phone and desktop trimming tools write)."""
    run_ffmpeg("-ss", f"{start}", "-i", str(source), "-c", "copy", str(path))
    return Path(path)
