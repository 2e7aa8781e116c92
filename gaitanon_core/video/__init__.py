"""Video in and out: what a file holds, its frames upright, frames back to H.264 MP4.

`probing.py` reads what a file holds (named so that the module does not hide
the `probe` function), `stream.py` decodes its frames, `writer.py` writes
frames to a file by the rules of DESIGN.md "Video"; `ffmpeg.py` starts and
watches every ffmpeg child they run. This package's names are the public face
the rest of the engine uses.
"""

from .probing import MAX_DURATION_S, MAX_FRAMES, MAX_PIXELS, MAX_SIDE, VideoInfo, frame_times, probe, select_frames
from .stream import Frame, SeekableReader, read_frames
from .writer import X264_PRESETS, ExportOptions, VideoWriter, remove_stale_temp_files

__all__ = [
    "MAX_DURATION_S", "MAX_FRAMES", "MAX_PIXELS", "MAX_SIDE", "X264_PRESETS",
    "ExportOptions", "Frame", "SeekableReader", "VideoInfo", "VideoWriter",
    "frame_times", "probe", "read_frames", "remove_stale_temp_files", "select_frames",
]  # fmt: skip
