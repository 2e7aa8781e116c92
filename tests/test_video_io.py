"""The video rules of DESIGN.md "Video", proved on clips generated with the bundled ffmpeg."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from gaitanon_core.video import ffmpeg as video_ffmpeg
from gaitanon_core.video import probing as video_probe
from gaitanon_core.errors import Cancelled, GaitanonError, InputError, UsageError
from gaitanon_core.video import (
    ExportOptions,
    VideoWriter,
    frame_times,
    probe,
    read_frames,
    remove_stale_temp_files,
)
from gaitanon_core.video.writer import TEMP_PREFIX, STALE_TEMP_AGE_S
from video_factory import (
    CHAPTER_TITLES,
    cut_with_edit_list,
    IDENTIFYING_TAGS,
    SUBTITLE_TEXT,
    hostile_long_duration,
    hostile_oversized_header,
    make_video,
    run_ffmpeg,
    sha256,
    stream_end_time,
)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "vfr_audio": make_video(folder / "vfr_audio.mp4", vfr=True, audio=True, duration=2.0),
        "rot90": make_video(folder / "rot90.mp4", rotation=90),
        "rot270": make_video(folder / "rot270.mov", rotation=270),
        "plain": make_video(folder / "plain.mp4"),
        "tagged": make_video(folder / "tagged.mp4", identifying=True, chapters=True, subtitles=True, audio=True),
        "tagged_mkv": make_video(folder / "tagged.mkv", identifying=True, chapters=True, subtitles=True,
                                 attachment=True),  # fmt: skip
        "cover": make_video(folder / "cover.mp4", cover_art=True),
    }


def export(source: Path, target: Path, options: ExportOptions = ExportOptions(), start=None, end=None) -> Path:
    info = probe(source)
    with VideoWriter(target, info, options, start, end) as writer:
        for frame in read_frames(source, info, start, end):
            writer.write(frame.image, frame.time)
    return target


def temp_files(folder: Path) -> list[Path]:
    return list(folder.glob(f"{TEMP_PREFIX}*"))


# --- probing and reading ---------------------------------------------------------


def test_probe_sees_variable_rate_audio_and_frame_times(clips):
    info = probe(clips["vfr_audio"])
    times = frame_times(clips["vfr_audio"])
    assert (info.width, info.height, info.frame_count) == (160, 120, 40)  # 60 frames, every third dropped
    assert info.is_vfr and info.has_audio and info.audio_codec == "aac"
    assert set(np.round(np.diff(times) * 30).astype(int)) == {1, 2}
    assert info.duration == pytest.approx(2.0, abs=1e-6)


def test_constant_rate_is_not_vfr(clips):
    info = probe(clips["plain"])
    assert not info.is_vfr and info.fps == pytest.approx(30.0) and info.frame_count == 30


def test_probe_lists_metadata_and_other_streams(clips):
    info = probe(clips["tagged_mkv"])
    present = " ".join(f"{key}={value}" for key, value in info.metadata.items()).lower()
    for value in IDENTIFYING_TAGS.values():
        assert value.lower() in present
    assert info.metadata["chapters"] == str(len(CHAPTER_TITLES))
    assert info.other_streams == ["subtitle (subrip)", "attachment (ttf)"]
    assert "cover art (mjpeg)" in probe(clips["cover"]).other_streams


def test_read_frames_times_and_excerpt_match_the_full_read(clips):
    source = clips["vfr_audio"]
    full = list(read_frames(source))
    assert [f.time for f in full] == list(frame_times(source))
    excerpt = list(read_frames(source, start=0.5, end=1.0))
    assert excerpt and all(0.5 <= f.time < 1.0 for f in excerpt)
    assert [f.index for f in excerpt] == [f.index for f in full if 0.5 <= f.time < 1.0]
    for frame in excerpt:
        assert np.array_equal(frame.image, full[frame.index].image)


def test_reader_applies_rotation_clockwise(clips, tmp_path):
    unrotated = next(read_frames(clips["plain"])).image
    for name, turns in (("rot90", -1), ("rot270", 1)):
        info = probe(clips[name])
        assert (info.width, info.height, info.rotation) == (120, 160, 90 if turns == -1 else 270)
        upright = next(read_frames(clips[name], info)).image
        assert np.abs(upright.astype(int) - np.rot90(unrotated, turns)).mean() < 2


def test_abandoned_reader_leaves_no_ffmpeg(clips):
    frames = read_frames(clips["plain"])
    next(frames)
    frames.close()
    assert all(process.poll() is not None for process in video_ffmpeg._LIVE_CHILDREN)


# --- the export rules -----------------------------------------------------------------


def test_vfr_export_keeps_every_timestamp_and_audio_length(clips, tmp_path):
    source = clips["vfr_audio"]
    out = export(source, tmp_path / "out.mp4", ExportOptions(keep_audio=True))
    source_times, out_times = frame_times(source), frame_times(out)
    assert len(out_times) == len(source_times)
    half_frame = np.diff(source_times).min() / 2
    assert np.abs(out_times - source_times).max() < half_frame
    video_end, audio_end = stream_end_time(out, "v"), stream_end_time(out, "a")
    assert abs(audio_end - video_end) < 1 / probe(source).fps


def test_audio_is_dropped_by_default(clips, tmp_path):
    out = export(clips["vfr_audio"], tmp_path / "out.mp4")
    assert not probe(out).has_audio


def test_excerpt_export_starts_at_zero_with_trimmed_audio(clips, tmp_path):
    source = clips["vfr_audio"]
    out = export(source, tmp_path / "out.mp4", ExportOptions(keep_audio=True), start=0.5, end=1.0)
    source_times = frame_times(source)
    wanted = source_times[(source_times >= 0.5) & (source_times < 1.0)]
    assert np.allclose(frame_times(out), wanted - 0.5, atol=1e-4)
    assert abs(stream_end_time(out, "a") - stream_end_time(out, "v")) < 1 / 30


@pytest.mark.parametrize("name", ["rot90", "rot270"])
def test_export_is_upright_without_rotation_flag(clips, tmp_path, name):
    out = probe(export(clips[name], tmp_path / "out.mp4"))
    assert (out.width, out.height, out.rotation) == (120, 160, 0)
    first = next(read_frames(out.path)).image
    assert np.abs(first.astype(int) - next(read_frames(clips[name])).image).mean() < 4


@pytest.mark.parametrize("name", ["tagged", "tagged_mkv"])
def test_metadata_is_stripped_unless_kept(clips, tmp_path, name):
    out = export(clips[name], tmp_path / "out.mp4", ExportOptions(keep_audio=True))
    info = probe(out)
    assert info.metadata == {} and info.other_streams == []
    raw = out.read_bytes()
    for secret in [*IDENTIFYING_TAGS.values(), SUBTITLE_TEXT, *CHAPTER_TITLES, "2021", "Lavf", "Lavc", "x264"]:
        assert secret.encode() not in raw, secret


def test_metadata_survives_when_kept(clips, tmp_path):
    out = export(clips["tagged"], tmp_path / "out.mp4", ExportOptions(keep_metadata=True))
    info = probe(out)
    for key in ("make", "model", "location"):
        assert info.metadata[key] == IDENTIFYING_TAGS[key]
    assert IDENTIFYING_TAGS["creation_time"][:19] in info.metadata["creation_time"]
    assert info.metadata["chapters"] == str(len(CHAPTER_TITLES))
    assert "subtitle (mov_text)" in info.other_streams
    assert SUBTITLE_TEXT.encode() in out.read_bytes()


def test_read_only_input_is_untouched(clips, tmp_path):
    source = make_video(tmp_path / "in.mp4", audio=True, identifying=True)
    source.chmod(0o444)
    before = sha256(source)
    export(source, tmp_path / "out.mp4", ExportOptions(keep_audio=True, keep_metadata=True))
    assert sha256(source) == before


def test_existing_output_is_not_overwritten_without_the_flag(clips, tmp_path):
    target = tmp_path / "out.mp4"
    target.write_bytes(b"precious")
    with pytest.raises(UsageError, match="already exists"):
        export(clips["plain"], target)
    assert target.read_bytes() == b"precious"
    export(clips["plain"], target, ExportOptions(overwrite=True))
    assert probe(target).frame_count == 30


def test_output_onto_the_input_is_refused(clips, tmp_path):
    source = make_video(tmp_path / "in.mp4")
    with pytest.raises(UsageError, match="cannot be the input"):
        export(source, source, ExportOptions(overwrite=True))


def test_cancelled_write_leaves_nothing(clips, tmp_path):
    target = tmp_path / "out.mp4"
    info = probe(clips["plain"])
    with pytest.raises(Cancelled):
        with VideoWriter(target, info, ExportOptions()) as writer:
            for frame in read_frames(clips["plain"], info):
                writer.write(frame.image, frame.time)
                if frame.index == 10:
                    raise Cancelled("cancelled by the user")
    assert list(tmp_path.iterdir()) == []
    assert writer._process is not None and writer._process.poll() is not None


def test_odd_frame_sizes_are_padded_to_even(clips, tmp_path):
    info = probe(clips["plain"])
    target = tmp_path / "odd.mp4"
    with VideoWriter(target, info, ExportOptions()) as writer:
        for i in range(5):
            writer.write(np.full((121, 161, 3), 40 * i, np.uint8), i / 30)
    out = probe(target)
    assert (out.width, out.height, out.frame_count) == (162, 122, 5)


def test_stale_temp_files_of_dead_runs_are_removed(tmp_path):
    old = time.time() - STALE_TEMP_AGE_S - 60
    dead = tmp_path / f"{TEMP_PREFIX}999999999-dead.mp4"  # no such process
    alive = tmp_path / f"{TEMP_PREFIX}{os.getpid()}-live.mp4"
    fresh = tmp_path / f"{TEMP_PREFIX}999999999-fresh.mp4"
    for path in (dead, alive, fresh):
        path.write_bytes(b"partial")
    os.utime(dead, (old, old))
    os.utime(alive, (old, old))
    assert remove_stale_temp_files(tmp_path) == [dead]
    assert alive.exists() and fresh.exists()


# --- bad inputs -------------------------------------------------------------------------


def test_absurd_frame_size_is_refused_before_reading(tmp_path):
    with pytest.raises(InputError, match="9000x9000"):
        probe(hostile_oversized_header(tmp_path / "huge.y4m"))


def test_absurd_duration_is_refused(tmp_path):
    with pytest.raises(InputError, match="duration"):
        probe(hostile_long_duration(tmp_path / "long.mp4"))


@pytest.mark.parametrize(
    ("content", "message"), [(b"", "empty"), (b"hello, not a video\n" * 50, "not a video")]
)
def test_bad_files_give_one_plain_sentence(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        probe(path)
    assert "\n" not in str(caught.value)


def test_excerpt_of_a_stream_without_index_falls_back_to_decoding_from_the_start(tmp_path):
    # MPEG-TS has no index and this clip one key frame: a seek lands past the excerpt.
    source = make_video(tmp_path / "clip.ts", audio=True, duration=2.0)
    full = list(read_frames(source))
    excerpt = list(read_frames(source, start=1.0, end=1.5))
    assert [f.index for f in excerpt] == [f.index for f in full if 1.0 <= f.time < 1.5] and excerpt
    for frame in excerpt:
        assert np.array_equal(frame.image, full[frame.index].image)


def test_playlists_are_refused(clips, tmp_path):
    playlist = tmp_path / "list.m3u8"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n{clips['plain']}\n#EXT-X-ENDLIST\n")
    with pytest.raises(InputError, match="playlist"):
        probe(playlist)


def test_too_many_frames_are_refused_while_scanning(tmp_path, monkeypatch):
    monkeypatch.setattr(video_probe, "MAX_FRAMES", 10)
    with pytest.raises(InputError, match="more than 10 frames"):
        probe(make_video(tmp_path / "many.mp4"))


@pytest.mark.parametrize(
    ("options", "message"), [(ExportOptions(crf=60), "crf"), (ExportOptions(preset="quick"), "preset")]
)
def test_bad_encoder_settings_are_usage_errors(clips, tmp_path, options, message):
    with pytest.raises(UsageError, match=message):
        VideoWriter(tmp_path / "out.mp4", probe(clips["plain"]), options)


@pytest.mark.parametrize(("name", "codec"), [("raw.h264", "libx264"), ("old.avi", "mpeg4")])
def test_streams_without_packet_times_are_timed_by_the_decoder(tmp_path, name, codec):
    source = make_video(tmp_path / name, codec=codec, fps=25)
    info, times = probe(source), frame_times(source)
    assert info.frame_count == 25 and info.fps == pytest.approx(25.0) and not info.is_vfr
    assert np.allclose(np.diff(times), 0.04)
    out = export(source, tmp_path / "out.mp4")
    out_times = frame_times(out)
    assert np.allclose(out_times - out_times[0], times - times[0], atol=1e-6)


def test_frames_hidden_by_an_edit_list_are_not_counted(tmp_path):
    source = make_video(tmp_path / "long.mp4", duration=3.0)  # key frames every 250 frames: one
    cut = cut_with_edit_list(source, tmp_path / "cut.mp4", 1.5)
    info, frames = probe(cut), list(read_frames(cut))
    assert info.frame_count == len(frames) == 45
    assert frames[0].time == pytest.approx(0.0) and info.duration == pytest.approx(1.5)
    assert np.array_equal(frames[0].image, list(read_frames(source, start=1.5, end=1.52))[0].image)


def test_a_file_cut_short_is_an_input_error(clips, tmp_path):
    faststart = tmp_path / "faststart.mp4"
    run_ffmpeg("-i", str(clips["plain"]), "-c", "copy", "-movflags", "+faststart", str(faststart))
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    with pytest.raises(InputError, match="cut short"):
        for _ in read_frames(truncated, probe(truncated)):
            pass


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_still_images_are_refused(clips, tmp_path, suffix):
    photo = tmp_path / f"photo{suffix}"
    run_ffmpeg("-i", str(clips["plain"]), "-frames:v", "1", "-update", "1", str(photo))
    with pytest.raises(InputError, match="still image"):
        probe(photo)


def test_an_absurd_frame_rate_is_refused(clips, tmp_path):
    squeezed = tmp_path / "squeezed.mp4"
    run_ffmpeg("-itsscale", "0.01", "-i", str(clips["plain"]), "-c", "copy",
               "-video_track_timescale", "1000000", str(squeezed))  # 30 -> 3000 fps
    with pytest.raises(InputError, match="frames a second"):
        probe(squeezed)


def test_an_encoder_failure_is_one_sentence_and_leaves_nothing(clips, tmp_path, monkeypatch):
    info = probe(clips["plain"])
    writer = VideoWriter(tmp_path / "out.mp4", info, ExportOptions())
    monkeypatch.setattr(writer, "_video_codec_args", lambda: ["-c:v", "no_such_encoder"])
    with pytest.raises(GaitanonError, match="the video encoder") as caught:
        with writer:
            for frame in read_frames(clips["plain"], info):
                writer.write(frame.image, frame.time)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_stream_that_changes_size_midway_keeps_the_probed_size(tmp_path):
    parts = [make_video(tmp_path / f"part{w}.h264", size=(w, w * 3 // 4), fps=25) for w in (160, 320)]
    joined = tmp_path / "joined.h264"
    joined.write_bytes(b"".join(part.read_bytes() for part in parts))
    info = probe(joined)
    frames = list(read_frames(joined, info))
    assert (info.width, info.height) == (160, 120) and len(frames) == info.frame_count == 50
    assert {frame.image.shape for frame in frames} == {(120, 160, 3)}


def test_reading_and_writing_take_constant_memory(tmp_path):
    source = make_video(tmp_path / "long.mp4", size=(320, 240), duration=8.0)  # 240 frames
    info = probe(source)
    frame_bytes = 320 * 240 * 3
    tracemalloc.start()
    try:
        with VideoWriter(tmp_path / "out.mp4", info, ExportOptions(preset="ultrafast")) as writer:
            for frame in read_frames(source, info):
                writer.write(frame.image, frame.time)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * frame_bytes  # a whole-clip buffer would be 240 frames


@pytest.mark.benchmark
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_throughput(tmp_path, size):
    """Figures for the report: `pytest -m benchmark -s tests/test_video_io.py`."""
    source = make_video(tmp_path / "clip.mp4", size=size, duration=10.0, audio=True)
    started = time.perf_counter()
    info = probe(source)
    probed = time.perf_counter()
    count = sum(1 for _ in read_frames(source, info))
    read = time.perf_counter()
    with VideoWriter(tmp_path / "out.mp4", info, ExportOptions(keep_audio=True)) as writer:
        for frame in read_frames(source, info):
            writer.write(frame.image, frame.time)
    done = time.perf_counter()
    assert count == info.frame_count == probe(tmp_path / "out.mp4").frame_count
    print(f"\n{size[0]}x{size[1]}, {count} frames: probe {probed - started:.2f} s, "
          f"read {count / (read - probed):.0f} fps, read+encode (veryfast, crf 20) {count / (done - read):.1f} fps")


def test_colours_survive_a_round_trip(clips, tmp_path):
    # Written as BT.709 and tagged so; a matrix mismatch (BT.601 read) would err by about 7.6 levels.
    blocks = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    image = np.repeat(np.repeat(blocks, 40, 0), 40, 1)
    target = tmp_path / "colours.mp4"
    with VideoWriter(target, probe(clips["plain"]), ExportOptions(crf=0)) as writer:
        writer.write(image, 0.0)
    back = next(read_frames(target)).image
    assert np.abs(back.astype(int) - image).mean() < 2.5


def test_anamorphic_pixels_keep_their_shape(tmp_path):
    source = make_video(tmp_path / "wide.mp4", pixel_aspect=(4, 3), rotation=90)
    info = probe(source)
    assert info.pixel_aspect == (3, 4)  # the quarter turn swaps the pixel's sides
    out = probe(export(source, tmp_path / "out.mp4"))
    assert out.pixel_aspect == (3, 4) and (out.width, out.height) == (120, 160)
