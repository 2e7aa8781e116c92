"""A clip over 40 s: the camera survey reads every tenth frame through one ffmpeg `select` expression, which
ffmpeg refuses as a chain of more than about a hundred `eq` terms ("Cannot allocate memory"): every clip of
more than about 1,000 frames failed. Evenly spaced frames are chosen by one `between` and `mod`."""

from __future__ import annotations

import subprocess

import pytest

from gaitanon_core.video.ffmpeg import ffmpeg_exe
from gaitanon_core.video.stream import _selection


def _selected(expression: str, frames: int) -> int:
    """How many of `frames` test-pattern frames ffmpeg's select keeps with `expression`."""
    result = subprocess.run([ffmpeg_exe(), "-v", "info", "-f", "lavfi", "-i", f"testsrc=size=32x24:rate=25:duration={frames / 25}",
                             "-vf", f"select='{expression}',showinfo", "-f", "null", "-"],
                            capture_output=True, text=True, check=True)
    return result.stderr.count(" n:")


@pytest.mark.parametrize("indices", [list(range(0, 3000, 10)), range(5, 3000, 10), [7, 19]])
def test_evenly_spaced_frames_are_one_short_expression(indices) -> None:
    expression = _selection(indices)
    assert "eq(" not in expression and len(expression) < 80
    assert _selected(expression, 3000) == len(indices)


def test_other_frames_are_listed() -> None:
    assert _selection([0, 3, 4]) == "eq(n,0)+eq(n,3)+eq(n,4)"
    assert _selection([12]) == "eq(n,12)"
    assert _selected(_selection([0, 3, 4]), 10) == 3
