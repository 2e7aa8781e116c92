"""The 2017 baseline (Tieu et al., WIFS 2017): the same encoder-decoder, fed another training
person's contour sequence (the "noise gait") instead of generated noise.

An evaluation artefact only: it pastes a real person's gait into every output, so it is
exported to $GAITANON_CACHE/baseline/ (with its own manifest), never into models/, and the
product never runs it. Trained on the anonymiser group (noise gaits: other anonymiser
subjects, same view, frame by frame), at alpha 0.3 with the shipped models' L2 losses and
blend skip, so that it differs from them only in its noise: with the paper's L1 losses it
converged to a copy of its input (distance from input 9e-5 body heights on validation),
which would make it no baseline at all.

Usage: python -m training.baseline [--steps 1000]   (resumable; then exports and validates)
"""

from __future__ import annotations

import argparse

import torch

from gaitanon_core.shape.codec import LAYOUT, N_POINTS
from training.splits import subjects

from .common import cache_root
from .dataset import load_walks
from .export import configuration_record, export_anonymizer, training_record
from .manifest import set_top_level, update_entry
from .train_stgan import GROUP, NoiseSource, config_from_args, load_stgan, train
from .surrogate import load_surrogate
from .validation import surrogate_success, validate

NAME = "baseline2017"
ALPHA = 0.3


def export_baseline() -> None:
    """ONNX + manifest entry (with validation figures) in $GAITANON_CACHE/baseline/."""
    folder = cache_root() / "baseline"
    generator, state = load_stgan(NAME)
    config = state["config"]
    noise_source = NoiseSource(config, load_walks(GROUP))
    figures = validate(generator, config, noise_source, quick=False)
    file = folder / f"{NAME}.onnx"
    io = export_anonymizer(generator, ALPHA, torch.zeros(1, 2, N_POINTS, 2), file)
    set_top_level(models_dir=folder, layout=LAYOUT, n_points=N_POINTS)
    update_entry(NAME, models_dir=folder, role="baseline", file=file.name, alpha=ALPHA, **io,
                 n_points=N_POINTS, layout=LAYOUT,
                 noise={"kind": "sequence", "description": "another anonymiser subject's walk of the same view, frame by frame"},
                 configuration=configuration_record(config), training=training_record(state),
                 validation={"group": "validation", "subjects": list(subjects("validation")),
                             **figures["per_alpha"][f"{ALPHA:g}"],
                             **surrogate_success(generator, noise_source, ALPHA, load_surrogate(config["surrogate"]), None)})
    print(f"wrote {file}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train and export the 2017 baseline (evaluation only).")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--no-resume", action="store_true", help="start over instead of resuming")
    args = parser.parse_args(argv)
    config, resume = config_from_args(["--preset", "baseline", "--name", NAME, "--steps", str(args.steps),
                                       "--alphas", str(ALPHA)] + (["--no-resume"] if args.no_resume else []))
    train(config, resume)
    export_baseline()


if __name__ == "__main__":
    main()
