"""Fuzz the readers (probe, read_frames) and the pipeline's entry point with mutated files and options.

Mutations of small valid clips (truncation, overwritten bytes, inserted bytes)
must end in a sane result or an `InputError`, never another exception, within
a bounded time. Hypothesis runs derandomized (the same examples in every CI
run) with no example database; any input that once crashed is kept below as an
`@example`, a regression case regenerated from its recipe.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gaitanon_core import pipeline
from gaitanon_core.errors import GaitanonError, InputError, UsageError
from gaitanon_core.video import ExportOptions, probe, read_frames
from tests.hardening import corpus as C

SMALL = C.PatternScene(64, 48, 12)
BASES = {
    "mp4": C.GoodCase("fuzz_mp4", "fuzz.mp4", post=("-movflags", "+faststart")),
    "mkv": C.GoodCase("fuzz_mkv", "fuzz.mkv"),
    "avi": C.GoodCase("fuzz_avi", "fuzz.avi", ("-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p")),
}
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=100,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("fuzz_bases")
    return {name: C.build_good(case, SMALL, folder).read_bytes() for name, case in BASES.items()}


# A mutation: (kind, position as a share of the file, payload).
mutations = st.tuples(
    st.sampled_from(["truncate", "overwrite", "insert"]),
    st.floats(min_value=0.0, max_value=1.0),
    st.binary(min_size=1, max_size=64),
)


def mutate(data: bytes, recipe: list[tuple[str, float, bytes]]) -> bytes:
    for kind, share, payload in recipe:
        at = int(share * len(data))
        if kind == "truncate":
            data = data[:at]
        elif kind == "overwrite":
            data = data[:at] + payload + data[at + len(payload):]
        else:
            data = data[:at] + payload + data[at:]
    return data


def write_mutant(folder: Path, data: bytes, suffix: str) -> Path:
    """A fresh name per content: the probe caches by path, size and modification time."""
    path = folder / f"mutant-{hashlib.sha1(data).hexdigest()[:12]}.{suffix}"
    path.write_bytes(data)
    return path


def read_all(path: Path) -> None:
    """Probe and read every frame; a successful read must be self-consistent."""
    info = probe(path)
    assert info.width > 0 and info.height > 0 and info.frame_count > 0 and math.isfinite(info.fps)
    for frame in read_frames(path, info):
        assert frame.image.shape == (info.height, info.width, 3)
        assert math.isfinite(frame.time)


@pytest.mark.slow
@pytest.mark.parametrize("container", sorted(BASES))
@FUZZ
@given(recipe=st.lists(mutations, min_size=1, max_size=3))
def test_mutated_files_read_cleanly_or_raise_input_error(container, recipe, bases, tmp_path):
    path = write_mutant(tmp_path, mutate(bases[container], recipe), container)
    try:  # a hang would be caught by the suite's timeout (pyproject.toml): no wall-clock assertion here
        read_all(path)
    except InputError as error:
        assert str(error) and "\n" not in str(error)


@pytest.mark.slow
@settings(derandomize=True, database=None, deadline=None, max_examples=30,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(recipe=st.lists(mutations, min_size=1, max_size=2))
def test_mutated_files_through_the_pipeline(recipe, bases, fixture_models, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pipe")
    source = write_mutant(folder, mutate(bases["mp4"], recipe), "mp4")
    target = folder / "out" / "anonymized.mp4"
    target.parent.mkdir()
    try:
        pipeline.anonymize_clip(source, target, pipeline.AnonymizeOptions(models_dir=fixture_models, seed=1))
    except GaitanonError as error:
        assert str(error) and "\n" not in str(error)
        assert list(target.parent.iterdir()) == []
        return
    assert [p.name for p in target.parent.iterdir()] == ["anonymized.mp4"]


unusual_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.2, 0.3, 0.4]))
times = st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True, min_value=None, max_value=None))


@pytest.mark.slow
@settings(derandomize=True, database=None, deadline=None, max_examples=60,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(strength=unusual_floats, start=times, end=times, crf=st.integers(-1000, 1000),
       preset=st.sampled_from(["veryfast", "ultrafast", "", "placebo", "x; rm -rf /", "-y"]))
@example(strength=0.3, start=float("nan"), end=None, crf=20, preset="veryfast")
def test_odd_options_are_usage_errors(strength, start, end, crf, preset, bases, fixture_models,
                                      tmp_path_factory):
    folder = tmp_path_factory.mktemp("opts")
    source = write_mutant(folder, bases["mp4"], "mp4")
    target = folder / "anonymized.mp4"
    options = pipeline.AnonymizeOptions(strength=strength, start=start, end=end, models_dir=fixture_models,
                                        seed=1, export=ExportOptions(crf=crf, preset=preset))
    try:
        pipeline.anonymize_clip(source, target, options)
    except UsageError as error:
        assert str(error) and "\n" not in str(error)
        assert not target.exists()
        return
    except GaitanonError:  # an accepted request on a clip with nobody walking: a plain refusal
        assert not target.exists()
        return
    assert np.isfinite([strength, crf]).all() and target.exists()
