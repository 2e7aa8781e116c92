"""gaitanon_core: the gait anonymizer's engine (no Qt, no torch).

A frame's route: file -> frames -> silhouettes -> contours -> anonymized
contours -> frames -> file. Each stage lives in a module named for it.
"""

import os

__version__ = "0.1.0"

# onnxruntime-gpu carries a telemetry client that keeps a device id in $TMPDIR/.ses from
# the moment it is imported; only the engine imports it, and always after this package.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
