"""The shipped networks through ONNX Runtime: manifest, integrity check, device, windows.

`models/manifest.json` (read by `manifest.py`) lists a `noise_generator`
(z [B, Z] -> noise: one contour [B, N, 2], or one generated gait cycle
[B, P, N, 2] that the anonymizer aligns to the clip inside its graph) and one
`anonymizer` per alpha (contours [B, T, N, 2] + noise -> anonymized [B, T, N, 2]).
Every file's sha256 is checked before ONNX Runtime opens it, so a swapped or
damaged model is refused rather than run.

A clip gets ONE latent z (from the operating system's entropy unless a seed is
given for tests), ONE run of the noise generator, and the anonymizer over its
whole contour sequence in overlapping windows blended linearly across the
overlap, so a long clip needs bounded memory and shows no seam. An output
outline that crosses itself is pulled part of the way back toward the input
until it does not (`shape.codec.unfolded`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import onnxruntime as ort

from ..shape.codec import unfolded
from ..errors import GaitanonError, UsageError
from ..paths import models_dir as default_models_dir
from .manifest import ModelEntry, manifest_entries, read_manifest, verify_file

DEVICES = ("auto", "cpu", "cuda")
WINDOW = 64  # frames per anonymizer run (a long clip is cut into these)
OVERLAP = 16  # frames shared by consecutive windows, cross-faded
OUTPUT_VERSION = 3  # bump when the same model files give other outputs (2: folds pulled back, 3: warp + faces)
NOISE_KINDS = ("static", "walking_cycle")  # what the product runs; a per-frame sequence is the 2017 baseline's
_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"
_ORT_DEFAULT_SEVERITY = 2  # warnings and above, ONNX Runtime's default

Payload = TypeVar("Payload")


def check_device(device: str) -> None:
    if device not in DEVICES:
        raise UsageError(f"unknown device '{device}'; choose one of: {', '.join(DEVICES)}")


def session_options() -> ort.SessionOptions:
    """Every session's options: its threads sleep between runs instead of spinning. The route runs a network,
    then works on in numpy and OpenCV; spinning, ONNX Runtime's idle thread took a core from that work (the
    640x480 walker of README "Speed": 34-35 CPU-s and 20 s a run with spinning, 28-29 CPU-s and 17.5 s
    without; a person-detector run itself takes 1 ms longer)."""
    options = ort.SessionOptions()
    options.log_severity_level = 3  # ONNX Runtime's notes on the graph (unused initializers) are not the user's
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def open_session(path: Path, device: str) -> ort.InferenceSession:
    """CPU, or CUDA when asked for (auto/cuda) and ONNX Runtime can really run on it.

    onnxruntime-gpu lists CUDA as available even without a GPU, then logs an error
    line while falling back to CPU: we silence that line and read what runs from
    `session.get_providers()` instead.
    """
    options = session_options()
    if device == "cpu" or _CUDA not in ort.get_available_providers():
        return ort.InferenceSession(str(path), options, providers=[_CPU])
    ort.set_default_logger_severity(4)
    try:
        return ort.InferenceSession(str(path), options, providers=[_CUDA, _CPU])
    finally:
        ort.set_default_logger_severity(_ORT_DEFAULT_SEVERITY)


def _io_names(entry: dict[str, Any], key: str, declared: list[Any]) -> list[str]:
    """The manifest's I/O names (a list of names or of {"name": ...}), else the graph's order."""
    listed = entry.get(key)
    if isinstance(listed, dict):
        return list(listed)
    if isinstance(listed, list) and listed:
        return [item["name"] if isinstance(item, dict) else str(item) for item in listed]
    return [node.name for node in declared]


class _Network:
    """One verified ONNX model with its input and output names."""

    def __init__(self, model: ModelEntry, device: str) -> None:
        verify_file(model)
        self.model = model
        self.session = open_session(model.path, device)
        self.inputs = _io_names(model.entry, "inputs", self.session.get_inputs())
        self.output = _io_names(model.entry, "outputs", self.session.get_outputs())[0]

    @property
    def provider(self) -> str:
        return self.session.get_providers()[0]

    def run(self, *arrays: np.ndarray) -> np.ndarray:
        feeds = {name: np.ascontiguousarray(a, dtype=np.float32) for name, a in zip(self.inputs, arrays)}
        return self.session.run([self.output], feeds)[0]


class ModelBank:
    """The manifest's networks, verified and opened on the chosen device."""

    def __init__(self, models_dir: Path | str | None = None, device: str = "auto") -> None:
        check_device(device)
        try:
            self.folder = Path(models_dir) if models_dir is not None else default_models_dir()
        except FileNotFoundError as error:  # no models/ folder at all: an incomplete installation
            raise GaitanonError(str(error)) from None
        self.manifest = read_manifest(self.folder)
        self.entries = manifest_entries(self.folder, self.manifest)
        self.layout: str | None = self.manifest.get("layout")
        self.n_points = int(self.manifest.get("n_points", 0))
        anonymizers = sorted((m for m in self.entries if m.role == "anonymizer" and m.alpha is not None),
                             key=lambda m: m.alpha)
        noise = {m.name: m for m in self.entries if m.role == "noise_generator"}
        if not anonymizers or not noise:
            raise GaitanonError(f"the model manifest in {self.folder} lacks an anonymizer or the noise generator")
        self._anonymizers = {m.alpha: m for m in anonymizers}
        self.strengths: list[float] = [m.alpha for m in anonymizers]
        self.device = device
        self._noise_entries = noise
        self._noise: dict[str, _Network] = {}
        self._opened: dict[float, _Network] = {}
        self.provider = self._noise_network(anonymizers[0]).provider
        if device == "cuda" and self.provider != _CUDA:
            raise UsageError("--device cuda was asked for, but no usable CUDA GPU was found; use --device auto or cpu")
        self.device_note = (
            "no usable CUDA GPU found; running on the CPU" if device == "auto" and self.provider != _CUDA else None
        )

    def check_strength(self, alpha: float) -> float:
        """The shipped alpha equal to `alpha`, else a UsageError listing the shipped ones."""
        for shipped in self.strengths:
            if abs(shipped - alpha) < 1e-6:
                return shipped
        listed = ", ".join(f"{a:g}" for a in self.strengths)
        raise UsageError(f"strength {alpha:g} is not one of the shipped strengths: {listed}")

    def anonymizer_entry(self, alpha: float) -> ModelEntry:
        return self._anonymizers[self.check_strength(alpha)]

    def _anonymizer(self, alpha: float) -> _Network:
        alpha = self.check_strength(alpha)
        if alpha not in self._opened:
            self._opened[alpha] = _Network(self._anonymizers[alpha], self.device)
        return self._opened[alpha]

    def _noise_network(self, anonymizer: ModelEntry) -> _Network:
        """The noise generator this anonymizer was trained with (the manifest names it), opened once."""
        name = anonymizer.entry.get("noise_generator", next(iter(self._noise_entries)))
        if name not in self._noise_entries:
            raise GaitanonError(f"the model manifest names a noise generator '{name}' that it does not list")
        if anonymizer.entry.get("noise", {}).get("kind", "static") not in NOISE_KINDS:
            raise GaitanonError(f"{anonymizer.name} needs a per-frame noise sequence, which gaitanon never runs")
        if name not in self._noise:
            self._noise[name] = _Network(self._noise_entries[name], self.device)
        return self._noise[name]

    def start_clip(self, alpha: float, rng: np.random.Generator | None = None) -> ClipAnonymizer:
        """One clip's anonymizer: a fresh latent z (OS entropy unless `rng`), the noise drawn once."""
        network = self._anonymizer(alpha)
        noise_network = self._noise_network(network.model)
        rng = rng if rng is not None else np.random.default_rng()
        z_dim = noise_network.session.get_inputs()[0].shape[-1]
        z = rng.standard_normal((1, int(z_dim))).astype(np.float32)
        noise = noise_network.run(z)
        del z  # never kept: the latent is what would let someone redo the draw
        return ClipAnonymizer(network, noise)

    def anonymize(self, contours: np.ndarray, alpha: float, rng: np.random.Generator | None = None) -> np.ndarray:
        """Anonymize a whole (T, N, 2) canonical contour sequence."""
        clip = self.start_clip(alpha, rng)
        return np.stack([out for _, out in clip.stream((None, c) for c in contours)])


class ClipAnonymizer:
    """The anonymizer over one clip's contour stream, in overlapping cross-faded windows."""

    def __init__(self, network: _Network, noise: np.ndarray) -> None:
        self.network = network
        # [1, N, 2] one contour, or [1, P, N, 2] one gait cycle: every window gets it whole and unchanged
        # (the anonymizer aligns a cycle to the window's poses inside its graph).
        self.noise = noise

    def stream(self, items: Iterable[tuple[Payload, np.ndarray | None]],
               window: int = WINDOW, overlap: int = OVERLAP) -> Iterator[tuple[Payload, np.ndarray | None]]:
        """(payload, contour) in, (payload, anonymized contour) out, in order, holding at most ~`window` contours.

        A None contour (a frame with nobody to anonymize) passes through as None
        and does not count toward a window.
        """
        if not 0 <= overlap < window:
            raise ValueError(f"the overlap ({overlap}) must be shorter than the window ({window})")
        pending: list[_Slot] = []
        for payload, contour in items:
            pending.append(_Slot(payload, contour))
            contours = [slot for slot in pending if slot.contour is not None]
            if len(contours) == window:
                self._fill(contours)
                keep_from = pending.index(contours[window - overlap])
                yield from (slot.finished() for slot in pending[:keep_from])
                pending = pending[keep_from:]
        contours = [slot for slot in pending if slot.contour is not None]
        if any(slot.result is None for slot in contours):
            self._fill(contours)
        yield from (slot.finished() for slot in pending)

    def _fill(self, slots: list[_Slot]) -> None:
        """Run one window; cross-fade into the results the previous window left for its first slots."""
        out = self.network.run(np.stack([s.contour for s in slots])[None], self.noise)[0]
        previous = [s.result for s in slots if s.result is not None]
        for slot, value in zip(slots, _cross_fade(np.array(previous), out)):
            slot.result = value


@dataclass(eq=False)  # slots are found by identity, never compared by value
class _Slot:
    payload: Any
    contour: np.ndarray | None
    result: np.ndarray | None = None

    def finished(self) -> tuple[Any, np.ndarray | None]:
        """(payload, final outline): once its windows are blended, any fold is pulled back."""
        if self.contour is None or self.result is None:
            return self.payload, self.result
        return self.payload, unfolded(self.contour, self.result)


def _cross_fade(previous: np.ndarray | None, current: np.ndarray) -> np.ndarray:
    """Blend the previous window's outputs into the start of the current one, linearly."""
    if previous is None or len(previous) == 0:
        return current
    k = len(previous)
    ramp = (np.arange(1, k + 1, dtype=np.float32) / (k + 1))[:, None, None]
    blended = current.copy()
    blended[:k] = (1.0 - ramp) * previous + ramp * current[:k]
    return blended
