"""One clip through the route (`route.py`), the people in it (`people.py`), what it flags and refuses
(`policy.py`), what it reports while it runs (`events.py`), and the GUI's review, export and preview
around it (`review.py`)."""

from .events import CancelCheck, FrameSink, PreviewFrame, Progress, ProgressCallback
from .people import PersonTrack
from .review import Review, export_review, preview_frame, preview_with, render_review, review_position
from .route import AnonymizeOptions, anonymize_clip, model_bank, people_in_clip

__all__ = [
    "AnonymizeOptions", "CancelCheck", "FrameSink", "PersonTrack", "PreviewFrame", "Progress", "ProgressCallback",
    "Review", "anonymize_clip", "export_review", "model_bank", "people_in_clip", "preview_frame", "preview_with",
    "render_review", "review_position",
]  # fmt: skip
