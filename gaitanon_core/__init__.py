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
# numpy's OpenBLAS threads wait spinning after each call: the engine's systems are small (a warp's 64 points),
# and with the colouring on a thread of its own (pipeline/threads.py) the spinning cost 14 CPU-ms a frame.
# Read when numpy is first imported: the command line and the app import this package first.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# OpenCV's worker threads spin between its calls too (2000 iterations, its main thread 10000), and the engine's
# calls are many and small (a neighbour warped at the segmenter's working size: 0.13 ms); sleeping, handheld
# CASIA-B 002 at 448x336 took about 8 % less CPU, the static walkers no more wall time (README "Speed"). Read
# when OpenCV is loaded: the command line and the app import this package first.
os.environ.setdefault("OPENCV_THREAD_POOL_ACTIVE_WAIT_WORKER", "0")
os.environ.setdefault("OPENCV_THREAD_POOL_ACTIVE_WAIT_MAIN", "0")
