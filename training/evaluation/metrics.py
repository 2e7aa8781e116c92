"""What the evaluation measures: identification and success tables, linkability, naturalness, and the
privacy check's calibration."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.spatial

from training.naturalness import (
    PersonDetector,
    compare_rhythm,
    frame_change,
    render_silhouette,
    self_intersection_share,
    temporal_jitter,
)
from gaitanon_core.errors import GaitanonError
from gaitanon_core.paths import shared_data_dir
from gaitanon_core.inference.attacker import AttackerEmbedder
from training.splits import NM_WALKS, VIEWS, subjects
from training.attackers import identify

from .data import NATURALNESS_VIEWS, PROBE_SETS, load_records

QUALIFYING_RANK1 = 0.90  # an attacker weaker than this on original same-view probes proves nothing
DETECTOR_VIEW = "090"  # the detector sees side views, as in the colour clips it is pasted into
CALIBRATION_LEVELS = np.linspace(0.0, 1.0, 21)
CORRIDOR_CLIP = "002-nm-01-090.avi"


# --- identification ---------------------------------------------------------------------------------

RANKS = ("rank1", "rank3", "rank5")


@dataclass
class Embedded:
    vectors: np.ndarray
    subject: np.ndarray
    walk: np.ndarray
    view: np.ndarray

    @classmethod
    def of(cls, vectors: np.ndarray, records: Sequence[WalkRecord]) -> Embedded:
        return cls(
            vectors,
            np.array([r.subject for r in records]),
            np.array([r.walk for r in records]),
            np.array([r.view for r in records]),
        )

    def save(self, path: Path) -> None:
        np.savez(path, vectors=self.vectors, subject=self.subject, walk=self.walk, view=self.view)

    @classmethod
    def load(cls, path: Path) -> Embedded:
        with np.load(path) as stored:
            return cls(stored["vectors"], stored["subject"], stored["walk"], stored["view"])


def _rates(hits: list[np.ndarray], key: str) -> float:
    return float(np.mean(np.concatenate([getattr(h, key) for h in hits])))


def recognition_tables(probes: Embedded, gallery: Embedded) -> dict[str, Any]:
    """Rank-1/rank-3 per probe set (nm, bg, cl), same-view and cross-view, per probe view and
    averaged over views; cross-view averages every gallery view except the probe's own."""
    tables: dict[str, Any] = {}
    for set_name, walks in PROBE_SETS.items():
        in_set = np.isin(probes.walk, walks)
        same, cross = {}, {}
        for view in VIEWS:
            chosen = in_set & (probes.view == view)
            if not chosen.any():
                continue
            same[view] = _identify_in_view(probes, chosen, gallery, view)
            others = [_identify_in_view(probes, chosen, gallery, g) for g in VIEWS if g != view and (gallery.view == g).any()]
            if others:
                cross[view] = {k: float(np.mean([o[k] for o in others])) for k in RANKS}
        if same:
            tables[set_name] = {"same_view": _with_mean(same), "cross_view": _with_mean(cross)}
    return tables


def _identify_in_view(probes: Embedded, chosen: np.ndarray, gallery: Embedded, gallery_view: str) -> dict[str, float]:
    in_view = gallery.view == gallery_view
    result = identify(probes.vectors[chosen], probes.subject[chosen], gallery.vectors[in_view], gallery.subject[in_view])
    return {"rank1": float(result.rank1.mean()), "rank3": float(result.rank3.mean()),
            "rank5": float(result.rank5.mean()), "probes": int(chosen.sum())}


def _with_mean(per_view: dict[str, dict[str, float]]) -> dict[str, Any]:
    mean = {k: float(np.mean([v[k] for v in per_view.values()])) for k in RANKS} if per_view else {}
    return {"per_view": per_view, "mean": mean}


def success_tables(recognition: dict[str, Any]) -> dict[str, Any]:
    """The same tables with every rate r replaced by the success rate 1 - r."""

    def flip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (1.0 - v if k in RANKS else flip(v)) for k, v in node.items()}
        return node

    return flip(recognition)


def qualifies(strength: dict[str, Any]) -> bool:
    return strength["nm"]["same_view"]["mean"]["rank1"] >= QUALIFYING_RANK1


def headline(tables: dict[str, Any], probe_set: str = "nm", kind: str = "same_view", rank: str = "rank1") -> float | None:
    node = tables.get(probe_set, {}).get(kind, {}).get("mean", {})
    return node.get(rank)


def seed_spread(values: Sequence[float | None]) -> dict[str, Any] | None:
    """Mean, spread (min, max) and count of one figure over attacker seeds."""
    finite = [v for v in values if v is not None]
    if not finite:
        return None
    return {"mean": float(np.mean(finite)), "min": float(min(finite)), "max": float(max(finite)), "seeds": len(finite)}


# --- linkability -----------------------------------------------------------------------------------


def linkability_rank1(probes: Embedded, gallery: Embedded) -> dict[str, float]:
    """Same-view rank-1 (and rank-5) of anonymized probes against an ANONYMIZED gallery (the attacker ran
    the tool on their own footage), mean over views."""
    same = [_identify_in_view(probes, probes.view == v, gallery, v) for v in VIEWS
            if (probes.view == v).any() and (gallery.view == v).any()]
    return {k: float(np.mean([s[k] for s in same])) for k in RANKS} if same else {}


# --- naturalness ------------------------------------------------------------------------------------


@dataclass
class NaturalnessSample:
    """Paired original/anonymized walks that the naturalness measures look at."""

    originals: list[np.ndarray] = field(default_factory=list)
    anonymized: list[np.ndarray] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # subject_walk_view, to score each original once
    contours: list[np.ndarray] = field(default_factory=list)
    raw_contours: list[np.ndarray] = field(default_factory=list)


class FrameScorer:
    """The person detector on side-view silhouettes pasted into the empty corridor; each
    original frame is scored once, however many anonymizers are compared with it."""

    def __init__(self, detector: PersonDetector, background: np.ndarray, frames_per_walk: int) -> None:
        self.detector = detector
        self.background = background
        self.frames_per_walk = frames_per_walk
        self._original: dict[tuple[str, int], float] = {}

    def _confidence(self, silhouette: np.ndarray) -> float:
        return self.detector.person_confidence(render_silhouette(silhouette, self.background))

    def score(self, sample: NaturalnessSample) -> dict[str, float]:
        before, after = [], []
        for key, original, anonymized, view in zip(sample.keys, sample.originals, sample.anonymized, sample.views):
            if view != DETECTOR_VIEW:
                continue
            for index in np.linspace(0, min(len(original), len(anonymized)) - 1, self.frames_per_walk).astype(int):
                if (key, index) not in self._original:
                    self._original[key, index] = self._confidence(original[index])
                before.append(self._original[key, index])
                after.append(self._confidence(anonymized[index]))
        original_mean, anonymized_mean = float(np.mean(before)), float(np.mean(after))
        return {"original": original_mean, "anonymized": anonymized_mean, "relative": anonymized_mean / original_mean}


def naturalness_figures(sample: NaturalnessSample, scorer: FrameScorer | None) -> dict[str, Any]:
    rhythm = [compare_rhythm(o, a) for o, a in zip(sample.originals, sample.anonymized)]
    pairs = list(zip(sample.originals, sample.anonymized))
    figures: dict[str, Any] = {
        "walks": len(pairs),
        "stride_period_ratio": _nanmean([r.period_ratio for r in rhythm]),
        "periodicity_ratio": _nanmean([r.periodicity_ratio for r in rhythm]),
        "leg_swing_ratio": _nanmean([r.swing_ratio for r in rhythm]),
        "motion_ratio": _nanmean([frame_change(a) / frame_change(o) for o, a in pairs]),
        "jitter_ratio": _nanmean([temporal_jitter(a) / temporal_jitter(o) for o, a in pairs]),
        "iou_with_original": _nanmean([_iou(o, a) for o, a in pairs]),
        "self_intersection_share": (
            float(np.mean([self_intersection_share(c) for c in sample.contours])) if sample.contours else None
        ),
        "raw_self_intersection_share": (  # the network's own output, before the engine pulls folds back
            float(np.mean([self_intersection_share(c) for c in sample.raw_contours])) if sample.raw_contours else None
        ),
    }
    if scorer is not None and DETECTOR_VIEW in sample.views:
        figures["frame_score"] = scorer.score(sample)
    return figures


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else float("nan")


def _nanmean(values: Sequence[float]) -> float:
    finite = [v for v in values if v is not None and np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def empty_corridor(data_dir: Path | None) -> np.ndarray | None:
    """The median frame of a CASIA-B colour clip: the empty corridor the silhouettes are pasted into."""
    from gaitanon_core.video import read_frames

    path = (data_dir or shared_data_dir()) / "clips" / CORRIDOR_CLIP
    if not path.exists():
        return None
    frames = [f.image for f in read_frames(path)]
    return np.median(np.stack(frames[::3]), axis=0).astype(np.uint8)


def frame_scorer(data_dir: Path | None, frames_per_walk: int, log) -> tuple[PersonDetector | None, FrameScorer | None]:
    try:
        detector = PersonDetector()
    except GaitanonError as error:
        log(f"no frame score: {error}")
        return None, None
    background = empty_corridor(data_dir)
    scorer = FrameScorer(detector, background, frames_per_walk) if background is not None else None
    return detector, scorer


# --- the privacy check's calibration ---------------------------------------------------------------


def calibrate_privacy_check(models_dir: Path, data_dir: Path | None) -> dict[str, Any]:
    """Same-person and different-person distances of the shipped attacker on the validation
    subjects (never the test subjects), same view, normal walks."""
    try:
        embedder = AttackerEmbedder(models_dir)
    except GaitanonError as error:
        return {"note": f"not calibrated: {error}"}
    return calibrate_embedder(embedder, data_dir)


def calibrate_embedder(embedder: AttackerEmbedder, data_dir: Path | None) -> dict[str, Any]:
    """The calibration block of one attacker (see calibrate_privacy_check)."""
    records = load_records(subjects("validation"), data_dir, None, walks=NM_WALKS)
    vectors = embedder.embed([r.silhouettes for r in records])
    subject = np.array([r.subject for r in records])
    view = np.array([r.view for r in records])
    distances = scipy.spatial.distance.cdist(vectors, vectors)
    upper = np.triu(np.ones_like(distances, dtype=bool), k=1) & (view[:, None] == view[None])
    same = distances[upper & (subject[:, None] == subject[None])]
    different = distances[upper & (subject[:, None] != subject[None])]
    threshold, eer = equal_error_threshold(same, different)
    return {
        "subjects": f"validation group {subjects('validation')[0]}-{subjects('validation')[-1]}",
        "pairs": {"same_person": int(same.size), "different_person": int(different.size)},
        "levels": CALIBRATION_LEVELS.round(3).tolist(),
        "same_person": np.quantile(same, CALIBRATION_LEVELS).round(5).tolist(),
        "different_person": np.quantile(different, CALIBRATION_LEVELS).round(5).tolist(),
        "threshold": round(threshold, 5),
        "equal_error_rate": round(eer, 4),
    }


def equal_error_threshold(same: np.ndarray, different: np.ndarray) -> tuple[float, float]:
    """The distance where missed same-person pairs equal accepted different-person pairs."""
    candidates = np.unique(np.concatenate([same, different]))
    missed = 1 - np.searchsorted(np.sort(same), candidates, side="right") / same.size
    accepted = np.searchsorted(np.sort(different), candidates, side="right") / different.size
    best = int(np.argmin(np.abs(missed - accepted)))
    return float(candidates[best]), float((missed[best] + accepted[best]) / 2)
