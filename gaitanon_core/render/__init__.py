"""Contours back to pictures: the composer (`colouring.py`), the texture warp along the outline pairs
(`warp.py`), the hidden head (`faces.py`), the cast shadow (`shadow.py`) and the segmenter's overlay (`overlay.py`)."""

from .colouring import colour_frame
from .faces import FACE_MODES
from .warp import OutlinePair

__all__ = ["FACE_MODES", "OutlinePair", "colour_frame"]
