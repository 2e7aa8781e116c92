"""One command for every figure the project publishes (DESIGN.md "Evaluation protocol").

    python -m training.evaluate [--quick] [--data DIR] [--subjects 085-100 | 085 086 ...]

It trains (once, cached) and reports the attackers' own strength, then the success rate of
every anonymizer against every attacker strong enough to matter, the naturalness of the
results, the video domain through the full engine, and the privacy check's calibration.
Writes reports/evaluation.md, reports/evaluation.json and PNG figures, and (full runs)
the figures into the anonymizers' manifest entries and the calibration into the attacker's.
Random draws are seeded (`--seed`, default 0) so that the figures reproduce.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import shutil
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.spatial

from gaitanon_core.shape.casiab import casiab_dir, walk_key
from gaitanon_core.shape.codec import decode_casiab, encode_casiab
from gaitanon_core.errors import GaitanonError
from gaitanon_core.inference.anonymizer import OUTPUT_VERSION, ModelBank
from training.naturalness import (
    PersonDetector,
    compare_rhythm,
    frame_change,
    frame_score,
    render_silhouette,
    self_intersection_share,
    temporal_jitter,
)
from gaitanon_core.paths import REPO_ROOT, shared_data_dir
from gaitanon_core.inference.attacker import AttackerEmbedder, Calibration
from training.splits import ALL_WALKS, BG_WALKS, CL_WALKS, NM_WALKS, VIEWS, subjects
from training import distortions
from training.attackers import Attacker, GeiLdaAttacker, as_attacker_sees, gei, identify
from training.manifest import file_sha256, load_manifest, manifest_path, update_entry
from training.train_attackers import DEFAULT_CACHE, ensure_adaptive, ensure_attackers, middle_frames

QUALIFYING_RANK1 = 0.90  # an attacker weaker than this on original same-view probes proves nothing
GALLERY_WALKS = NM_WALKS[:4]
PROBE_SETS: dict[str, tuple[str, ...]] = {"nm": NM_WALKS[4:], "bg": BG_WALKS, "cl": CL_WALKS}
NATURALNESS_VIEWS = ("036", "090", "144")
DETECTOR_VIEW = "090"  # the detector sees side views, as in the colour clips it is pasted into
QUICK_FRAMES = 30
HEADLINE_ATTACKER = "GEI CNN, distortion-trained"
CALIBRATION_LEVELS = np.linspace(0.0, 1.0, 21)
VIDEO_CLIPS = {"002": "002-nm-01-090.avi", "003": "003-nm-01-090.avi", "004": "004-nm-01-090.avi", "006": "006-nm-01-090.avi"}
VIDEO_GALLERY_OWN = NM_WALKS[1:]  # the clip is nm-01; its subject's other normal walks are the gallery


# --- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkRecord:
    """One walk, kept bit-packed (the dataset's own form) to hold a whole test set in memory."""

    subject: str
    walk: str
    view: str
    packed: np.ndarray  # (T, 64, 8) uint8

    @property
    def silhouettes(self) -> np.ndarray:
        return np.unpackbits(self.packed, axis=-1).astype(bool)


def load_records(
    subject_ids: Iterable[str], data_dir: Path | None, max_frames: int | None, walks: Sequence[str] = ALL_WALKS
) -> list[WalkRecord]:
    records = []
    for sid in subject_ids:
        path = casiab_dir(data_dir) / f"{sid}.npz"
        if not path.exists():
            raise GaitanonError(f"subject {sid} is not in the data folder {path.parent}")
        with np.load(path) as packed:
            for walk in walks:
                for view in VIEWS:
                    key = walk_key(walk, view)
                    if key in packed.files and len(packed[key]):
                        records.append(WalkRecord(sid, walk, view, middle_frames(packed[key], max_frames)))
    return records


def parse_subjects(values: Sequence[str]) -> tuple[str, ...]:
    """'085-100' ranges and single ids -> zero-padded ids, in order."""
    ids: list[str] = []
    for value in values:
        first, _, last = value.partition("-")
        ids += [f"{i:03d}" for i in range(int(first), int(last or first) + 1)]
    return tuple(dict.fromkeys(ids))


# --- anonymizers under test -------------------------------------------------------------------


@dataclass(frozen=True)
class Anonymized:
    silhouettes: np.ndarray  # (T, 64, 64) bool, what an attacker sees
    contours: np.ndarray | None  # (T, N, 2) the anonymizer's raw output contours, if it makes any


@dataclass(frozen=True)
class Condition:
    name: str
    kind: str  # "reference" | "trivial" | "model" | "baseline"
    run: Callable[[WalkRecord, np.random.Generator], Anonymized]
    alpha: float | None = None
    entry_name: str | None = None
    fingerprint: str = ""  # what the cached results depend on besides the name (a model's sha256)


def _silhouette_condition(name: str, transform: Callable[[np.ndarray], np.ndarray]) -> Condition:
    return Condition(name, "trivial", lambda rec, rng: Anonymized(transform(rec.silhouettes), None))


def _contour_condition(
    name: str, kind: str, transform: Callable[[np.ndarray, WalkRecord, np.random.Generator], np.ndarray], **extra: Any
) -> Condition:
    def run(record: WalkRecord, rng: np.random.Generator) -> Anonymized:
        contours = transform(encode_casiab(record.silhouettes), record, rng)
        return Anonymized(decode_casiab(contours), contours)

    return Condition(name, kind, run, **extra)


class DonorWalks:
    """Walks of the noise-group subjects (never evaluated) to blend toward, per view, encoded once."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self._by_view: dict[str, list[np.ndarray]] = {}

    def pick(self, view: str, rng: np.random.Generator) -> np.ndarray:
        if view not in self._by_view:
            donors = load_records(subjects("noise"), self.data_dir, None, walks=("nm-01",))
            self._by_view[view] = [encode_casiab(d.silhouettes) for d in donors if d.view == view]
        choices = self._by_view[view]
        return choices[int(rng.integers(len(choices)))]


def trivial_conditions(data_dir: Path | None) -> list[Condition]:
    donors = DonorWalks(data_dir)
    return [
        Condition("original (no anonymization)", "reference", lambda rec, rng: Anonymized(rec.silhouettes, None)),
        _contour_condition("codec round trip", "reference", lambda c, rec, rng: c),
        _silhouette_condition("width stretch x1.15", lambda s: distortions.width_stretch(s, 1.15)),
        _silhouette_condition("leg stretch x1.15", lambda s: distortions.leg_stretch(s, 1.15)),
        _silhouette_condition("dilation 1 px", lambda s: distortions.dilate(s, 1)),
        _silhouette_condition("blur sigma 1.5 px", lambda s: distortions.blur(s, 1.5)),
        _contour_condition(
            "smooth contour jitter 2 px", "trivial", lambda c, rec, rng: distortions.smooth_contour_jitter(c, 2 / 64, rng)
        ),
        _contour_condition(
            "30% blend toward another walk",
            "trivial",
            lambda c, rec, rng: distortions.blend_toward(c, donors.pick(rec.view, rng), 0.3),
        ),
    ]


def model_conditions(models_dir: Path) -> list[Condition]:
    """One condition per shipped anonymizer, run through the engine's own ModelBank."""
    try:
        bank = ModelBank(models_dir, device="cpu")
    except GaitanonError:
        return []  # no anonymizers shipped yet: the trivial ones are still measured
    conditions = []
    for alpha in bank.strengths:
        entry = bank.anonymizer_entry(alpha)
        conditions.append(
            _contour_condition(
                f"ST-GAN alpha {alpha:g}",
                "model",
                lambda c, rec, rng, a=alpha: bank.anonymize(c, a, rng),
                alpha=alpha,
                entry_name=entry.name,
                fingerprint=entry.sha256,
            )
        )
    return conditions


EVALUATION_ONLY_ROLES = {"reference": "paper's configuration", "baseline": "2017 baseline"}


def evaluation_only_conditions() -> list[Condition]:
    """The paper's configuration (the reference row) and the 2017 baseline (another person's walk
    as the noise): built by the models' commands outside models/, never shipped."""
    from training.anonymize_sils import anonymize_silhouettes, model_folders

    conditions = []
    for folder in model_folders()[1:]:
        for entry in load_manifest(folder).get("models", []):
            if entry.get("role") not in EVALUATION_ONLY_ROLES:
                continue

            def run(record: WalkRecord, rng: np.random.Generator, name: str = entry["name"]) -> Anonymized:
                return Anonymized(anonymize_silhouettes(record.silhouettes, name, rng, view=record.view), None)

            label = f"{EVALUATION_ONLY_ROLES[entry['role']]} ({entry['name']}, alpha {entry.get('alpha', 0):g})"
            conditions.append(Condition(label, "baseline", run, fingerprint=entry.get("sha256", "")))
    return conditions


# --- attackers ----------------------------------------------------------------------------------


@dataclass
class OnnxAttacker:
    """A cached or shipped ONNX attacker run by the engine's own embedder."""

    name: str
    path: Path
    embedder: AttackerEmbedder = field(init=False)

    def __post_init__(self) -> None:
        self.embedder = AttackerEmbedder(onnx_path=self.path)

    def embed_geis(self, geis: np.ndarray) -> np.ndarray:
        """A GEI is a one-frame walk to a graph that averages the frames first."""
        return self.embedder.embed(list(geis[:, None]))


def standard_attackers(cache: Path) -> dict[str, Attacker]:
    attackers: dict[str, Attacker] = {}
    for kind, label in (("plain", "plain"), ("distorted", "distortion-trained")):
        attackers[f"GEI+PCA/LDA, {label}"] = GeiLdaAttacker.load(cache / f"gei_lda_{kind}.npz")
        attackers[f"GEI CNN, {label}"] = OnnxAttacker(f"GEI CNN, {label}", cache / f"gei_cnn_{kind}.onnx")
    return attackers


# --- the identification protocol ---------------------------------------------------------------


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
                cross[view] = {k: float(np.mean([o[k] for o in others])) for k in ("rank1", "rank3")}
        if same:
            tables[set_name] = {"same_view": _with_mean(same), "cross_view": _with_mean(cross)}
    return tables


def _identify_in_view(probes: Embedded, chosen: np.ndarray, gallery: Embedded, gallery_view: str) -> dict[str, float]:
    in_view = gallery.view == gallery_view
    result = identify(probes.vectors[chosen], probes.subject[chosen], gallery.vectors[in_view], gallery.subject[in_view])
    return {"rank1": float(result.rank1.mean()), "rank3": float(result.rank3.mean()), "probes": int(chosen.sum())}


def _with_mean(per_view: dict[str, dict[str, float]]) -> dict[str, Any]:
    mean = {k: float(np.mean([v[k] for v in per_view.values()])) for k in ("rank1", "rank3")} if per_view else {}
    return {"per_view": per_view, "mean": mean}


def success_tables(recognition: dict[str, Any]) -> dict[str, Any]:
    """The same tables with every rate r replaced by the success rate 1 - r."""

    def flip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (1.0 - v if k in ("rank1", "rank3") else flip(v)) for k, v in node.items()}
        return node

    return flip(recognition)


def qualifies(strength: dict[str, Any]) -> bool:
    return strength["nm"]["same_view"]["mean"]["rank1"] >= QUALIFYING_RANK1


# --- naturalness ------------------------------------------------------------------------------


@dataclass
class NaturalnessSample:
    """Paired original/anonymized walks that the naturalness measures look at."""

    originals: list[np.ndarray] = field(default_factory=list)
    anonymized: list[np.ndarray] = field(default_factory=list)
    views: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # subject_walk_view, to score each original once
    contours: list[np.ndarray] = field(default_factory=list)


def in_naturalness_sample(record: WalkRecord) -> bool:
    return record.walk == "nm-05" and record.view in NATURALNESS_VIEWS


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

    path = (data_dir or shared_data_dir()) / "clips" / VIDEO_CLIPS["002"]
    if not path.exists():
        return None
    frames = [f.image for f in read_frames(path)]
    return np.median(np.stack(frames[::3]), axis=0).astype(np.uint8)


# --- the run ------------------------------------------------------------------------------------


@dataclass
class EvaluationConfig:
    subjects: tuple[str, ...] = subjects("test")
    data_dir: Path | None = None
    quick: bool = False
    out_dir: Path = REPO_ROOT / "reports"
    cache: Path = DEFAULT_CACHE
    models_dir: Path = REPO_ROOT / "models"
    write_manifest: bool = True
    video: bool = True
    seed: int = 0
    adaptive: bool = True
    log: Callable[[str], None] = print

    @property
    def max_frames(self) -> int | None:
        return QUICK_FRAMES if self.quick else None

    @property
    def detector_frames_per_walk(self) -> int:
        return 2 if self.quick else 4


@dataclass
class ConditionResult:
    """What the evaluation keeps of one anonymizer's run over the probes."""

    geis: np.ndarray  # (n_probes, 64, 44): every attacker judges a walk by its GEI
    naturalness: dict[str, Any]
    example: tuple[np.ndarray, np.ndarray] | None  # one side-view walk, original and anonymized


CACHE_VERSION = 2  # bump when a measure's code changes what it gives (the engine's outputs: OUTPUT_VERSION)


def condition_result(
    condition: Condition, probes: list[WalkRecord], config: EvaluationConfig, scorer: FrameScorer | None
) -> ConditionResult:
    """Anonymize every probe once (cached per anonymizer, model file, engine output version, subjects,
    frames, data, seed)."""
    key = _cache_key(
        CACHE_VERSION, OUTPUT_VERSION, condition.name, condition.fingerprint, config.subjects, config.max_frames,
        str(casiab_dir(config.data_dir)), config.seed, config.detector_frames_per_walk, scorer is not None,
    )
    path = config.cache / "conditions" / f"{key}.npz"
    if path.exists():
        with np.load(path) as stored:
            example = (stored["example_original"], stored["example_anonymized"]) if "example_original" in stored else None
            return ConditionResult(stored["geis"], json.loads(str(stored["naturalness"])), example)
    result = run_condition(condition, probes, config.seed, scorer)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"example_original": result.example[0], "example_anonymized": result.example[1]} if result.example else {}
    np.savez_compressed(path, geis=result.geis, naturalness=json.dumps(_json_ready(result.naturalness)), **extra)
    return result


def _cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


def run_condition(
    condition: Condition, probes: list[WalkRecord], seed: int, scorer: FrameScorer | None
) -> ConditionResult:
    rng = np.random.default_rng([seed, zlib.crc32(condition.name.encode())])
    geis = []
    sample = NaturalnessSample()
    for record in probes:
        result = condition.run(record, rng)
        geis.append(gei(as_attacker_sees(result.silhouettes)))
        if in_naturalness_sample(record):
            sample.originals.append(record.silhouettes)
            sample.anonymized.append(result.silhouettes)
            sample.views.append(record.view)
            sample.keys.append(f"{record.subject}_{record.walk}_{record.view}")
            if result.contours is not None:
                sample.contours.append(result.contours)
    example = None
    if DETECTOR_VIEW in sample.views:
        first = sample.views.index(DETECTOR_VIEW)
        example = (sample.originals[first], sample.anonymized[first])
    return ConditionResult(np.stack(geis), naturalness_figures(sample, scorer), example)


def run_evaluation(config: EvaluationConfig, attackers: dict[str, Attacker] | None = None) -> dict[str, Any]:
    """The whole evaluation; `attackers` replaces the trained ones (the tests pass tiny ones)."""
    began = time.time()
    log = config.log
    target_models = config.models_dir
    config = dataclasses.replace(config, models_dir=snapshot_models(config.models_dir, config.cache))
    if attackers is None:
        ensure_attackers(config.cache, config.data_dir, log=log)
        attackers = standard_attackers(config.cache)
    conditions = (
        trivial_conditions(config.data_dir) + evaluation_only_conditions() + model_conditions(config.models_dir)
    )
    if config.adaptive:
        attackers.update(adaptive_attackers(config, conditions))
    records = load_records(config.subjects, config.data_dir, config.max_frames)
    gallery_records = [r for r in records if r.walk in GALLERY_WALKS]
    probes = [r for r in records if any(r.walk in walks for walks in PROBE_SETS.values())]
    log(f"{len(config.subjects)} subjects: {len(gallery_records)} gallery walks, {len(probes)} probe walks")
    gallery_geis = np.stack([gei(r.silhouettes) for r in gallery_records])
    galleries = {name: Embedded.of(a.embed_geis(gallery_geis), gallery_records) for name, a in attackers.items()}

    detector, scorer = _frame_scorer(config)
    report: dict[str, Any] = {"settings": _settings(config, attackers), "attackers": {}, "anonymity": {}, "naturalness": {}}
    examples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for condition in conditions:
        log(f"evaluating: {condition.name}")
        result = condition_result(condition, probes, config, scorer)
        recognition = {
            name: recognition_tables(Embedded.of(a.embed_geis(result.geis), probes), galleries[name])
            for name, a in attackers.items()
        }
        if not report["attackers"]:  # the first condition is the original walks: the attackers' strength
            report["attackers"] = {name: {"strength": t, "qualified": qualifies(t)} for name, t in recognition.items()}
        report["anonymity"][condition.name] = {
            "kind": condition.kind,
            "alpha": condition.alpha,
            "entry": condition.entry_name,
            "recognition": recognition,
            "success": {n: success_tables(t) for n, t in recognition.items() if report["attackers"][n]["qualified"]},
        }
        report["naturalness"][condition.name] = result.naturalness
        if result.example is not None:
            examples[condition.name] = result.example
    if config.video:
        report["video"] = video_domain(config, attackers, conditions, detector)
    report["calibration"] = calibrate_privacy_check(config)
    report["settings"]["wall_time_s"] = round(time.time() - began, 1)
    report["manifest_blocks"] = manifest_blocks(report, config, conditions)
    write_reports(report, config, examples)
    if config.write_manifest:
        write_manifest(report, target_models, log)
    log(f"done in {report['settings']['wall_time_s']:.0f} s: {config.out_dir / 'evaluation.md'}")
    return report


def _settings(config: EvaluationConfig, attackers: dict[str, Attacker]) -> dict[str, Any]:
    return {
        "mode": "quick" if config.quick else "full",
        "subjects": list(config.subjects),
        "data": str(casiab_dir(config.data_dir)),
        "frames_per_walk": config.max_frames or "all",
        "gallery": "original " + ", ".join(GALLERY_WALKS) + " of the evaluated subjects",
        "probes": {k: list(v) for k, v in PROBE_SETS.items()},
        "attackers": list(attackers),
        "qualifying_rank1": QUALIFYING_RANK1,
        "seed": config.seed,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m training.evaluate" + (" --quick" if config.quick else ""),
    }


def _frame_scorer(config: EvaluationConfig) -> tuple[PersonDetector | None, FrameScorer | None]:
    try:
        detector = PersonDetector()
    except GaitanonError as error:
        config.log(f"no frame score: {error}")
        return None, None
    background = empty_corridor(config.data_dir)
    scorer = FrameScorer(detector, background, config.detector_frames_per_walk) if background is not None else None
    return detector, scorer


# --- the adaptive attacker -----------------------------------------------------------------------


ADAPTIVE_ALPHA = 0.3


def adaptive_attackers(config: EvaluationConfig, conditions: list[Condition]) -> dict[str, Attacker]:
    """Attackers that have seen the alpha-0.3 anonymizer's outputs for the attacker subjects:
    the distortion-trained CNN fine-tuned on them, and the GEI+PCA/LDA refitted with them."""
    target = next((c for c in conditions if c.alpha is not None and abs(c.alpha - ADAPTIVE_ALPHA) < 1e-6), None)
    if target is None:
        return {}
    model_file = load_manifest(config.models_dir)
    sha = next(e["sha256"] for e in model_file["models"] if e["name"] == target.entry_name)

    def anonymize(silhouettes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        record = WalkRecord("", "", "", np.packbits(silhouettes, axis=-1))
        return as_attacker_sees(target.run(record, rng).silhouettes)

    # the engine's output version (the same files may give other outputs) and "_n": pre-treated as attackers see them
    key = f"{sha[:16]}_v{OUTPUT_VERSION}_n"
    lda_path, onnx_path = ensure_adaptive(config.cache, key, anonymize, config.data_dir, log=config.log)
    label = f"adaptive to alpha {ADAPTIVE_ALPHA:g}"
    return {
        f"GEI+PCA/LDA, {label}": GeiLdaAttacker.load(lda_path),
        f"GEI CNN, {label}": OnnxAttacker(f"GEI CNN, {label}", onnx_path),
    }


# --- the video domain ------------------------------------------------------------------------------


def video_domain(
    config: EvaluationConfig, attackers: dict[str, Attacker], conditions: list[Condition], detector: PersonDetector | None
) -> dict[str, Any]:
    """The four colour clips through the full engine, re-segmented by it, against a side-view gallery
    of the clip subjects' other normal walks beside the evaluated subjects' nm-01..04."""
    clips_dir = (config.data_dir or shared_data_dir()) / "clips"
    clips = {sid: clips_dir / name for sid, name in VIDEO_CLIPS.items() if (clips_dir / name).exists()}
    # the product's default strength only: each clip through the whole engine costs minutes here
    models = [c for c in conditions if c.kind == "model" and abs(c.alpha - ADAPTIVE_ALPHA) < 1e-6]
    if not clips or not models:
        return {"note": "not run: no colour clips or no shipped anonymizer"}
    gallery = load_records(clips, config.data_dir, None, walks=VIDEO_GALLERY_OWN) + load_records(
        config.subjects, config.data_dir, None, walks=GALLERY_WALKS
    )
    gallery = [r for r in gallery if r.view == "090"]
    gallery_geis = np.stack([gei(r.silhouettes) for r in gallery])
    galleries = {name: Embedded.of(a.embed_geis(gallery_geis), gallery) for name, a in attackers.items()}
    walks = {"original": {sid: resegmented_walk(clip) for sid, clip in clips.items()}}
    frame_pairs: dict[str, tuple[list, list]] = {}
    for condition in models:
        label = f"alpha {condition.alpha:g}"
        walks[label], frame_pairs[label] = {}, ([], [])
        for sid, clip in clips.items():
            target = engine_output(config, clip, condition)
            walks[label][sid] = resegmented_walk(target)
            _sample_frame_pairs(clip, target, *frame_pairs[label])
    result: dict[str, Any] = {
        "note": "four CASIA-B colour clips (subjects 002, 003, 004, 006), one view (90 degrees), through the "
        "full engine and re-segmented by it; gallery: those subjects' nm-02..06 and the evaluated subjects' "
        "nm-01..04, side view only",
        "clips": sorted(clips),
        "conditions": {},
    }
    for label, by_subject in walks.items():
        geis = np.stack([gei(w) for w in by_subject.values()])
        truth = np.array(list(by_subject))
        entry: dict[str, Any] = {"frames": {sid: int(len(w)) for sid, w in by_subject.items()}, "recognition": {}}
        for name, attacker in attackers.items():
            hits = identify(attacker.embed_geis(geis), truth, galleries[name].vectors, galleries[name].subject)
            entry["recognition"][name] = {"rank1": float(hits.rank1.mean()), "rank3": float(hits.rank3.mean())}
        if label in frame_pairs and detector is not None:
            score = frame_score(detector, *frame_pairs[label])
            entry["frame_score"] = {"original": score.original, "anonymized": score.anonymized, "relative": score.relative}
        if label != "original":
            rhythm = [compare_rhythm(walks["original"][sid], w) for sid, w in by_subject.items()]
            entry["stride_period_ratio"] = _nanmean([r.period_ratio for r in rhythm])
            entry["leg_swing_ratio"] = _nanmean([r.swing_ratio for r in rhythm])
        result["conditions"][label] = entry
    return result


def engine_output(config: EvaluationConfig, clip: Path, condition: Condition) -> Path:
    """`clip` anonymized by the full engine (gaitanon_core.pipeline), cached per model file, engine
    output version and seed."""
    from gaitanon_core.pipeline import AnonymizeOptions, anonymize_clip

    target = config.cache / "video" / f"{clip.stem}_{condition.fingerprint[:12]}_v{OUTPUT_VERSION}_s{config.seed}.mp4"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        config.log(f"  video: {clip.name} at alpha {condition.alpha:g}")
        options = AnonymizeOptions(strength=condition.alpha, device="cpu", seed=config.seed, models_dir=config.models_dir)
        anonymize_clip(clip, target, options)
    return target


def resegmented_walk(video: Path) -> np.ndarray:
    """The engine's own segmentation of a clip, whole-body frames only, normalised as CASIA-B."""
    from gaitanon_core.people.silhouettes import segment_clip
    from gaitanon_core.shape.casiab import normalise_like_casiab

    frames = [normalise_like_casiab(m.person) for m in segment_clip(video) if m.body == "whole" and m.person.any()]
    if not frames:
        raise GaitanonError(f"the engine found no whole-body frame in {video.name}")
    return np.stack(frames)


def _sample_frame_pairs(original: Path, anonymized: Path, before: list, after: list, every: int = 6) -> None:
    from gaitanon_core.video import read_frames

    for index, (a, b) in enumerate(zip(read_frames(original), read_frames(anonymized))):
        if index % every == 0:
            before.append(a.image)
            after.append(b.image)


# --- the privacy check's calibration ---------------------------------------------------------------


def calibrate_privacy_check(config: EvaluationConfig) -> dict[str, Any]:
    """Same-person and different-person distances of the shipped attacker on the validation
    subjects (never the test subjects), same view, normal walks."""
    try:
        embedder = AttackerEmbedder(config.models_dir)
    except GaitanonError as error:
        return {"note": f"not calibrated: {error}"}
    records = load_records(subjects("validation"), config.data_dir, None, walks=NM_WALKS)
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


# --- manifest ---------------------------------------------------------------------------------------


def headline(tables: dict[str, Any], probe_set: str = "nm", kind: str = "same_view", rank: str = "rank1") -> float | None:
    node = tables.get(probe_set, {}).get(kind, {}).get("mean", {})
    return node.get(rank)


def manifest_blocks(report: dict[str, Any], config: EvaluationConfig, conditions: list[Condition]) -> dict[str, Any]:
    """The "evaluation" block of each shipped anonymizer's manifest entry (and the attacker's)."""
    manifest = {e["name"]: e for e in load_manifest(config.models_dir).get("models", [])}
    blocks: dict[str, Any] = {}
    for condition in conditions:
        if condition.entry_name is None or condition.entry_name not in manifest:
            continue
        result = report["anonymity"][condition.name]
        natural = report["naturalness"][condition.name]
        blocks[condition.entry_name] = {
            "model_sha256": condition.fingerprint,  # the file measured, even if replaced since
            "mode": report["settings"]["mode"],
            "date": report["settings"]["date"],
            "command": report["settings"]["command"],
            "subjects": _subject_label(config.subjects),
            "success_rank1_same_view_nm": {n: headline(t) for n, t in result["success"].items()},
            "success_rank3_same_view_nm": {n: headline(t, rank="rank3") for n, t in result["success"].items()},
            "success_rank1_cross_view_nm": {n: headline(t, kind="cross_view") for n, t in result["success"].items()},
            "frame_score_relative": natural.get("frame_score", {}).get("relative"),
            "stride_period_ratio": natural["stride_period_ratio"],
            "motion_ratio": natural["motion_ratio"],
            "jitter_ratio": natural["jitter_ratio"],
            "self_intersection_share": natural["self_intersection_share"],
            "iou_with_original": natural["iou_with_original"],
        }
    attacker = next((e for e in manifest.values() if e.get("role") == "attacker"), None)
    if attacker is not None and "levels" in report["calibration"]:
        strength = report["attackers"].get(HEADLINE_ATTACKER, {}).get("strength", {})
        blocks[attacker["name"]] = {
            "model_sha256": attacker["sha256"],
            "calibration": report["calibration"],
            "rank1_same_view_nm_original": headline(strength) if strength else None,
        }
    return _json_ready(blocks)


def write_manifest(report: dict[str, Any], models_dir: Path, log: Callable[[str], None]) -> None:
    """Each block into its entry, unless the entry's file changed while the evaluation ran."""
    current = {e["name"]: e.get("sha256") for e in load_manifest(models_dir).get("models", [])}
    for name, block in report["manifest_blocks"].items():
        if current.get(name) != block["model_sha256"]:
            log(f"not writing figures for {name}: its file changed during the evaluation; run it again")
        elif "calibration" in block:
            update_entry(name, models_dir, calibration=block["calibration"],
                         evaluation={k: v for k, v in block.items() if k != "calibration"})
        else:
            update_entry(name, models_dir, evaluation=block)


def snapshot_models(models_dir: Path, cache: Path, tries: int = 5) -> Path:
    """A checked copy of the models folder, so that files replaced during a long run (a trainer
    exporting) neither break it nor get figures measured on their predecessors."""
    for _ in range(tries):
        manifest_file = manifest_path(models_dir)
        if not manifest_file.exists():
            return models_dir
        text = manifest_file.read_text()
        folder = cache / "models_snapshot" / hashlib.sha256(text.encode()).hexdigest()[:16]
        folder.mkdir(parents=True, exist_ok=True)
        entries = [e for e in json.loads(text).get("models", []) if "file" in e]
        for entry in entries:
            shutil.copyfile(models_dir / entry["file"], folder / entry["file"])
        if all(file_sha256(folder / e["file"]) == e.get("sha256") for e in entries):
            (folder / "manifest.json").write_text(text)
            return folder
        time.sleep(10)  # caught a file half-written: wait for the exporter to finish
    raise GaitanonError(f"the models in {models_dir} keep changing; run the evaluation once they are exported")


def _subject_label(ids: Sequence[str]) -> str:
    return f"{ids[0]}-{ids[-1]} ({len(ids)} subjects)" if len(ids) > 1 else ids[0]


def _json_ready(node: Any) -> Any:
    """numpy scalars -> Python numbers; NaN -> None (JSON has no NaN)."""
    if isinstance(node, dict):
        return {str(k): _json_ready(v) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        return [_json_ready(v) for v in node]
    if isinstance(node, (float, np.floating)):
        return None if not np.isfinite(node) else float(node)
    if isinstance(node, np.integer):
        return int(node)
    return node


# --- reports ----------------------------------------------------------------------------------------


def write_reports(report: dict[str, Any], config: EvaluationConfig, examples: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    config.out_dir.mkdir(parents=True, exist_ok=True)
    clean = _json_ready({k: v for k, v in report.items()})
    (config.out_dir / "evaluation.json").write_text(json.dumps(clean, indent=1) + "\n")
    figures = plot_figures(clean, config.out_dir, examples)
    (config.out_dir / "evaluation.md").write_text(markdown_report(clean, figures))


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def markdown_report(report: dict[str, Any], figures: list[str]) -> str:
    settings = report["settings"]
    lines = [
        "# Evaluation",
        "",
        f"Generated by `{settings['command']}` on {settings['date']} in {settings['wall_time_s']:.0f} s "
        f"({settings['mode']} mode: frames per walk: {settings['frames_per_walk']}; seed {settings['seed']}).",
        f"Data: `{settings['data']}`. Evaluated subjects: {_subject_label(settings['subjects'])}. "
        f"Gallery: {settings['gallery']}; probes: " + "; ".join(f"{k} = {', '.join(v)}" for k, v in settings["probes"].items()) + ".",
        "Rates are means over probe views; cross-view averages every gallery view except the probe's own. "
        f"With {len(settings['subjects'])} gallery subjects, chance rank-1 is {100 / max(len(settings['subjects']), 1):.1f}%.",
        "",
        "## 1. The attackers' own strength (original probes)",
        "",
        f"Success rates are printed only against attackers whose same-view rank-1 on original nm probes is at least "
        f"{100 * settings['qualifying_rank1']:.0f}%: a weak attacker makes any anonymizer look good.",
        "",
    ]
    rows = []
    for name, info in report["attackers"].items():
        strength = info["strength"]
        rows.append(
            [name]
            + [f"{_pct(headline(strength, s))} / {_pct(headline(strength, s, rank='rank3'))}" for s in PROBE_SETS]
            + [_pct(headline(strength, "nm", "cross_view"))]
            + ["yes" if info["qualified"] else "**no: success rates refused**"]
        )
    lines += _table(["attacker", "nm same-view r1/r3 %", "bg same-view r1/r3 %", "cl same-view r1/r3 %", "nm cross-view r1 %", "qualifies"], rows)
    lines += _per_view_lines("Same-view rank-1 per view, original nm probes (%)", {n: i["strength"] for n, i in report["attackers"].items()}, "same_view", "rank1")
    lines += _per_view_lines("Cross-view rank-1 per probe view, original nm probes (%)", {n: i["strength"] for n, i in report["attackers"].items()}, "cross_view", "rank1")

    qualified = [n for n, i in report["attackers"].items() if i["qualified"]]
    lines += ["## 2. Anonymity: success rate = 1 - rank (%, nm probes, same-view; top-1 / top-3)", ""]
    if not qualified:
        lines += ["No attacker qualifies, so no success rate is reported.", ""]
    else:
        rows = [
            [name] + [f"{_pct(headline(r['success'][a]))} / {_pct(headline(r['success'][a], rank='rank3'))}" for a in qualified]
            for name, r in report["anonymity"].items()
        ]
        lines += _table(["anonymizer"] + qualified, rows)
        lines += ["Cross-view success (top-1, %), and bg / cl probes same-view (top-1, %):", ""]
        rows = [
            [name]
            + [
                f"{_pct(headline(r['success'][a], 'nm', 'cross_view'))}; {_pct(headline(r['success'][a], 'bg'))} / {_pct(headline(r['success'][a], 'cl'))}"
                for a in qualified
            ]
            for name, r in report["anonymity"].items()
        ]
        lines += _table(["anonymizer"] + [f"{a}: cross; bg / cl" for a in qualified], rows)
        if HEADLINE_ATTACKER in qualified:
            lines += _per_view_lines(
                f"Success top-1 per view against {HEADLINE_ATTACKER} (nm, same-view, %)",
                {n: r["success"][HEADLINE_ATTACKER] for n, r in report["anonymity"].items()},
                "same_view",
                "rank1",
            )
    lines += _naturalness_lines(report)
    lines += _video_lines(report)
    lines += _calibration_lines(report)
    lines += ["## Figures", ""] + [f"![{f}]({f})" for f in figures] + [""]
    return "\n".join(lines)


def _per_view_lines(title: str, tables: dict[str, Any], kind: str, rank: str) -> list[str]:
    rows = []
    for name, t in tables.items():
        per_view = t.get("nm", {}).get(kind, {}).get("per_view", {})
        rows.append([name] + [_pct(per_view[v][rank]) if v in per_view else "-" for v in VIEWS])
    return [f"{title}:", ""] + _table(["", *VIEWS], rows)


def _naturalness_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        "## 3. Naturalness (nm-05 walks, views " + ", ".join(NATURALNESS_VIEWS) + "; ratios are anonymized / original)",
        "",
        "Frame score: SSD-MobileNet-v2 (COCO) person confidence, side view; each 64-px silhouette is pasted, shaded, "
        "into the empty CASIA-B corridor at people's size there (a bare binary mask scores near zero either way). "
        "The paper's video score used a Kinetics action recogniser, which cannot be obtained offline; in its place "
        "the gait rhythm (stride period and periodicity of the legs' spread over time, and the swing's amplitude) "
        "says whether the motion is still a walk with the same cadence, and the temporal jitter says whether it flickers.",
        "",
    ]
    rows = []
    for name, n in report["naturalness"].items():
        fs = n.get("frame_score") or {}
        rows.append(
            [
                name,
                f"{_ratio(fs.get('anonymized'))} / {_ratio(fs.get('original'))}",
                _ratio(fs.get("relative")),
                _ratio(n["stride_period_ratio"]),
                _ratio(n["periodicity_ratio"]),
                _ratio(n["leg_swing_ratio"]),
                _ratio(n["motion_ratio"]),
                _ratio(n["jitter_ratio"]),
                _ratio(n["iou_with_original"]),
                _pct(n["self_intersection_share"]),
            ]
        )
    return lines + _table(
        ["anonymizer", "person conf. anon / orig", "frame score (rel.)", "stride period", "periodicity", "leg swing", "motion", "jitter", "IoU with original", "self-intersecting %"],
        rows,
    ) + _tradeoff_lines(report)


def _tradeoff_lines(report: dict[str, Any]) -> list[str]:
    models = {n: r for n, r in report["anonymity"].items() if r["kind"] in ("model", "baseline")}
    if not models or HEADLINE_ATTACKER not in report["attackers"] or not report["attackers"][HEADLINE_ATTACKER]["qualified"]:
        return []
    rows = []
    for name, r in models.items():
        n = report["naturalness"][name]
        adaptive = [a for a in r["success"] if "adaptive" in a and "CNN" in a]
        rows.append(
            [
                name,
                _pct(headline(r["success"][HEADLINE_ATTACKER])),
                _pct(headline(r["success"][HEADLINE_ATTACKER], rank="rank3")),
                _pct(headline(r["success"][adaptive[0]])) if adaptive else "-",
                _ratio((n.get("frame_score") or {}).get("relative")),
                _ratio(n["stride_period_ratio"]),
                _ratio(n["motion_ratio"]),
                _pct(n["self_intersection_share"]),
            ]
        )
    return ["Trade-off across strengths (the paper's Tables 2-3): success against the distortion-trained CNN, naturalness.", ""] + _table(
        ["anonymizer", "success top-1 %", "success top-3 %", "vs adaptive CNN top-1 %", "frame score", "stride period", "motion", "self-intersecting %"],
        rows,
    )


def _video_lines(report: dict[str, Any]) -> list[str]:
    video = report.get("video")
    if not video:
        return []
    lines = ["## 4. Video domain", "", video["note"] + ".", ""]
    if "conditions" not in video:
        return lines
    names = list(next(iter(video["conditions"].values()))["recognition"])
    rows = []
    for label, entry in video["conditions"].items():
        fs = entry.get("frame_score") or {}
        rows.append(
            [label]
            + [f"{_pct(entry['recognition'][a]['rank1'])} / {_pct(entry['recognition'][a]['rank3'])}" for a in names]
            + [_ratio(fs.get("relative")), _ratio(entry.get("stride_period_ratio"))]
        )
    return lines + _table(["probe", *[f"{a} r1/r3 %" for a in names], "frame score (rel.)", "stride period"], rows) + [
        f"Each rate is over {len(video['clips'])} clips: one clip is 25 points.",
        "",
    ]


def _calibration_lines(report: dict[str, Any]) -> list[str]:
    cal = report["calibration"]
    if "levels" not in cal:
        return ["## 5. Privacy check calibration", "", cal["note"], ""]
    levels = cal["levels"]
    pick = [levels.index(x) for x in (0.05, 0.5, 0.95)]
    same = ", ".join(f"{cal['same_person'][i]:.3f}" for i in pick)
    different = ", ".join(f"{cal['different_person'][i]:.3f}" for i in pick)
    return [
        "## 5. Privacy check calibration",
        "",
        f"The shipped attacker's distances on the {cal['subjects']}, same view, nm walks "
        f"({cal['pairs']['same_person']} same-person and {cal['pairs']['different_person']} different-person pairs): "
        f"same person 5/50/95% quantiles {same}; different people {different}; "
        f"equal-error threshold {cal['threshold']:.3f} (equal error rate {100 * cal['equal_error_rate']:.1f}%).",
        "",
    ]


def plot_figures(report: dict[str, Any], out_dir: Path, examples: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    if HEADLINE_ATTACKER in report["attackers"] and report["attackers"][HEADLINE_ATTACKER]["qualified"]:
        figure, axis = plt.subplots(figsize=(7, 5))
        for name, r in report["anonymity"].items():
            fs = (report["naturalness"][name].get("frame_score") or {}).get("relative")
            success = headline(r["success"][HEADLINE_ATTACKER])
            if fs is None or success is None:
                continue
            marker = {"model": "o", "baseline": "s", "reference": "^"}.get(r["kind"], "x")
            axis.scatter(fs, 100 * success, marker=marker)
            axis.annotate(name, (fs, 100 * success), fontsize=7, xytext=(3, 3), textcoords="offset points")
        axis.set_xlabel("frame score (person confidence, anonymized / original)")
        axis.set_ylabel(f"success top-1 % vs {HEADLINE_ATTACKER}")
        axis.set_title("Anonymity against naturalness")
        axis.grid(alpha=0.3)
        written.append(_save(figure, out_dir / "tradeoff.png"))

        figure, axis = plt.subplots(figsize=(8, 4.5))
        for name, r in report["anonymity"].items():
            per_view = r["success"][HEADLINE_ATTACKER].get("nm", {}).get("same_view", {}).get("per_view", {})
            if r["kind"] in ("model", "baseline") or name == "codec round trip":
                axis.plot([int(v) for v in per_view], [100 * per_view[v]["rank1"] for v in per_view], marker="o", label=name)
        axis.set_xlabel("probe view (degrees)")
        axis.set_ylabel("success top-1 % (nm, same view)")
        axis.set_title(f"Success per view against {HEADLINE_ATTACKER}")
        axis.legend(fontsize=7)
        axis.grid(alpha=0.3)
        written.append(_save(figure, out_dir / "success_per_view.png"))
    shown = {n: e for n, e in examples.items() if report["anonymity"][n]["kind"] in ("model", "baseline")} or {
        n: e for n, e in examples.items() if report["anonymity"][n]["kind"] == "trivial"
    }
    if shown:
        written.append(xor_figure(shown, out_dir / "xor.png", plt))
    return written


def xor_figure(examples: dict[str, tuple[np.ndarray, np.ndarray]], path: Path, plt: Any) -> str:
    """The paper's Figure 18: per anonymizer, original and anonymized silhouettes overlaid on
    six frames (white: both; red: original only; green: anonymized only)."""
    rows = len(examples)
    figure, axes = plt.subplots(rows, 6, figsize=(9, 1.9 * rows), squeeze=False)
    for row, (name, (original, anonymized)) in enumerate(examples.items()):
        for col, index in enumerate(np.linspace(0, min(len(original), len(anonymized)) - 1, 6).astype(int)):
            both = original[index] & anonymized[index]
            image = np.zeros((*both.shape, 3))
            image[both] = 1.0
            image[original[index] & ~anonymized[index]] = (0.9, 0.15, 0.15)
            image[anonymized[index] & ~original[index]] = (0.15, 0.8, 0.15)
            axes[row, col].imshow(image, interpolation="nearest")
            axes[row, col].set_axis_off()
        axes[row, 0].set_title(name, fontsize=8, loc="left")
    return _save(figure, path)


def _save(figure: Any, path: Path) -> str:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(figure)
    return path.name


# --- the command -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_FRAMES} frames from the middle of each walk, fewer detector frames; "
                        "does not touch the manifest")
    parser.add_argument("--data", type=Path, default=None, help="data folder holding casiab64/ and clips/ (default: ../shared/data)")
    parser.add_argument("--subjects", nargs="+", default=None,
                        help="evaluated subjects, ids or ranges such as 085-100 (default: the test group)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports", help="report folder (default: reports/)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="trained attackers and cached embeddings")
    parser.add_argument("--models", type=Path, default=REPO_ROOT / "models", help="models folder with manifest.json")
    parser.add_argument("--no-video", action="store_true", help="skip the colour clips through the full engine")
    parser.add_argument("--no-manifest", action="store_true", help="do not write the figures into the manifest")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw, so that the figures reproduce")
    args = parser.parse_args(argv)
    config = EvaluationConfig(
        subjects=parse_subjects(args.subjects) if args.subjects else subjects("test"),
        data_dir=args.data,
        quick=args.quick,
        out_dir=args.out,
        cache=args.cache,
        models_dir=args.models,
        write_manifest=not (args.quick or args.no_manifest),
        video=not args.no_video,
        seed=args.seed,
    )
    try:
        run_evaluation(config)
    except GaitanonError as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
