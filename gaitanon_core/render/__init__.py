"""Contours back to pictures: the four-region colouring (`colouring.py`) and the segmenter's overlay (`overlay.py`)."""

from .colouring import colour_frame

__all__ = ["colour_frame"]
