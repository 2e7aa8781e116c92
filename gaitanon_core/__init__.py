"""gaitanon_core: the gait anonymizer's engine (no Qt, no torch).

A frame's route: file -> frames -> silhouettes -> contours -> anonymized
contours -> frames -> file. Each stage lives in a module named for it.
"""

__version__ = "0.1.0"
