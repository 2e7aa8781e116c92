"""`gaitanon-cli info FILE`: what a user needs to know about a clip before anonymizing it."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ..errors import EXIT_OK
from ..video import VideoInfo, probe


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe a video: size, rate, rotation, audio, and the metadata an export strips",
        description="Describe a video before anonymizing it: frame size, frame rate (constant or "
        "variable), rotation, duration, frame count, audio, other streams, and which metadata "
        "fields are present (an export strips them unless told to keep them).",
    )
    parser.add_argument("file", help="the video file")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = probe(args.file)
    print(json.dumps(info_to_dict(info), indent=2) if args.json else format_info(info))
    return EXIT_OK


def info_to_dict(info: VideoInfo) -> dict:
    data = asdict(info)
    data["path"] = str(info.path)
    data["text_subtitle_streams"] = list(info.text_subtitle_streams)
    data["pixel_aspect"] = list(info.pixel_aspect)
    return data


def _pixel_shape(info: VideoInfo) -> str:
    width, height = info.pixel_aspect
    return "" if width == height else f", pixel aspect {width}:{height} (anamorphic; kept on export)"


def _rate(info: VideoInfo) -> str:
    if info.is_vfr:
        return f"variable, {info.fps:.3f} fps on average (each frame's time is kept on export)"
    return f"{info.fps:.3f} fps, constant"


def _rotation(info: VideoInfo) -> str:
    if info.rotation == 0:
        return "none"
    return f"{info.rotation} degrees clockwise (applied on export; no rotation flag is written)"


def _audio(info: VideoInfo) -> str:
    if not info.has_audio:
        return "none"
    return f"{info.audio_codec} (dropped on export unless kept: voices and footsteps identify people)"


def format_info(info: VideoInfo) -> str:
    lines = [
        f"file:        {info.path}",
        f"size:        {info.width}x{info.height} (upright){_pixel_shape(info)}",
        f"frame rate:  {_rate(info)}",
        f"rotation:    {_rotation(info)}",
        f"duration:    {info.duration:.3f} s",
        f"frames:      {info.frame_count}",
        f"video codec: {info.video_codec}",
        f"audio:       {_audio(info)}",
        f"other streams: {', '.join(info.other_streams) or 'none'}"
        + (" (dropped on export; text subtitles are kept only with the metadata)" if info.other_streams else ""),
    ]
    if info.metadata:
        lines.append("metadata present (stripped on export unless kept):")
        lines += [f"  {key}: {_one_line(value)}" for key, value in info.metadata.items()]
    else:
        lines.append("metadata present: none")
    return "\n".join(lines)


def _one_line(value: str) -> str:
    return value.replace("\n", " / ")
