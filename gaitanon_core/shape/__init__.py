"""Silhouettes <-> contours: the codec (`codec.py`), the CASIA-B frame (`casiab.py`), and the
tracking over time that smooths transforms and stands in for partly visible bodies (`tracking.py`)."""

from .codec import LAYOUT, N_POINTS, CanonicalTransform, contour_to_mask, mask_to_contour

__all__ = ["LAYOUT", "N_POINTS", "CanonicalTransform", "contour_to_mask", "mask_to_contour"]
