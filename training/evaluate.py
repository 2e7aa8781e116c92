"""One command for every figure the project publishes (DESIGN.md "Evaluation protocol").

    python -m training.evaluate [--quick] [--data DIR] [--subjects 085-100 | 085 086 ...] [--candidate DIR]

It trains (once, cached) and reports the attackers' own strength, then the success rate of every
anonymizer against every attacker strong enough to matter: recognisers that have not seen the tool's
output, ADAPTIVE ones retrained on each shipped strength's own outputs (several seeds at the default
strength), the TOOL OWNER who undoes the tool's mean change, and LINKABILITY (anonymized against
anonymized); then naturalness, the video domain through the full engine, and the privacy check's
calibration. Writes reports/evaluation.md|json and PNG figures, and (full runs) the figures into the
anonymizers' manifest entries (a --candidate folder's into its own manifest). The parts live in
training/evaluation/. Random draws are seeded (`--seed`, default 0) so that the figures reproduce.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gaitanon_core.shape.casiab import casiab_dir
from gaitanon_core.errors import GaitanonError
from gaitanon_core.inference.anonymizer import OUTPUT_VERSION
from gaitanon_core.options import default_strength
from gaitanon_core.paths import REPO_ROOT
from training.splits import subjects
from training.attackers import identify
from training.evaluation.conditions import (
    ORIGINAL,
    Condition,
    evaluation_only_conditions,
    model_conditions,
    trivial_conditions,
)
from training.evaluation.data import (
    DRAWING_VERSION,
    GALLERY_WALKS,
    PROBE_SETS,
    QUICK_FRAMES,
    WalkRecord,
    in_naturalness_sample,
    load_records,
    parse_subjects,
)
from training.evaluation.metrics import (
    QUALIFYING_RANK1,
    Embedded,
    FrameScorer,
    NaturalnessSample,
    calibrate_privacy_check,
    frame_scorer,
    headline,
    linkability_rank1,
    naturalness_figures,
    recognition_tables,
    seed_spread,
    success_tables,
)
from training.evaluation.report import manifest_blocks, snapshot_models, subject_label, write_manifest, write_reports
from training.evaluation.suite import (
    Attacker,
    Walks,
    adaptive_attackers,
    mean_change,
    standard_attackers,
    undo_mean_change,
)
from training.evaluation.video import video_domain
from training.train_attackers import DEFAULT_CACHE, ensure_attackers

ADAPTIVE_SEEDS = 3  # independent adaptive attackers at the default strength; one at the others
ATTACKER_SUBJECTS = subjects("attacker")
CACHE_VERSION = 3  # bump when a measure's code changes what it gives (engine outputs: OUTPUT_VERSION; drawing: DRAWING_VERSION)


@dataclass
class EvaluationConfig:
    subjects: tuple[str, ...] = subjects("test")
    data_dir: Path | None = None
    quick: bool = False
    out_dir: Path = REPO_ROOT / "reports"
    cache: Path = DEFAULT_CACHE
    models_dir: Path = REPO_ROOT / "models"
    candidates: tuple[Path, ...] = ()
    write_manifest: bool = True
    video: bool = True
    seed: int = 0
    adaptive: bool = True
    adaptive_seeds: int = ADAPTIVE_SEEDS
    set_seeds: int = ADAPTIVE_SEEDS  # of those, how many also get an adaptive set-based recogniser
    adaptive_at_every_strength: bool = True  # else only at each models folder's default strength
    set_attacker: bool = True
    tool_owner_subjects: tuple[str, ...] = ATTACKER_SUBJECTS  # whom the tool owner runs the tool on
    only: tuple[str, ...] = ()  # evaluate only the anonymizers whose name contains one of these (and the originals)
    log: Callable[[str], None] = print

    @property
    def max_frames(self) -> int | None:
        return QUICK_FRAMES if self.quick else None

    @property
    def detector_frames_per_walk(self) -> int:
        return 2 if self.quick else 4


# --- one anonymizer over the probes (cached) -----------------------------------------------------------


@dataclass
class ConditionResult:
    """What the evaluation keeps of one anonymizer's run: the probes as attackers see them, and for
    models a second draw of the nm-05 probes and an anonymized gallery (linkability)."""

    walks: Walks
    naturalness: dict[str, Any]
    example: tuple[np.ndarray, np.ndarray] | None  # one side-view walk, original and anonymized
    second_draw: Walks | None = None  # nm-05 probes anonymized again with another latent
    gallery: Walks | None = None  # the gallery walks anonymized

    def save(self, path: Path) -> None:
        arrays: dict[str, Any] = {"geis": self.walks.geis, "frames": self.walks.frames,
                                  "naturalness": json.dumps(self.naturalness)}
        if self.example:
            arrays.update(example_original=self.example[0], example_anonymized=self.example[1])
        for name in ("second_draw", "gallery"):
            walks = getattr(self, name)
            if walks is not None:
                arrays.update({f"{name}_geis": walks.geis, f"{name}_frames": walks.frames})
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> ConditionResult:
        with np.load(path) as s:
            example = (s["example_original"], s["example_anonymized"]) if "example_original" in s else None
            optional = {n: Walks(s[f"{n}_geis"], s[f"{n}_frames"]) if f"{n}_geis" in s else None
                        for n in ("second_draw", "gallery")}
            return cls(Walks(s["geis"], s["frames"]), json.loads(str(s["naturalness"])), example, **optional)


def condition_result(condition: Condition, probes: list[WalkRecord], gallery: list[WalkRecord],
                     config: EvaluationConfig, scorer: FrameScorer | None) -> ConditionResult:
    """Anonymize every probe once (cached per anonymizer, model files, engine output and drawing versions,
    subjects, frames, data, seed)."""
    key = _cache_key(
        CACHE_VERSION, OUTPUT_VERSION, DRAWING_VERSION, condition.name, condition.fingerprint, config.subjects,
        config.max_frames, str(casiab_dir(config.data_dir)), config.seed, config.detector_frames_per_walk,
        scorer is not None,
    )
    path = config.cache / "conditions" / f"{key}.npz"
    if path.exists():
        return ConditionResult.load(path)
    result = run_condition(condition, probes, gallery if condition.kind == "model" else [], config.seed, scorer)
    result.save(path)
    return result


def _cache_key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:20]


def run_condition(condition: Condition, probes: list[WalkRecord], gallery: list[WalkRecord], seed: int,
                  scorer: FrameScorer | None) -> ConditionResult:
    rng = np.random.default_rng([seed, zlib.crc32(condition.name.encode())])
    seen = []
    sample = NaturalnessSample()
    for record in probes:
        result = condition.run(record, rng)
        seen.append(result.silhouettes)
        if in_naturalness_sample(record):
            sample.originals.append(record.silhouettes)
            sample.anonymized.append(result.silhouettes)
            sample.views.append(record.view)
            sample.keys.append(f"{record.subject}_{record.walk}_{record.view}")
            if result.contours is not None:
                sample.contours.append(result.contours)
            if result.raw_contours is not None:
                sample.raw_contours.append(result.raw_contours)
    example = None
    if "090" in sample.views:
        first = sample.views.index("090")
        example = (sample.originals[first], sample.anonymized[first])
    second = gallery_walks = None
    if gallery:  # linkability: fresh latents for the same nm-05 walks, and the gallery anonymized
        relink = np.random.default_rng([seed + 1, zlib.crc32(condition.name.encode())])
        second = Walks.of([condition.run(r, relink).silhouettes for r in probes if r.walk == "nm-05"])
        gallery_walks = Walks.of([condition.run(r, relink).silhouettes for r in gallery])
    return ConditionResult(Walks.of(seen), naturalness_figures(sample, scorer), example, second, gallery_walks)


# --- the run ---------------------------------------------------------------------------------------------


def run_evaluation(config: EvaluationConfig, attackers: dict[str, Attacker] | None = None) -> dict[str, Any]:
    """The whole evaluation; `attackers` replaces the trained ones (the tests pass tiny ones)."""
    began = time.time()
    log = config.log
    shipped = snapshot_models(config.models_dir, config.cache)
    if attackers is None:
        ensure_attackers(config.cache, config.data_dir, log=log)
        attackers = standard_attackers(config.cache, config.data_dir, config.set_attacker, log)
    folders = {shipped: config.models_dir, **{snapshot_models(c, config.cache): c for c in config.candidates}}
    conditions = trivial_conditions(config.data_dir) + evaluation_only_conditions()
    defaults: set[str] = set()
    strongest: set[str] = set()  # with the defaults, the stops that get adaptive set-based recognisers
    for snapshot, origin in folders.items():
        prefix = "" if origin == config.models_dir else f"candidate {origin.name}: "
        named = [dataclasses.replace(c, name=prefix + c.name, models_dir=snapshot) for c in model_conditions(snapshot)]
        conditions.extend(named)
        defaults.update(c.name for c in named if abs(c.alpha - default_strength(snapshot)) < 1e-6)
        if named:
            strongest.add(max(named, key=lambda c: c.alpha).name)
    if config.only:
        conditions = [c for c in conditions if c.name == ORIGINAL or any(part in c.name for part in config.only)]
    records = load_records(config.subjects, config.data_dir, config.max_frames)
    gallery_records = [r for r in records if r.walk in GALLERY_WALKS]
    probes = [r for r in records if any(r.walk in walks for walks in PROBE_SETS.values())]
    log(f"{len(config.subjects)} subjects: {len(gallery_records)} gallery walks, {len(probes)} probe walks")
    gallery_walks = Walks.of([r.silhouettes for r in gallery_records])
    galleries: dict[str, Embedded] = {}

    def gallery_of(name: str, attacker: Attacker) -> Embedded:
        if name not in galleries:
            galleries[name] = Embedded.of(attacker.embed(gallery_walks), gallery_records)
        return galleries[name]

    def judge(walks: Walks, among: dict[str, Attacker]) -> dict[str, Any]:
        return {n: recognition_tables(Embedded.of(a.embed(walks), probes), gallery_of(n, a)) for n, a in among.items()}

    detector, scorer = frame_scorer(config.data_dir, config.detector_frames_per_walk, log)
    report: dict[str, Any] = {"settings": _settings(config, attackers), "attackers": {}, "anonymity": {}, "naturalness": {}}
    examples: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    original_walks: Walks | None = None
    changes: dict[str, dict[str, np.ndarray]] = {}
    adaptive_by_condition: dict[str, dict[str, Attacker]] = {}
    for condition in conditions:
        log(f"evaluating: {condition.name}")
        result = condition_result(condition, probes, gallery_records, config, scorer)
        mine = dict(attackers)
        if condition.kind == "model" and config.adaptive and (config.adaptive_at_every_strength or condition.name in defaults):
            seeds = range(config.adaptive_seeds if condition.name in defaults else 1)
            with_set = config.set_attacker and condition.name in defaults | strongest
            set_seeds = range(min(config.set_seeds, len(seeds)) if with_set else 0)
            adaptive = adaptive_attackers(condition, config.cache, config.data_dir, seeds, set_seeds, log)
            adaptive_by_condition[condition.name] = adaptive
            mine.update(adaptive)
            for name, tables in judge(original_walks, adaptive).items():
                report["attackers"][name] = {"strength": tables, "qualified": qualifies(tables)}
        recognition = judge(result.walks, mine)
        if condition.name == ORIGINAL:  # the attackers' strength
            original_walks = result.walks
            report["attackers"].update({n: {"strength": t, "qualified": qualifies(t)} for n, t in recognition.items()})
        entry: dict[str, Any] = {
            "kind": condition.kind,
            "alpha": condition.alpha,
            "entry": condition.entry_name,
            "recognition": recognition,
            "success": {n: success_tables(t) for n, t in recognition.items() if report["attackers"][n]["qualified"]},
        }
        if condition.name != ORIGINAL:
            changes[condition.name] = mean_change(condition, config.cache, config.data_dir, config.seed,
                                                  config.tool_owner_subjects, log)
            undone = undo_mean_change(result.walks.frame_walks(), [r.view for r in probes], changes[condition.name])
            owners = {n: a for n, a in attackers.items() if report["attackers"][n]["qualified"]}
            entry["tool_owner"] = {n: success_tables(t) for n, t in judge(undone, owners).items()}
        if condition.name in adaptive_by_condition:
            entry["adaptive_seeds"] = _adaptive_spread(entry["success"])
        if result.second_draw is not None and result.gallery is not None:
            linkers = {n: a for n, a in {**attackers, **adaptive_by_condition.get(condition.name, {})}.items()
                       if report["attackers"][n]["qualified"]}
            entry["linkability"] = linkability(result, probes, gallery_records, linkers)
        report["anonymity"][condition.name] = entry
        report["naturalness"][condition.name] = result.naturalness
        if result.example is not None:
            examples[condition.name] = result.example
    if config.video:
        report["video"] = _video(config, conditions, defaults, attackers, adaptive_by_condition, changes, detector)
    report["calibration"] = calibrate_privacy_check(shipped, config.data_dir)
    report["settings"]["wall_time_s"] = round(time.time() - began, 1)
    report["manifest_blocks"] = {
        str(origin): manifest_blocks(report, subject_label(config.subjects), snapshot,
                                     {c.name: (c.entry_name, c.fingerprint) for c in conditions if c.models_dir == snapshot})
        for snapshot, origin in folders.items()
    }
    write_reports(report, config.out_dir, examples)
    if config.write_manifest:
        for origin, blocks in report["manifest_blocks"].items():
            write_manifest({"manifest_blocks": blocks}, Path(origin), log)
    log(f"done in {report['settings']['wall_time_s']:.0f} s: {config.out_dir / 'evaluation.md'}")
    return report


def qualifies(strength: dict[str, Any]) -> bool:
    return strength["nm"]["same_view"]["mean"]["rank1"] >= QUALIFYING_RANK1


def _adaptive_spread(success: dict[str, Any]) -> dict[str, Any]:
    """Per adaptive attacker kind, the headline success over its seeds (mean and range)."""
    kinds: dict[str, list[float | None]] = {}
    for name, tables in success.items():
        if "adaptive" in name:
            kinds.setdefault(name.split(", seed")[0].split(", adaptive")[0] + ", adaptive", []).append(headline(tables))
    return {kind: seed_spread(values) for kind, values in kinds.items()}


def linkability(result: ConditionResult, probes: list[WalkRecord], gallery: list[WalkRecord],
                attackers: dict[str, Attacker]) -> dict[str, Any]:
    """Rank-1 of linking anonymized walks to anonymized walks, the highest over the qualified recognisers
    given (an attacker picks whichever links best): two draws of the same nm-05 walk, and anonymized
    nm-05/06 probes against the anonymized nm-01..04 gallery."""
    first_draw = [i for i, r in enumerate(probes) if r.walk == "nm-05"]
    once = [probes[i] for i in first_draw]
    same_walk = anonymized_gallery = {"rank1": -1.0}
    per_attacker = {}
    for name, attacker in attackers.items():
        a = linkability_rank1(Embedded.of(attacker.embed(result.second_draw), once),
                              Embedded.of(attacker.embed(_subset(result.walks, first_draw)), once))
        b = linkability_rank1(Embedded.of(attacker.embed(result.walks), probes),
                              Embedded.of(attacker.embed(result.gallery), gallery))
        per_attacker[name] = {"two_draws_same_walk": a, "anonymized_gallery": b}
        same_walk = max(same_walk, a, key=lambda d: d.get("rank1", -1.0))
        anonymized_gallery = max(anonymized_gallery, b, key=lambda d: d.get("rank1", -1.0))
    return {"two_draws_same_walk": same_walk, "anonymized_gallery": anonymized_gallery, "per_attacker": per_attacker}


def _subset(walks: Walks, indices: Sequence[int]) -> Walks:
    return Walks(walks.geis[indices], walks.frames[indices])


def _video(config: EvaluationConfig, conditions: list[Condition], defaults: set[str], attackers: dict[str, Attacker],
           adaptive: dict[str, dict[str, Attacker]], changes: dict[str, dict[str, np.ndarray]], detector: Any) -> dict[str, Any]:
    """The colour clips at each models folder's default strength (each clip costs minutes through the engine),
    judged by the standard attackers and the ones adapted to that condition."""
    merged: dict[str, Any] = {}
    for condition in (c for c in conditions if c.name in defaults):
        part = video_domain(config.subjects, config.data_dir, config.cache, config.seed,
                            {**attackers, **adaptive.get(condition.name, {})}, [condition], changes, detector, config.log)
        conditions_part = part.pop("conditions", {})
        merged.update(part)
        merged.setdefault("conditions", {}).update(conditions_part)
    return merged or {"note": "not run: no shipped anonymizer"}


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
        "adaptive_seeds_at_default": config.adaptive_seeds,
        "set_seeds_at_default": min(config.set_seeds, config.adaptive_seeds) if config.set_attacker else 0,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": "python -m training.evaluate" + (" --quick" if config.quick else "")
        + ("" if config.set_attacker else " --no-set") + ("" if config.adaptive else " --no-adaptive") + ("" if config.adaptive_at_every_strength else " --adaptive-default-only")
        + (f" --adaptive-seeds {config.adaptive_seeds}" if config.adaptive_seeds != ADAPTIVE_SEEDS else "")
        + (f" --set-seeds {config.set_seeds}" if config.set_seeds != ADAPTIVE_SEEDS else "")
        + "".join(f" --candidate {c}" for c in config.candidates) + (" --only " + " ".join(map(repr, config.only)) if config.only else ""),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_FRAMES} frames from the middle of each walk, fewer detector frames "
                        "(the manifest records the mode)")
    parser.add_argument("--data", type=Path, default=None, help="data folder holding casiab64/ and clips/ (default: ../shared/data)")
    parser.add_argument("--subjects", nargs="+", default=None,
                        help="evaluated subjects, ids or ranges such as 085-100 (default: the test group)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "reports", help="report folder (default: reports/)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="trained attackers and cached embeddings")
    parser.add_argument("--models", type=Path, default=REPO_ROOT / "models", help="models folder with manifest.json")
    parser.add_argument("--candidate", type=Path, action="append", default=[],
                        help="another models folder to evaluate beside the shipped one (its figures go into its own manifest)")
    parser.add_argument("--only", nargs="+", default=(),
                        help="evaluate only the anonymizers whose name contains one of these texts (and the originals)")
    parser.add_argument("--no-video", action="store_true", help="skip the colour clips through the full engine")
    parser.add_argument("--no-manifest", action="store_true", help="do not write the figures into the manifest")
    parser.add_argument("--no-set", action="store_true", help="leave out the set-based recogniser (it trains for up to an hour)")
    parser.add_argument("--adaptive-seeds", type=int, default=ADAPTIVE_SEEDS,
                        help=f"independent adaptive attackers at the default strength (default {ADAPTIVE_SEEDS})")
    parser.add_argument("--set-seeds", type=int, default=ADAPTIVE_SEEDS,
                        help="how many of those seeds also get an adaptive set-based recogniser (each seed's "
                        "distortion-trained start costs most of an hour)")
    parser.add_argument("--no-adaptive", action="store_true",
                        help="no adaptive attackers (a preview: the published figures need them)")
    parser.add_argument("--adaptive-default-only", action="store_true",
                        help="retrain adaptive attackers at each models folder's default strength only (each costs "
                        "most of an hour on two cores); the others are then reported without adaptive figures")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw, so that the figures reproduce")
    args = parser.parse_args(argv)
    config = EvaluationConfig(
        subjects=parse_subjects(args.subjects) if args.subjects else subjects("test"),
        data_dir=args.data,
        quick=args.quick,
        out_dir=args.out,
        cache=args.cache,
        models_dir=args.models,
        candidates=tuple(args.candidate),
        write_manifest=not args.no_manifest,
        video=not args.no_video,
        seed=args.seed,
        adaptive_seeds=args.adaptive_seeds,
        set_seeds=args.set_seeds,
        set_attacker=not args.no_set,
        adaptive=not args.no_adaptive,
        only=tuple(args.only),
        adaptive_at_every_strength=not args.adaptive_default_only,
    )
    try:
        run_evaluation(config)
    except GaitanonError as error:
        print(f"error: {error}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
