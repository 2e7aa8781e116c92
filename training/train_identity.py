"""Fit, measure and export the identity-replacement models of training.identity.

    python -m training.train_identity fit --name identity_v4 --components 24 --phases 24 --seed 5
    python -m training.train_identity measure --name identity_v4 --views 036 090 144
    python -m training.train_identity export --name identity_v4

(the defaults are identity_v4's: sharpness 30, phase smoothing 0.5, loop cut 32 edges x 3 rounds, pose gain,
stops 0.5 0.7 0.85 1.0; identity_v2 was --sharpness 12 --phase-smoothing 1 --loop-cut 0 --no-pose-gain)

fit: the joint PCA of the noise group's (051-060) subject-level samples (one walk session's gait cycles
at all 11 views, plus its mirror) and the pose gain that gives its generated people the real ones'
pose deviation (training.identity module doc), kept as a checkpoint in $GAITANON_CACHE/ckpt/<name>/
(re-running with the same configuration reuses it; --no-resume refits). There is nothing to train by gradient: the
anonymizer has no learned weights (see training.identity).
measure: the validation figures of training.identity_validation (validation subjects 077-084 only),
printed and written to the checkpoint folder as validation.json.
export: a complete candidate models folder at $GAITANON_CACHE/candidates/<name>/ (never models/):
the identity generator, one anonymizer per strength stop, the shipped attacker copied, manifest.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gaitanon_core.shape.codec import LAYOUT, N_POINTS
from gaitanon_core.paths import models_dir
from training.splits import VIEWS, subjects

from .common import TrainingRun, cache_root, pin_threads_and_seed
from .dataset import Walk, extract_cycles, load_walks, mirror
from .identity import IdentityGenerator, IdentitySwap, build_anonymizer, build_generator, load_identity

GROUP = "noise"
ANONYMISER_GROUP = "anonymiser"
DEFAULT_WEIGHTS = (0.5, 0.7, 0.85, 1.0)
MAX_ONNX_MB = 15.0


def session_samples(walks: list[Walk], phases: int, rng: np.random.Generator) -> np.ndarray:
    """Subject-level samples (M, V, P, N, 2): per walk session (subject, condition) seen at every view,
    as many samples as its best-covered view has cycles, each view's cycle drawn at random among that
    view's; then every sample's mirror (view v's block is the mirror of view 180 - v's)."""
    sessions: dict[tuple[str, str], dict[str, np.ndarray]] = {}
    for walk in walks:
        cycles = extract_cycles(walk.contours, phases)
        if len(cycles):
            sessions.setdefault((walk.subject, walk.condition), {})[walk.view] = cycles
    samples = []
    for key in sorted(sessions):
        by_view = sessions[key]
        if any(view not in by_view for view in VIEWS):
            continue
        for _ in range(max(len(c) for c in by_view.values())):
            samples.append(np.stack([by_view[v][rng.integers(len(by_view[v]))] for v in VIEWS]))
    plain = align_phases(np.array(samples, dtype=np.float32))
    mirrored = mirror(plain[:, ::-1])  # block i of the mirror = mirror of block V-1-i (VIEWS symmetric about 90)
    return np.concatenate([plain, mirrored])


def align_phases(samples: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Circularly shift each sample's cycle, per view, to the phase of that view's mean cycle.

    Cycles start at the widest stride, which is one frame or a half cycle off from sample to sample; unaligned,
    their mean is a blur of several phases (its leg motion is 40% of a real cycle's) and the components spend
    themselves on phase instead of on the body."""
    out = samples.copy()
    phases = samples.shape[2]
    for _ in range(rounds):
        reference = out.mean(0)  # (V, P, N, 2)
        for v in range(samples.shape[1]):
            ref = reference[v] - reference[v].mean(0)
            for i in range(len(samples)):
                pose = out[i, v] - out[i, v].mean(0)
                costs = [np.mean((np.roll(pose, s, axis=0) - ref) ** 2) for s in range(phases)]
                out[i, v] = np.roll(out[i, v], int(np.argmin(costs)), axis=0)
    return out


def fit(config: dict[str, Any], resume: bool = True) -> IdentityGenerator:
    pin_threads_and_seed(config["seed"])
    run = TrainingRun(config["name"], config, resume)
    generator = build_generator(config)
    modules = {"generator": generator}
    run.restore(modules)
    if run.step >= 1:
        return generator.eval()
    rng = np.random.default_rng(config["seed"])
    samples = session_samples(load_walks(GROUP), config["phases"], rng)
    generator = build_generator(config, samples)
    modules = {"generator": generator}
    run.step = 1
    run.save(modules, {"samples": len(samples)})
    run.log({"samples": len(samples), "explained_std_first": float(generator.scale[0]),
             "explained_std_last": float(generator.scale[-1]), "pose_gain": float(generator.pose_gain)})
    return generator.eval()


# --- export: a complete candidate models folder ------------------------------------------------------------


def export_candidate(name: str, weights: list[float], folder: Path | None = None,
                     figures: dict[str, Any] | None = None) -> Path:
    """Write the candidate folder: identity generator + one anonymizer per weight + the shipped attacker."""
    from .export import OPSET, PARITY_SHAPES, _export, export_noise_generator
    from .manifest import set_top_level, update_entry

    generator, state = load_identity(name)
    config = state["config"]
    folder = folder or cache_root() / "candidates" / name
    if folder.resolve() == models_dir().resolve():
        raise SystemExit("candidates never go into models/")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    shipped = json.loads((models_dir() / "manifest.json").read_text())
    kept = [e for e in shipped["models"] if e["role"] == "attacker"]
    for entry in kept:
        shutil.copyfile(models_dir() / entry["file"], folder / entry["file"])
    (folder / "manifest.json").write_text(json.dumps({"format": shipped.get("format", 1), "models": kept}, indent=2))
    set_top_level(models_dir=folder, layout=LAYOUT, n_points=N_POINTS)

    noise_file = folder / "noise_generator.onnx"
    io = export_noise_generator(generator, noise_file)
    frames = generator.views * generator.phases
    io["outputs"] = [{"name": "noise", "shape": ["B", frames, N_POINTS, 2]}]
    size_mb = noise_file.stat().st_size / 1e6
    if size_mb > MAX_ONNX_MB:
        raise SystemExit(f"{noise_file.name} is {size_mb:.1f} MB, over {MAX_ONNX_MB} MB: fit fewer components")
    noise_block = noise_description(generator)
    training = {"group": config["group"], "subjects": config["subjects"], "seed": config["seed"],
                "steps": state["step"], "wall_time_s": round(state["wall_time_s"], 1),
                "command": fit_command(config), "method": "joint PCA over subject-level samples (no gradient training)"}
    update_entry("noise_generator", models_dir=folder, role="noise_generator", file=noise_file.name, **io,
                 n_points=N_POINTS, layout=LAYOUT, noise=noise_block, training=training,
                 configuration={**{k: config[k] for k in ("components", "phases", "z_dim", "temperature")},
                                "pose_gain": round(float(generator.pose_gain), 4)})
    example = generator(torch.randn(1, generator.z_dim, generator=torch.Generator().manual_seed(config["seed"]))).detach()
    for weight in weights:
        file = folder / f"anonymizer_w{weight:g}.onnx"
        anonymizer = build_anonymizer(config, weight)
        io = export_identity_anonymizer(anonymizer, example, file, _export, loop_cut_parity, PARITY_SHAPES, OPSET)
        entry: dict[str, Any] = {
            "role": "anonymizer", "file": file.name, "alpha": weight, **io, "n_points": N_POINTS, "layout": LAYOUT,
            "noise_generator": "noise_generator", "noise": noise_block,
            "configuration": {"kind": "identity_swap", "blend_weight": weight, "sharpness": config["sharpness"],
                              "smooth_sigma_points": config["smooth_sigma"],
                              "jitter_keep": config.get("jitter_keep", 1.0),
                              "loop_cut_edges": config.get("loop_cut", 0), "loop_cut_rounds": config.get("loop_rounds", 2),
                              "phase_smoothing": config.get("phase_smoothing", 1.0),
                              "description": "alpha is the share of the way to the aligned generated walker"},
            "training": {**training, "note": "no learned weights; the strength stop is the blend weight"},
        }
        if figures and f"{weight:g}" in figures.get("per_weight", {}):
            entry["validation"] = {"group": "validation", "subjects": list(subjects("validation")),
                                   "views": figures.get("views"), **figures["per_weight"][f"{weight:g}"]}
        update_entry(f"identity_w{weight:g}", models_dir=folder, **entry)
        print(f"wrote {file}", flush=True)
    return folder


def ship_candidate(name: str, weights: list[float], default: float, folder: Path | None = None) -> Path:
    """Replace the shipped anonymizers and noise generator in models/ with an exported candidate's stops
    (`weights`), marking `default` as the manifest's default strength. The attacker entry is kept; the
    candidate's files are copied unchanged, so the sha256 the candidate was checked with is the shipped one."""
    from .manifest import load_manifest, save_manifest

    source = folder or cache_root() / "candidates" / name
    if not (source / "manifest.json").exists():
        raise SystemExit(f"no exported candidate at {source}: run `python -m training.train_identity export --name {name}` first")
    if not any(abs(default - w) < 1e-9 for w in weights):
        raise SystemExit(f"the default strength {default:g} must be one of the shipped stops {weights}")
    candidate = load_manifest(source)
    stops = [e for e in candidate["models"] if e["role"] == "anonymizer" and any(abs(e["alpha"] - w) < 1e-9 for w in weights)]
    if len(stops) != len(weights):
        raise SystemExit(f"{source} has stops {[e['alpha'] for e in candidate['models'] if e['role'] == 'anonymizer']}, not all of {weights}")
    noise = next(e for e in candidate["models"] if e["role"] == "noise_generator")
    target = models_dir()
    shipped = load_manifest(target)
    replaced = [e for e in shipped["models"] if e["role"] in ("anonymizer", "noise_generator") or e.get("adapted_to")]
    for entry in replaced:  # the models and the attackers adapted to them
        if (target / entry["file"]).exists():
            (target / entry["file"]).unlink()
    kept = [e for e in shipped["models"] if e not in replaced]
    for entry in [noise, *stops]:
        shutil.copyfile(source / entry["file"], target / entry["file"])
        entry.pop("evaluation", None)  # figures are measured on the shipped folder by training.evaluate
        entry.pop("default", None)
    for entry in stops:
        if abs(entry["alpha"] - default) < 1e-9:
            entry["default"] = True
    shipped.update({k: v for k, v in candidate.items() if k != "models"})
    shipped["models"] = kept + [noise, *stops]
    save_manifest(shipped, target)
    return target


def export_identity_anonymizer(anonymizer: IdentitySwap, noise_example: torch.Tensor, path: Path,
                               export_fn: Any, parity_fn: Any, shapes: tuple, opset: int) -> dict[str, Any]:
    """ONNX of one anonymizer (dynamic B and T; the noise's frame count is fixed by the generator)."""
    n = noise_example.shape[-2]
    batch, time_dim = torch.export.Dim("B", min=1, max=4096), torch.export.Dim("T", min=1, max=100000)

    draws = torch.Generator().manual_seed(0)  # reproducible exports (the check itself: loop_cut_parity)

    def inputs(b: int, t: int) -> dict[str, torch.Tensor]:
        contours = noise_example[0, torch.arange(t) % noise_example.shape[1]].expand(b, -1, -1, -1)
        contours = contours + 0.01 * torch.randn(b, t, n, 2, generator=draws)
        noise = noise_example.expand(b, *noise_example.shape[1:]).clone()
        return {"contours": contours.contiguous(), "noise": noise}

    example = inputs(2, 5)
    export_fn(anonymizer, (example["contours"], example["noise"]), path, ["contours", "noise"], ["anonymized"],
              {"contours": {0: batch, 1: time_dim}, "noise": {0: batch}})
    for b, t in shapes:
        parity_fn(anonymizer, path, inputs(b, t))
    return {"opset": opset,
            "inputs": [{"name": "contours", "shape": ["B", "T", n, 2]},
                       {"name": "noise", "shape": ["B", int(noise_example.shape[1]), n, 2]}],
            "outputs": [{"name": "anonymized", "shape": ["B", "T", n, 2]}]}


def loop_cut_parity(anonymizer: IdentitySwap, path: Path, feeds: dict[str, torch.Tensor]) -> float:
    """training.export's parity check, allowing for the loop cut's discrete decisions.

    On the parity inputs (0.6 px of random jitter on every point: thousands of loops per window) ONNX
    Runtime's last-bit differences upstream flip a near-degenerate crossing in about 1 of 10 draws, and
    that loop is cut in one output and not the other (up to 1e-2 at its points). Such a difference passes
    when it lies only on points a cut moved (in torch's output or in ONNX Runtime's, against torch's
    output without the cut) and on at most 0.1% of the points; everywhere else the strict tolerance holds.
    (On the 3072 validation frames identity_v4's ONNX outputs match torch to 7e-7.)"""
    import onnxruntime as ort

    from .export import PARITY_TOLERANCE, _check_parity

    try:
        return _check_parity(anonymizer, path, feeds)
    except RuntimeError:
        if anonymizer.loop_cut < 2:
            raise
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = torch.from_numpy(session.run(None, {k: v.numpy() for k, v in feeds.items()})[0])
    cut = anonymizer.loop_cut
    with torch.no_grad():
        expected = anonymizer(*feeds.values())
        anonymizer.loop_cut = 0
        try:
            uncut = anonymizer(*feeds.values())
        finally:
            anonymizer.loop_cut = cut
    moved = ((expected - uncut).abs().amax(-1) > 0) | ((got - uncut).abs().amax(-1) > PARITY_TOLERANCE)
    diff = (got - expected).abs().amax(-1)
    outside = float(diff[~moved].max()) if bool((~moved).any()) else 0.0
    share = float((diff >= PARITY_TOLERANCE).double().mean())
    if not outside < PARITY_TOLERANCE or share > 1e-3:
        raise RuntimeError(f"ONNX parity failed for {path.name}: {outside:.2e} off the cut points, "
                           f"{share:.2%} of points over {PARITY_TOLERANCE:g}")
    print(f"{path.name}: parity holds off the loop cut's points; a cut decision differs on {share:.3%} of points "
          f"(max {float(diff.max()):.1e})", flush=True)
    return float(diff.max())


def noise_description(generator: IdentityGenerator) -> dict[str, Any]:
    return {
        "kind": "walking_cycle",
        "frames": generator.views * generator.phases,
        "views": list(VIEWS),
        "phases_per_view": generator.phases,
        "phase_alignment": "in_graph",
        "description": (
            f"one generated person per clip: a gait cycle of {generator.phases} frames at each of the "
            f"{generator.views} CASIA-B views ({', '.join(VIEWS)} degrees), view-major; pass it to the anonymizer "
            "whole and unchanged for every window: the anonymizer picks the view (or its mirror) whose cycle "
            "fits the window best, then gives each clip frame that cycle's frames nearest in pose"
        ),
    }


def fit_command(config: dict[str, Any]) -> str:
    return (f"python -m training.train_identity fit --name {config['name']} --components {config['components']} "
            f"--phases {config['phases']} --temperature {config['temperature']:g} --sharpness {config['sharpness']:g} "
            f"--smooth-sigma {config['smooth_sigma']:g} --jitter-keep {config.get('jitter_keep', 1.0):g} "
            f"--loop-cut {config.get('loop_cut', 0)} --loop-rounds {config.get('loop_rounds', 2)} "
            f"--phase-smoothing {config.get('phase_smoothing', 1.0):g}"
            f"{'' if config.get('pose_gain', True) else ' --no-pose-gain'} --seed {config['seed']}")


# --- command line ---------------------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {"name": args.name, "kind": "identity_pca", "components": args.components, "phases": args.phases,
            "z_dim": args.z_dim, "temperature": args.temperature, "sharpness": args.sharpness,
            "smooth_sigma": args.smooth_sigma, "jitter_keep": args.jitter_keep, "loop_cut": args.loop_cut,
            "loop_rounds": args.loop_rounds, "phase_smoothing": args.phase_smoothing,
            "pose_gain": not args.no_pose_gain, "seed": args.seed, "group": GROUP, "subjects": list(subjects(GROUP))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Identity-replacement anonymizer: fit, measure, export.")
    parser.add_argument("command", choices=("fit", "measure", "export", "ship"),
                        help="ship: copy an exported candidate's --weights stops into models/ (--default marks one)")
    parser.add_argument("--name", default="identity_v1")
    parser.add_argument("--components", type=int, default=24, help="principal components (<= z-dim; ONNX size ~0.54 MB each)")
    parser.add_argument("--phases", type=int, default=24, help="frames per generated gait cycle, per view")
    parser.add_argument("--z-dim", type=int, default=32)
    parser.add_argument("--temperature", type=float, default=1.0, help="std of the generated coefficients, x real")
    parser.add_argument("--sharpness", type=float, default=30.0, help="phase pick sharpness (identity_v2: 12)")
    parser.add_argument("--smooth-sigma", type=float, default=0.0, help="displacement low-pass along the outline, points")
    parser.add_argument("--jitter-keep", type=float, default=1.0, help="share of the input's frame-to-frame jitter kept")
    parser.add_argument("--loop-cut", type=int, default=32, help="cut outline loops spanning up to this many edges (0: off)")
    parser.add_argument("--loop-rounds", type=int, default=3)
    parser.add_argument("--phase-smoothing", type=float, default=0.5, help="share of the 3-frame smoothing of the phase weights (identity_v2: 1)")
    parser.add_argument("--no-pose-gain", action="store_true", help="keep the PCA's damped pose deviation (identity_v2)")
    parser.add_argument("--seed", type=int, default=5, help="for reproducibility only")
    parser.add_argument("--weights", type=float, nargs="+", default=list(DEFAULT_WEIGHTS))
    parser.add_argument("--views", nargs="+", help="validation views measured (default: all 11)")
    parser.add_argument("--no-resume", action="store_true")
    parser.add_argument("--default", type=float, help="ship: the default strength (one of --weights)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    config = config_from_args(args)
    if args.command == "fit":
        started = time.monotonic()
        fit(config, not args.no_resume)
        print(f"fitted {config['name']} in {time.monotonic() - started:.1f} s")
        return
    if args.command == "ship":
        if args.default is None:
            raise SystemExit("ship needs --default (one of --weights)")
        print(ship_candidate(args.name, args.weights, args.default))
        return
    from .identity_validation import measure_identity

    folder = cache_root() / "ckpt" / args.name
    if args.command == "measure":
        figures = measure_identity(args.name, args.weights, tuple(args.views) if args.views else None)
        (folder / "validation.json").write_text(json.dumps(figures, indent=1))
        print(json.dumps(figures, indent=1))
        return
    stored = folder / "validation.json"
    figures = json.loads(stored.read_text()) if stored.exists() else None
    print(export_candidate(args.name, args.weights, figures=figures))


if __name__ == "__main__":
    main()
