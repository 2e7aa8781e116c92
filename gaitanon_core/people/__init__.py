"""Frames -> people: the clip's background model, the learned person mask, the segmenter that fuses them."""

from .silhouettes import ClipSegmenter, FrameMask, segment_clip

__all__ = ["ClipSegmenter", "FrameMask", "segment_clip"]
