"""One clip through the whole route: decode -> silhouettes -> contours -> anonymize -> colour -> encode.

`anonymize_clip` reads top to bottom as that route; each stage is a call into
the package named for it. Every person in view is a track of their own
(`people.py`: one pass that follows everyone and keeps their masks cropped to
them), with their own contours, their own generated identity (a fresh latent
per track, never written anywhere), their own face hiding; then one pass over
the pictures colours everyone back, the person in front last. A track the user
keeps by number is left as it was, except where it crosses another person (the
tracker may switch people there). What is flagged and refused is `policy.py`'s.
After the first pass the camera is measured (`camera.py`): a static clip goes on
with its one background image, a moving one is segmented again and coloured with
a background of its own for each frame.

Fail closed (DESIGN.md): no person's original silhouette or shadow leaves. A
frame whose person cannot be anonymized is covered (the person's region and a
band around it painted with the background); a frame where the segmenter lost a
person mid-clip is covered where they were in the neighbouring frames; each
such frame is listed in the report with the person's number and the reason.
Someone the detector is sure of whom the segmenter cannot tell from the scene
(standing where the background model holds them) is covered by a capsule.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..inference.anonymizer import ClipAnonymizer, ModelBank
from ..inference.attacker import WalkSampler, check_clip_privacy
from ..options import default_strength
from ..render.colouring import CAST_SHADOW, colour_frame, row_colours
from ..render.covers import CoverBox, Extent, check_cover_boxes, held_extents, paint_capsule, paint_cover_boxes
from ..render.faces import DEFAULT_FACES, FaceWatch, check_mode
from ..render.warp import OutlinePair
from ..shape import codec
from ..shape.tracking import (
    LOST_BRIDGED, LOST_COVERED, FrameShape, MaskCrop, anonymized_silhouette, complete_shapes, is_bridged,
    outline_pair, texture_source,
)
from ..people.face_detection import FaceDetector
from ..people.background import BackgroundModel
from ..people.moving_background import CompensatedBackground, View
from ..people.silhouettes import ClipSegmenter, sample_count, sampled_frames
from ..video import ExportOptions, Frame, VideoInfo, VideoWriter, frame_times, probe, read_frames, select_frames
from ..video.writer import check_target
from .camera import (
    RADIUS, UNSEEN, UNSTEADY, Camera, PeopleMasks, StillnessWatch, backdrop, backdrop_box, glance_at_camera,
    on_own_backgrounds, survey_camera, union, windowed, without_standing_people,
)
from .events import CancelCheck, FrameSink, PreviewFrame, ProgressCallback, Ticker
from .keeping import KEPT_CROSSING, KEPT_UNCONFIRMED, crossing, kept_until
from .people import ClipPeople, PersonTrack, clip_segmenter, find_people
from .threads import in_order
from .policy import (
    CameraWatch,
    check_aligned,
    check_choices,
    check_keep_tracks,
    check_layout,
    check_times,
    finish_report,
    record_frame,
    record_person,
    refuse_unsafe_clip,
)
from ..report import COVERED, ClipReport, StageClock

__all__ = ["AnonymizeOptions", "anonymize_clip", "model_bank", "people_and_camera", "people_in_clip"]


KEPT_JOIN_SHARE = 0.25  # motion joined to a kept person beyond this share of their own area may be a stranger's
COLOUR_THREADS = 2  # frames coloured at once (measured: scripts/measure_speed.py, README "Speed") ...
COLOUR_AHEAD = 2  # ... of at most this many frames staged ahead of the one being written


@dataclass
class AnonymizeOptions:
    strength: float | None = None  # None: the models' default (options.default_strength)
    device: str = "auto"
    seed: int | None = None  # tests and reproducibility only: anyone with the seed can redo the draw
    start: float | None = None
    end: float | None = None
    export: ExportOptions = field(default_factory=ExportOptions)
    models_dir: Path | None = None
    faces: str = DEFAULT_FACES  # render.faces.FACE_MODES: how each walker's head is hidden
    colouring: str = "warp"  # "eq9": the paper's rule, an evaluation condition only (it leaks the outline)
    cast_shadow: bool = CAST_SHADOW  # the new silhouette casts a soft shadow the way the original's fell
    keep_tracks: frozenset[int] = frozenset()  # people (track numbers) the user chose to leave unchanged
    cover_tracks: frozenset[int] = frozenset()  # people the user chose to cover whole (a filled shape, no reshaping)
    cover_boxes: tuple[CoverBox, ...] = ()  # boxes painted flat over a frame range (what the detector missed)


class Staged(NamedTuple):
    """A frame ready to colour: its people, what moved unfollowed, whether the camera moved, the scene behind
    them."""

    frame: Frame
    here: list[Person]
    unfollowed: MaskCrop | None
    moved: bool
    scene: np.ndarray


@dataclass
class Person:
    """One person on one frame, as the colouring needs them."""

    track: int
    shape: FrameShape
    points: np.ndarray | None  # the anonymized contour; None: covered or nothing to draw
    kept: bool  # left unchanged by the user's choice
    capsule: Extent | None = None  # covered whole by the user's choice: the filled shape drawn over them
    silhouette: np.ndarray | None = None  # the anonymized silhouette (full frame)

    @property
    def depth(self) -> int:
        """Nearer the camera is lower in the frame: the feet's row orders who is in front."""
        region = self.shape.cover if self.shape.cover is not None else self.shape.person
        return -1 if region.empty else region.top + region.mask.shape[0]


@lru_cache(maxsize=4)
def model_bank(models_dir: Path | None, device: str) -> ModelBank:
    """Open (once per folder and device) the shipped models."""
    return ModelBank(models_dir, device)


@lru_cache(maxsize=1)
def face_detector() -> FaceDetector:
    """The whole-frame face detector (opened once, when first needed)."""
    return FaceDetector()


def find_faces(image: np.ndarray) -> list:
    return face_detector().faces(image)


def anonymize_clip(source, target, options: AnonymizeOptions, progress: ProgressCallback | None = None,
                   cancel: CancelCheck | None = None, on_frame: FrameSink | None = None) -> ClipReport:
    """Anonymize every person in `source` into `target` (MP4); see the module docstring."""
    started = time.perf_counter()
    clock = StageClock()
    bank = model_bank(options.models_dir, options.device)
    alpha = bank.check_strength(default_strength(options.models_dir) if options.strength is None else options.strength)
    check_mode(options.faces)
    check_layout(bank)
    info = probe(source)
    check_target(target, info, options.export)  # before the work, not after it
    check_times(info, options.start, options.end)
    check_choices(options.keep_tracks, options.cover_tracks)
    check_cover_boxes(options.cover_boxes, info.width, info.height)
    report = ClipReport(source=str(source), target=str(target), provider=bank.provider,
                        model=bank.anonymizer_entry(alpha).name, alpha=alpha)
    if bank.device_note:
        report.notes.append(bank.device_note)
    total = len(select_frames(frame_times(info.path), options.start, options.end))
    n = bank.n_points or codec.N_POINTS
    draws = np.random.default_rng(options.seed)  # seed None: fresh entropy from the operating system

    ticker = Ticker(total, progress, cancel)
    segmenter, camera, people = people_and_camera(info, options.start, options.end, n, clock, ticker)
    report.camera = camera.kind
    check_keep_tracks(options.keep_tracks | options.cover_tracks, people.tracks)
    report.covered_by_choice = sorted(options.cover_tracks)
    contours = {k: [shape for run in t.runs() for shape in clock.iterate("contour", complete_shapes(run, n, info.fps))]
                for k, t in people.tracks.items()}  # stretch by stretch: a re-identified person moved meanwhile
    anonymized = {k: dict(anonymize_person(bank.start_clip(alpha, draws), shapes, clock))
                  for k, shapes in contours.items()}  # each person their own latent, the clip's next draw, never kept
    capsules = {k: held_extents(extents_of(contours[k]), info.fps) for k in options.cover_tracks}
    everyone = [shape for shapes in contours.values() for shape in shapes]
    samples = ticker.watch(sampled_frames(info.path, info, options.start, options.end), "reading the samples again",
                           sample_count(info, options.start, options.end))  # read only where someone stood
    background = None if camera.moving else clock.call(
        "background", without_standing_people, segmenter.background, everyone, total, info.fps, samples)
    shapes = {k: {i: drawn[0] for i, drawn in frames.items()} for k, frames in anonymized.items()}
    kept_from = {k: kept_until(k, shapes, people.tracks[k].looks) for k in options.keep_tracks}
    watch = CameraWatch()
    faces = FaceWatch(find_faces, info.fps, options.faces, camera.carry if camera.moving else None)
    walks = {k: WalkSampler(total) for k in people.tracks}
    masks = PeopleMasks.of(people, unfollowed=True, boxes=True)

    frames = clock.iterate("decode", ticker.watch(read_frames(info.path, info, options.start, options.end), "drawing"))

    def staged() -> Iterator[Staged]:
        """Each frame with its people and the scene to colour them with, in order (the checks remember); then
        each person's new silhouette is drawn and the frame coloured on a thread (`colour_staged`)."""
        for frame, window in windowed(frames, RADIUS if camera.moving else 0):
            here = people_on(frame.index, anonymized, kept_from, capsules)
            unfollowed = with_kept_joins(people.unfollowed.get(frame.index), here)
            if camera.moving:
                moved, scene = False, clock.call("camera background", moving_scene, frame, window, here, unfollowed,
                                                 camera, masks, report)
            else:
                moved = clock.call("camera check", watch.moved, frame.image,
                                   _everyone(here, unfollowed, frame.image.shape[:2]))
                scene = clock.call("camera background", still_scene, frame, here, unfollowed, background, report)
            for person in here:
                check_aligned(frame, person.shape)
            yield Staged(frame, here, unfollowed, moved, scene)

    with VideoWriter(target, info, options.export, options.start, options.end) as writer, \
            ThreadPoolExecutor(COLOUR_THREADS, thread_name_prefix="colour") as pool:
        coloured = in_order(pool, partial(colour_staged, options=options), staged(), COLOUR_AHEAD)

        def pictures() -> Iterator[tuple[tuple, int, np.ndarray, np.ndarray | None]]:
            """Each coloured frame (without its scene: the face pass holds a few back until its next search)
            with the people the segmenter could not tell from the scene covered."""
            for (frame, here, unfollowed, moved, _), image in clock.iterate("colour", coloured):
                standing = people.unseparated.get(frame.index, [])
                for box in standing:
                    paint_capsule(image, (box.y0, box.x0, box.y1, box.x1))
                yield (frame, here, unfollowed, moved, standing), frame.index, image, kept_people(here)

        for (frame, here, unfollowed, moved, standing), image, hidden in clock.iterate("faces",
                                                                                       faces.hidden(pictures())):
            report.face_frames += hidden > 0
            report.cover_box_frames += paint_cover_boxes(image, options.cover_boxes, frame.time) > 0
            clock.call("encode", writer.write, image, frame.time)
            record_frame(report, frame, here, unfollowed is not None, moved, standing=bool(standing))
            for person in here:
                record_person(report, frame, person.track, person.shape, drawn(person), person.kept,
                              person.capsule is not None)
                if person.points is not None and person.shape.body == "whole":
                    walks[person.track].add(person.shape.person.full(), person.silhouette)
            refuse_unsafe_clip(report)
            if on_frame is not None:
                on_frame(preview_of(frame, image, here, unfollowed))
    main_walk = max(walks.values(), key=lambda w: len(w.original), default=WalkSampler(total))
    report.privacy = clock.call("privacy check", check_clip_privacy, main_walk, options.models_dir,
                                report.model)
    finish_report(report, clock, started)
    return report


def people_in_clip(source, start: float | None = None, end: float | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: CancelCheck | None = None) -> dict[int, PersonTrack]:
    """The people of a clip (between `start` and `end`, s) with a thumbnail each, numbered as
    `anonymize_clip` numbers them for the same times: the same passes (`people_and_camera`), the same frames,
    the same deterministic tracker."""
    info = probe(source)
    ticker = Ticker(len(select_frames(frame_times(info.path), start, end)), progress, cancel)
    return people_and_camera(info, start, end, codec.N_POINTS, StageClock(), ticker, thumbnails=True)[2].tracks


def people_and_camera(info: VideoInfo, start: float | None, end: float | None, n: int, clock: StageClock,
                      ticker: Ticker, thumbnails: bool = False) -> tuple[ClipSegmenter, Camera, ClipPeople]:
    """The clip's segmenter (with its background model), its camera and its people (`thumbnails`: each with
    one). A camera that the background's samples saw move is surveyed in a light pass of its own
    (`glance_at_camera`); otherwise the people pass judges it on the way (`StillnessWatch`), and its path is
    measured only where it may move. A moving camera's people are then found again, each frame against a
    background of its own."""
    first = select_frames(frame_times(info.path), start, end).start
    segmenter = clock.call("background", clip_segmenter, info, start, end, ticker)
    glance = None if segmenter.samples_still else clock.call(
        "camera motion", glance_at_camera, info, start, end, first, segmenter, ticker)
    if glance is None:
        seen = ticker.watch(read_frames(info.path, info, start, end), "finding people")
        stillness = StillnessWatch(first)
        people = clock.call("silhouette", partial(find_people, thumbnails=thumbnails, watch=stillness.see_people),
                            segmenter, clock.iterate("decode", seen), info.fps, n)
        camera = clock.call("camera motion", survey_camera, info, start, end, first, people, stillness.offsets,
                            ticker)
        if not camera.moving:
            return segmenter, camera, people
        glance = camera, PeopleMasks.of(people, unfollowed=False, boxes=True)
    camera, left_out = glance
    return segmenter, camera, find_people_again(segmenter, info, start, end, camera, left_out, n, clock, ticker,
                                                thumbnails)


def find_people_again(segmenter: ClipSegmenter, info: VideoInfo, start: float | None, end: float | None,
                      camera: Camera, left_out: PeopleMasks, n: int, clock: StageClock, ticker: Ticker,
                      thumbnails: bool = False) -> ClipPeople:
    """A moving camera's people: each frame segmented once more, against its own background (made with the
    people found so far `left_out`)."""
    frames = clock.iterate("decode", ticker.watch(read_frames(info.path, info, start, end),
                                                  "finding people again"))
    aligned = on_own_backgrounds(frames, camera, left_out, segmenter)
    # No joins or entry claims here: against a background made from neighbours, what no neighbour saw moves too;
    # joined to a person it drew them a larger, wrong body, and claimed as where they came from it drew a body over
    # the scene (a striped post at the start of handheld CASIA-B 003); left unfollowed, it is covered and flagged.
    return clock.call("silhouette", partial(find_people, thumbnails=thumbnails, join=False), segmenter,
                      clock.iterate("camera background", aligned), info.fps, n)


Drawn = tuple[FrameShape, np.ndarray | None]  # one person's frame and its anonymized contour (None: not drawn)


def anonymize_person(clip: ClipAnonymizer, shapes: list[FrameShape], clock: StageClock) -> Iterator[tuple[int, Drawn]]:
    """(frame index, (shape, anonymized contour or None)) for one person's frames, with their own latent; each
    contour where the body it reshapes stands (`codec.placed_like`)."""
    for shape, points in clock.iterate("anonymize", clip.stream((shape, shape.contour) for shape in shapes)):
        yield shape.index, (shape, None if points is None else codec.placed_like(shape.contour, points))


def extents_of(shapes: list[FrameShape]) -> dict[int, Extent]:
    """Per frame, the box of where the person is (their region, or what covers them)."""
    extents = {}
    for shape in shapes:
        region = shape.cover if shape.cover is not None else shape.person
        if not region.empty:
            extents[shape.index] = (region.top, region.left, region.top + region.mask.shape[0],
                                    region.left + region.mask.shape[1])
    return extents


def people_on(index: int, anonymized: dict[int, dict[int, Drawn]], kept_from: dict[int, int | None],
              capsules: dict[int, dict[int, Extent]]) -> list[Person]:
    """The people on frame `index`, back to front. A kept person (`kept_from`: kept, up to the frame from
    which they are no longer confirmed, `keeping.kept_until`) is anonymized where they cross another, and
    from that frame on; a person covered whole by choice is not drawn, their capsule is (and their own flags
    give way to it)."""
    here = [Person(k, *frames[index], kept=k in kept_from) for k, frames in anonymized.items() if index in frames]
    for person in here:
        if person.track in capsules:
            person.points, person.shape.issues = None, []
            person.capsule = capsules[person.track].get(index)
    for person in here:
        until = kept_from.get(person.track)
        if person.kept and until is not None and index >= until:
            person.kept = False
            person.shape.issues.append((KEPT_UNCONFIRMED, "anonymized"))
        elif person.kept and any(crossing(person.shape, other.shape) for other in here if other is not person):
            person.kept = False
            person.shape.issues.append((KEPT_CROSSING, "anonymized"))
    return sorted(here, key=lambda p: p.depth)


def with_kept_joins(unfollowed: MaskCrop | None, here: list[Person]) -> MaskCrop | None:
    """What moved unfollowed, with the large pieces joined to a kept person put back (`foreign_join`):
    shown unchanged, a stranger touching the reporter would stay recognisable, so it is covered (and flagged)."""
    joins = [join for person in here if person.kept and (join := foreign_join(person.shape)) is not None]
    if not joins:
        return unfollowed
    return MaskCrop.of(union([unfollowed, *joins], joins[0].shape))


def foreign_join(shape: FrameShape) -> MaskCrop | None:
    """The motion joined to a person that may be someone else's: more than `KEPT_JOIN_SHARE` of the person's
    own area (a foot past the box or a hand cut off is less)."""
    joined = shape.joined
    if joined is None or joined.empty:
        return None
    own = np.count_nonzero(shape.person.mask) - np.count_nonzero(joined.mask)
    return joined if np.count_nonzero(joined.mask) > KEPT_JOIN_SHARE * own else None


def kept_people(here: list[Person]) -> np.ndarray | None:
    """Where the people the user keeps are (their faces stay), or None."""
    kept = [person.shape.person for person in here if person.kept]
    return union(kept, kept[0].shape) if kept else None


def kept_region(shape: FrameShape) -> np.ndarray:
    """A kept person's own pixels: their mask without the motion joined to them that may be someone else's
    (covered as unfollowed)."""
    own = shape.person.full()
    foreign = foreign_join(shape)
    if foreign is not None:
        own &= ~foreign.full()
    return own


def _everyone(here: list[Person], unfollowed: MaskCrop | None, shape: tuple[int, int]) -> MaskCrop:
    """Where anyone is (their masks or covers, what moves unfollowed), for the camera check to leave out."""
    return MaskCrop.of(union([unfollowed] + [r for person in here for r in (person.shape.person, person.shape.cover)],
                             shape))


def moving_scene(frame: Frame, window: dict[int, Frame], here: list[Person], unfollowed: MaskCrop | None,
                 camera: Camera, masks: PeopleMasks, report: ClipReport) -> np.ndarray:
    """A moving camera's frame: everyone covered where its background cannot be trusted; the scene to colour
    it with (its own background where people are taken out, what no neighbour saw covered flat)."""
    if camera.unsteady(frame.index) or any(p.shape.camera_moved for p in here):
        _cover_everyone(here)
        report.flag(frame.index, frame.time, UNSTEADY, COVERED)
    removed = np.logical_or(*removed_regions(frame.image.shape[:2], here, unfollowed))
    box = backdrop_box(removed)
    if box is None:
        return frame.image
    return scene_behind(frame, removed, box, camera.background(frame, window, masks, View.crop(box)), report)


def still_scene(frame: Frame, here: list[Person], unfollowed: MaskCrop | None, background: BackgroundModel,
                report: ClipReport) -> np.ndarray:
    """A still camera's scene to colour a frame with: the clip's background, unless what is taken out comes
    near background that no sample showed empty (a person who stood there, `without_standing_people`): then
    that is covered flat, as a moving camera's (`scene_behind`)."""
    if not background.any_unseen:
        return background.image
    removed = np.logical_or(*removed_regions(frame.image.shape[:2], here, unfollowed))
    box = backdrop_box(removed)
    if box is None or not background.never_seen[box].any():
        return background.image
    behind = CompensatedBackground(background.image[box], ~background.never_seen[box])
    return scene_behind(frame, removed, box, behind, report)


def scene_behind(frame: Frame, removed: np.ndarray, box: tuple[slice, slice], behind: CompensatedBackground,
                 report: ClipReport) -> np.ndarray:
    """The frame with the `box` around what is `removed` filled from the background `behind` it (that box's);
    what it never saw is covered flat, in boxes, counted and flagged."""
    filled = backdrop(frame.image[box], behind, removed[box])
    unseen = int(np.count_nonzero(filled.uncovered))
    if unseen:
        report.unseen_pixels += unseen
        report.flag(frame.index, frame.time, UNSEEN, COVERED)
    scene = frame.image.copy()
    scene[box] = filled.image
    return scene


def _cover_everyone(here: list[Person]) -> None:
    for person in here:
        person.shape.camera_moved = False  # the cover replaces the warning
        if not person.kept:
            person.points = None  # a stand-in bridging a lost frame too: nothing is drawn on this background
            person.shape.issues = [LOST_COVERED if issue == LOST_BRIDGED else issue for issue in person.shape.issues]
            if person.shape.cover is None and not person.shape.person.empty:
                person.shape.cover = person.shape.person


def removed_regions(shape: tuple[int, int], here: list[Person], unfollowed: MaskCrop | None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(taken out, shadows): everyone not kept (their region or cover) and what moves unfollowed; their shadows."""
    gone = np.zeros(shape, bool) if unfollowed is None else unfollowed.full()
    shadows = gone.copy()
    for person in here:
        if not person.kept:
            gone |= (person.shape.cover if person.shape.cover is not None else person.shape.person).full()
            shadows |= person.shape.shadow.full()
    return gone, shadows


def colour_staged(staged: Staged, options: AnonymizeOptions) -> np.ndarray:
    """Each person's anonymized silhouette drawn (`Person.silhouette`), then the frame coloured: one frame's
    work, on a colouring thread."""
    for person in staged.here:
        person.silhouette = anonymized_silhouette(person.shape, person.points)
    return colour_people(staged.frame, staged.here, staged.unfollowed, staged.scene, options)


def colour_people(frame: Frame, here: list[Person], unfollowed: MaskCrop | None, background: np.ndarray,
                  options: AnonymizeOptions) -> np.ndarray:
    """Everyone not kept taken out (their region, shadow and a band painted with the background), and what
    moves unfollowed; then each person drawn back to front: their texture warped onto their new silhouette,
    head hidden; a kept person's own pixels; nothing for a covered one, unless a stand-in bridges the frame
    where the segmenter lost them (`tracking.texture_source`). The person in front is drawn last and keeps
    their pixels."""
    gone, shadows = removed_regions(frame.image.shape[:2], here, unfollowed)
    image = colour_frame(frame.image, background, gone, np.zeros_like(gone), shadow=shadows, margin=0.0)
    for person in here:
        if person.kept:
            own = kept_region(person.shape)
            image[own] = frame.image[own]
        elif person.capsule is not None:
            paint_capsule(image, person.capsule)
        elif person.points is not None and person.silhouette is not None and person.silhouette.any():
            outline = None if options.colouring == "eq9" else outline_pair(person.shape, person.points)
            pair = None if outline is None else OutlinePair(*outline)
            source = texture_source(person.shape)
            # Where a stand-in lies the person is still in the picture, beside the scene: in rows of one colour
            # each, the edge between them does not trace their outline inside the new body.
            texture = row_colours(frame.image, source) if is_bridged(person.shape) else frame.image
            image = colour_frame(texture, image, source, person.silhouette,
                                 shadow=person.shape.shadow.full(), margin=None, outline=pair, faces=options.faces,
                                 cast=options.cast_shadow)
    return image


def drawn(person: Person) -> bool:
    """Is the person anonymized on this frame: their contour drawn (a stand-in bridging a lost frame counts only
    where its silhouette falls in the picture; elsewhere its cover is all there is)."""
    if person.points is None:
        return False
    return not is_bridged(person.shape) or (person.silhouette is not None and bool(person.silhouette.any()))


def preview_of(frame: Frame, image: np.ndarray, here: list[Person], unfollowed: MaskCrop | None) -> PreviewFrame:
    """The frame for the review: everyone's original and anonymized silhouettes together; what moved that no
    track follows counts as original silhouette (it was taken out, like a person)."""
    moved = None if unfollowed is None else unfollowed.full()
    before = np.zeros(frame.image.shape[:2], bool)
    after = np.zeros_like(before)
    for person in here:
        before |= person.shape.person.full()
        if person.silhouette is not None:
            after |= person.silhouette
    return PreviewFrame.of(frame.index, frame.time, frame.image, image, before if moved is None else before | moved,
                           after, None if moved is None else moved & ~before)
