"""The reader and writer (gaitanon_core.video) on every corpus case.

Good cases: every frame arrives once, in order (the bar code), upright, at the
size the user sees, with its source time; a round trip through VideoWriter
keeps the frame count and times and leaves no rotation flag, audio or metadata.
Bad cases: `InputError` (one plain sentence) and nothing else, in bounded time.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pytest

from gaitanon_core.video import stream as video_io
from gaitanon_core.errors import InputError
from gaitanon_core.video import ExportOptions, VideoWriter, probe, read_frames
from tests.hardening import corpus as C
from tests.hardening.support import PATTERN, folder_listing, sha256

FAST_GOOD = [c for c in C.GOOD_CASES if not c.slow]
SLOW_GOOD = [c for c in C.GOOD_CASES if c.slow]
READ_TIMEOUT_S = 60.0
# The 10-minute clip must stream in constant memory: far less than its 3.5 GB of pixels.
LONG_CLIP_RSS_GROWTH_MB = 300
SHORT_FRAME_TIMEOUT_S = 3.0


def _half_frame(case: C.GoodCase) -> float:
    return 0.5 * float(np.min(np.diff(case.times(PATTERN))))


def _check_times(got: np.ndarray, case: C.GoodCase) -> None:
    expected = case.times(PATTERN)
    assert len(got) == len(expected)
    shift = got - got[0] - (expected - expected[0])  # containers may start at a non-zero time
    assert np.max(np.abs(shift)) < _half_frame(case), np.max(np.abs(shift))


def _check_barcodes(images: list[np.ndarray], first: int = 0) -> None:
    codes = [C.read_barcode(image) for image in images]
    assert codes == list(range(first, first + len(images))), codes[:20]


def _check_sizes(width: int, height: int, expected: tuple[int, int], slack: int = 0) -> None:
    assert abs(width - expected[0]) <= slack and abs(height - expected[1]) <= slack, ((width, height), expected)


@pytest.mark.parametrize("case", FAST_GOOD, ids=lambda c: c.name)
def test_good_case_reads_every_frame_upright(case, corpus):
    path = corpus.pattern(case)
    before = sha256(path)
    info = probe(path)
    _check_sizes(info.width, info.height, case.shown_size(PATTERN))
    assert info.frame_count == case.frame_count(PATTERN)
    assert info.is_vfr == case.vfr
    assert info.has_audio == case.audio
    assert (info.rotation != 0) == (case.rotation != 0)
    frames = list(read_frames(path, info))
    _check_times(np.array([f.time for f in frames]), case)
    for frame in frames:
        assert frame.image.shape == (info.height, info.width, 3) and frame.image.dtype == np.uint8
    if info.width >= C.MIN_BARCODE_WIDTH:
        _check_barcodes([f.image for f in frames])
    assert sha256(path) == before


@pytest.mark.parametrize("case", FAST_GOOD, ids=lambda c: c.name)
def test_good_case_round_trips_through_the_writer(case, corpus, tmp_path):
    source = corpus.pattern(case)
    info = probe(source)
    target = tmp_path / "out.mp4"
    with VideoWriter(target, info, ExportOptions()) as writer:
        for frame in read_frames(source, info):
            writer.write(frame.image, frame.time)
    assert folder_listing(tmp_path) == ["out.mp4"]  # no temporary file left
    out = probe(target)
    _check_sizes(out.width, out.height, case.shown_size(PATTERN), slack=1)  # H.264 4:2:0 pads odd sides
    assert out.rotation == 0 and not out.has_audio
    assert out.metadata == {} and out.other_streams == []
    frames = list(read_frames(target, out))
    _check_times(np.array([f.time for f in frames]), case)
    if out.width >= C.MIN_BARCODE_WIDTH:
        _check_barcodes([f.image for f in frames])


@pytest.mark.timeout(READ_TIMEOUT_S)  # a reader that hangs on a bad file fails here
@pytest.mark.parametrize("case", C.BAD_CASES, ids=lambda c: c.name)
def test_bad_case_raises_one_input_error(case, corpus):
    path = corpus.bad(case)
    before = sha256(path)
    with pytest.raises(InputError) as caught:
        info = probe(path)
        for _ in read_frames(path, info):
            pass
    message = str(caught.value)
    assert message and "\n" not in message and "Traceback" not in message
    assert sha256(path) == before


def test_a_slow_consumer_is_not_a_stalled_decoder(corpus, monkeypatch):
    """The pipeline may spend long on a frame (4K silhouettes); ffmpeg waiting on a full pipe meanwhile
    is no stall, and must not end the read as 'damaged'."""
    monkeypatch.setattr(video_io, "FRAME_TIMEOUT_S", SHORT_FRAME_TIMEOUT_S)
    indices = []
    for frame in read_frames(corpus.pattern(C.GOOD_CASES[0])):
        if frame.index < 2:
            time.sleep(2 * SHORT_FRAME_TIMEOUT_S)
        indices.append(frame.index)
    assert indices == list(range(PATTERN.count))


@pytest.mark.slow
def test_uhd_4k_reads_and_writes(corpus, tmp_path):
    case = next(c for c in SLOW_GOOD if c.name == "uhd_4k")
    source = corpus.pattern(case)
    info = probe(source)
    assert (info.width, info.height) == (3840, 2160) and info.frame_count == 50
    with VideoWriter(tmp_path / "uhd.mp4", info, ExportOptions(preset="ultrafast")) as writer:
        codes = []
        for frame in read_frames(source, info):
            codes.append(C.read_barcode(frame.image))
            writer.write(frame.image, frame.time)
    assert codes == list(range(50))
    assert probe(tmp_path / "uhd.mp4").frame_count == 50


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_ten_minute_clip_streams_in_constant_memory(corpus, tmp_path):
    case = next(c for c in SLOW_GOOD if c.name == "long_10min")
    source = corpus.pattern(case)
    info = probe(source)
    assert info.frame_count == 15000 and abs(info.duration - 600.0) < 0.1
    before = _peak_rss_mb()
    count = 0
    with VideoWriter(tmp_path / "long.mp4", info, ExportOptions(preset="ultrafast")) as writer:
        for frame in read_frames(source, info):
            if frame.index % 1000 == 0:
                assert C.read_barcode(frame.image) == frame.index % (1 << C.BARCODE_BITS)
            writer.write(frame.image, frame.time)
            count += 1
    assert count == 15000
    assert _peak_rss_mb() - before < LONG_CLIP_RSS_GROWTH_MB
    out = probe(tmp_path / "long.mp4")
    assert out.frame_count == 15000 and abs(out.duration - info.duration) < 1 / C.FPS
