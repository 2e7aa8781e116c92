"""The static camera's background: a per-pixel median of frames sampled across the clip.

A plain median keeps a ghost wherever the walker stood still for more than half
of the samples. So the model is built in two passes: a first median finds each
sample's foreground, and the second median counts only the pixels where no one
was. Pixels that were never seen empty (someone stood there in every sample)
are inpainted from their surroundings and reported, so callers know the
background there is a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

import cv2
import numpy as np

MAX_SAMPLES = 30  # enough for a robust median; memory and time stay small
FOREGROUND_LEVEL = 40.0  # colour difference (see `colour_difference`) that counts as "not background"
NOISE_SPREAD = 4.0  # a pixel must differ by 4 robust standard deviations of its own flicker
SAMPLE_MARGIN = 0.02  # grow each sample's foreground by 2 % of the frame height before masking it


_HALF_SUM = np.full((1, 3), 0.5, np.float32)


def colour_difference(frame: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Half the sum of absolute RGB differences: about the grey-level difference, counts colour too."""
    diff = cv2.absdiff(frame, background).astype(np.float32)
    return cv2.transform(diff, _HALF_SUM)  # one fused pass: far faster than numpy's sum over channels


def sample_indices(frame_count: int, samples: int = MAX_SAMPLES) -> np.ndarray:
    """Evenly spread frame indices (all frames when the clip is short)."""
    if frame_count <= samples:
        return np.arange(frame_count)
    return np.unique(np.linspace(0, frame_count - 1, samples).round().astype(int))


MEDIAN_ROWS = 32  # rows sorted at a time: bounds the float copy to a strip, whatever the frame size


NETWORK_SAMPLES = 32  # uint8 stacks of at most this many samples are sorted by a network (`_network_median`)


def median_of_valid(stack: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel median over the samples marked valid, and how many were valid.

    `stack` is (N, H, W) or (N, H, W, C), `valid` (N, H, W). A uint8 stack of up to NETWORK_SAMPLES is sorted
    whole by a sorting network (the same result, several times faster); others a strip of rows at a time.
    """
    count = valid.sum(axis=0)
    if stack.dtype == np.uint8 and len(stack) <= NETWORK_SAMPLES:
        return _network_median(stack, valid, count), count
    median = np.empty(stack.shape[1:], np.float32)
    for top in range(0, stack.shape[1], MEDIAN_ROWS):
        rows = slice(top, top + MEDIAN_ROWS)
        median[rows] = _strip_median(stack[:, rows], valid[:, rows], count[rows])
    return median, count


def _strip_median(stack: np.ndarray, valid: np.ndarray, count: np.ndarray) -> np.ndarray:
    """The median of the valid samples of a strip: the samples are moved to the last, contiguous axis
    and the invalid ones pushed to +inf before sorting (much faster than np.nanmedian)."""
    extra = (1,) * (stack.ndim - 3)
    values = np.where(valid.reshape(valid.shape + extra), stack, np.float32(np.inf)).astype(np.float32)
    values = np.ascontiguousarray(np.moveaxis(values, 0, -1))
    values.sort(axis=-1)
    count_b = count.reshape(count.shape + extra + (1,))
    index_shape = values.shape[:-1] + (1,)
    low = np.take_along_axis(values, np.broadcast_to(np.clip((count_b - 1) // 2, 0, None), index_shape), axis=-1)
    high = np.take_along_axis(values, np.broadcast_to(np.clip(count_b // 2, 0, len(stack) - 1), index_shape), axis=-1)
    return np.where(count_b > 0, (low + high) * 0.5, 0.0)[..., 0]


def _comparators(n: int) -> list[tuple[int, int]]:
    """Batcher's odd-even merge sort for `n` items: pairs (i, j), i < j, to put in order one after another.
    Built for the next power of two; pairs reaching past `n` are dropped (those places would hold +inf,
    which a comparator leaves where it is)."""
    size = 1
    while size < n:
        size *= 2
    pairs = []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p) and i + j + k < n:
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


def _network_median(stack: np.ndarray, valid: np.ndarray, count: np.ndarray) -> np.ndarray:
    """`_strip_median`'s result for a uint8 stack: the invalid samples set to 255 (no valid one is above it,
    and a valid 255 that sorts among them is the same value), every pixel's samples sorted at once by a
    sorting network of elementwise min / max, then the middle one or two valid ones taken. The masks are
    spread over the channels first: numpy's broadcasting is slow on a trailing axis of 3."""
    channels = stack.shape[3:]
    invalid = np.logical_not(valid).view(np.uint8) * np.uint8(255)
    items = list(np.maximum(stack, _spread(invalid, channels)))
    for i, j in _comparators(len(items)):
        items[i], items[j] = np.minimum(items[i], items[j]), np.maximum(items[i], items[j])
    at = np.minimum(count, 127).astype(np.int8)
    low_at, high_at = _spread((at - 1) // 2, channels), _spread(at // 2, channels)
    low, high = items[0].copy(), items[0].copy()
    for n in range(1, len(items)):
        np.copyto(low, items[n], where=low_at == n)
        np.copyto(high, items[n], where=high_at == n)
    median = (low.astype(np.float32) + high.astype(np.float32)) * np.float32(0.5)
    median[_spread(count == 0, channels)] = 0.0
    return median


def _spread(array: np.ndarray, channels: tuple[int, ...]) -> np.ndarray:
    """`array` repeated over a trailing channel axis (unchanged when there is none)."""
    return np.repeat(array[..., None], channels[0], axis=-1) if channels else array


@dataclass(frozen=True)
class BackgroundModel:
    image: np.ndarray  # (H, W, 3) uint8 RGB: the empty scene
    threshold: np.ndarray  # (H, W) float32: per-pixel difference above which a pixel is foreground
    never_seen: np.ndarray  # (H, W) bool: inpainted, no sample showed it empty

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]

    @cached_property
    def any_unseen(self) -> bool:
        return bool(self.never_seen.any())

    def difference(self, frame: np.ndarray) -> np.ndarray:
        return colour_difference(frame, self.image)

    @cached_property
    def correlation_image(self) -> np.ndarray:
        """The image as `camera_moved` compares it with every frame: made once, read-only."""
        image = _correlation_image(self.image)
        image.setflags(write=False)
        return image

    def foreground(self, frame: np.ndarray, level: float = FOREGROUND_LEVEL) -> np.ndarray:
        """Pixels that differ from the background by more than `level` and their own flicker."""
        return self.difference(frame) > np.maximum(self.threshold, level)


# (the samples' median, (N, H, W) places to look, the (N, H, W, 3) samples) -> the median's person pixels
PeopleFinder = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def build_background(samples: Iterable[np.ndarray], find_people: PeopleFinder | None = None,
                     level: float = FOREGROUND_LEVEL) -> BackgroundModel:
    """The background of a static camera from frames sampled across the clip (RGB uint8).

    `find_people(image, where, samples)` (the learned person mask) looks for a person in
    the first median itself, where each sample disagrees with it: someone who
    stood still in most samples is in that median (a ghost). For those pixels
    the samples that match the ghost are the ones left out.
    """
    stack = _stacked(samples)
    empty = _empty_places(stack, find_people, level)
    image, never_seen = _masked_median_image(stack, empty)
    return BackgroundModel(image, _flicker_threshold(stack, image, empty), never_seen)


def build_scaled_background(samples: Iterable[np.ndarray], factor: float, find_people: PeopleFinder | None = None,
                            level: float = FOREGROUND_LEVEL) -> tuple[BackgroundModel, BackgroundModel]:
    """(full-resolution, reduced) background models; who is where is decided on copies reduced by `factor`.

    Finding the people and the flicker on the reduced copies is what costs; the
    full-resolution image (the colouring paints it) is then one masked median of
    the full samples, with the reduced empty places and threshold scaled up.
    """
    stack = _stacked(samples)
    height, width = stack.shape[1:3]
    small = np.stack([cv2.resize(s, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) for s in stack])
    empty = _empty_places(small, find_people, level)
    image, never_seen = _masked_median_image(small, empty)
    reduced = BackgroundModel(image, _flicker_threshold(small, image, empty), never_seen)
    empty_full = np.stack([_resized(e, (width, height)) for e in empty])
    full_image, full_never_seen = _masked_median_image(stack, empty_full)
    threshold = cv2.resize(reduced.threshold, (width, height), interpolation=cv2.INTER_LINEAR)
    return BackgroundModel(full_image, threshold, full_never_seen), reduced


def _resized(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)


def _stacked(samples: Iterable[np.ndarray]) -> np.ndarray:
    stack = np.stack(list(samples))
    if stack.ndim != 4 or len(stack) == 0:
        raise ValueError("build_background needs at least one (H, W, 3) frame")
    return stack


def _empty_places(stack: np.ndarray, find_people: PeopleFinder | None, level: float) -> np.ndarray:
    """(N, H, W) bool: where each sample shows the empty scene (no one, nor their margin)."""
    first = np.median(stack, axis=0).round().astype(np.uint8)
    kernel = margin_disc(stack.shape[1])
    moving = np.stack([colour_difference(s, first) > level for s in stack])
    ghost = np.zeros(first.shape[:2], bool)
    if find_people is not None:
        ghost = find_people(first, moving, stack)
    people = [cv2.dilate((m & ~ghost).astype(np.uint8), kernel).astype(bool) | (ghost & ~m) for m in moving]
    return ~np.stack(people)


def _masked_median_image(stack: np.ndarray, empty: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The median image of the empty places, inpainted where no sample showed one; and that never-seen mask."""
    median, count = median_of_valid(stack, empty)
    image = np.clip(median + 0.5, 0, 255).astype(np.uint8)
    never_seen = count == 0
    if never_seen.any():
        image = cv2.inpaint(image, never_seen.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    return image, never_seen


def _flicker_threshold(stack: np.ndarray, image: np.ndarray, empty: np.ndarray) -> np.ndarray:
    """NOISE_SPREAD robust standard deviations of each pixel's difference while empty (0 where unknown)."""
    diffs = np.stack([colour_difference(s, image) for s in stack])
    spread, _ = median_of_valid(diffs, empty)
    # A 3x3 median: one unlucky sample must not make a pixel blind.
    spread = cv2.medianBlur(1.4826 * spread, 3)
    return (NOISE_SPREAD * spread).astype(np.float32)


def margin_disc(height: int) -> np.ndarray:
    """The disc a person's pixels are grown by before a frame of `height` rows lends the background
    (SAMPLE_MARGIN of the height)."""
    grow = odd_size(SAMPLE_MARGIN * height)
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow))


def odd_size(value: float) -> int:
    """The odd kernel size (at least 3) nearest below `value`."""
    return max(3, int(value) // 2 * 2 + 1)


MOVED_DISAGREEMENT = 0.3  # share of the people-free frame that no longer matches the background
MAX_SHIFT = 1.5  # pixels of global shift tolerated (sub-pixel estimates jitter by a few tenths)
_CORRELATION_SIZE = 256  # phase correlation on a power-of-two square: other sizes bias OpenCV's estimate


def _correlation_image(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (_CORRELATION_SIZE, _CORRELATION_SIZE), interpolation=cv2.INTER_AREA).astype(np.float32)


def global_shift(reference: np.ndarray, image: np.ndarray) -> float:
    """How far `image` is shifted against `reference` (both RGB), in pixels (phase correlation)."""
    return _shift(_correlation_image(reference), _correlation_image(image), image.shape[:2])


def _shift(reference: np.ndarray, image: np.ndarray, shape: tuple[int, int]) -> float:
    """The shift between two correlation images, in pixels of a frame of `shape`."""
    size = _CORRELATION_SIZE
    window = cv2.createHanningWindow((size, size), cv2.CV_32F)
    # phaseCorrelate windows its inputs in place: copies keep the cached correlation image intact.
    (dx, dy), _ = cv2.phaseCorrelate(reference.copy(), image.copy(), window)
    return float(np.hypot(dx * shape[1] / size, dy * shape[0] / size))


def camera_moved(frame: np.ndarray, background: BackgroundModel, people: np.ndarray,
                 difference: np.ndarray | None = None) -> bool:
    """True when the background no longer lines up with the frame.

    Two checks on the frame with the people's region replaced by the background
    (so a walker cannot look like global motion): a global shift of more than
    MAX_SHIFT pixels, or most of the scene differing (a pan too large for phase
    correlation, a zoom, a lighting change: the background model is invalid
    either way). `difference` is `background.difference(frame)` when the caller has it.
    """
    reference = background.correlation_image
    small_people = cv2.resize(people.astype(np.uint8), reference.shape[::-1], interpolation=cv2.INTER_AREA) > 0
    scene = np.where(small_people, reference, _correlation_image(frame))
    if _shift(reference, scene, frame.shape[:2]) > MAX_SHIFT:
        return True
    if difference is None:
        difference = background.difference(frame)
    free = ~people
    disagreeing = (difference > np.maximum(background.threshold, FOREGROUND_LEVEL)) & free
    return bool(np.count_nonzero(disagreeing) > MOVED_DISAGREEMENT * max(1, np.count_nonzero(free)))
