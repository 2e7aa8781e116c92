"""The shipped ONNX models: the typed manifest (`manifest.py`), the anonymizer (`anonymizer.py`), the
attacker's per-clip privacy check (`attacker.py`)."""

from .anonymizer import DEVICES, ClipAnonymizer, ModelBank
from .manifest import MeasuredFigures, ModelEntry, manifest_entries, read_manifest

__all__ = [
    "DEVICES", "ClipAnonymizer", "MeasuredFigures", "ModelBank", "ModelEntry", "manifest_entries", "read_manifest",
]  # fmt: skip
