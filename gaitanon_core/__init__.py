"""gaitanon_core: the gait anonymizer's engine (no Qt, no torch).

A frame's route: file -> frames (`video`) -> silhouettes (`people`) -> contours
(`shape`) -> anonymized contours (`inference`) -> frames (`render`) -> file
(`video`), run top to bottom by `pipeline.route.anonymize_clip`; `batch` runs a
folder of clips, `options` holds the defaults, `cli` the command line.
docs/ARCHITECTURE.md describes each package.
"""

import os

__version__ = "0.1.0"

# onnxruntime-gpu carries a telemetry client that keeps a device id in $TMPDIR/.ses from
# the moment it is imported; only the engine imports it, and always after this package.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
