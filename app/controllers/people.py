"""The People panel's behaviour: find the open clip's people in the background, keep the user's choice for each.

Everyone is anonymized unless the user explicitly keeps a person (the reporter,
say), one by one, after a confirmation that the person stays recognisable, or
covers a person whole (a flat grey shape: safer than anonymizing, so no question
is asked). The numbers are the engine's track numbers for the whole clip, the
same ones the review's anonymization gives, so `keep_tracks` and `cover_tracks`
go into its options as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import QMessageBox

from gaitanon_core.pipeline import PersonTrack, Progress
from gaitanon_core.shape.tracking import MaskCrop

from ..errors import plain_sentence
from ..views.images import Outline, rgb_to_qimage, track_colour
from ..views.people_view import ANONYMIZE, COVER, KEEP, PeopleView, PersonRowView
from ..workers import Worker
from . import jobs

SEARCHING = "Finding the people in this clip… Until you choose otherwise, everyone is anonymized."
FOUND = "{count} found. Everyone is anonymized unless you choose to keep a person unchanged or cover them whole."
NOBODY = "Nobody was found in this clip. Anything that moves is still covered."
CANCELLED = "Search cancelled: everyone will be anonymized. Press Find people to choose someone to keep."
FAILED = "Could not list the people ({reason}): everyone will be anonymized."


def seen_text(track: PersonTrack, times: np.ndarray) -> str:
    """Where a person is in the clip, as the timeline counts frames (from 1)."""
    return (f"Frames {track.first + 1}–{track.last + 1} ({times[track.first]:.1f}–{times[track.last]:.1f} s), "
            f"seen in {track.seen()}")


def people_count(count: int) -> str:
    return "1 person" if count == 1 else f"{count} people"


class PeopleController(QObject):
    """Runs the search, fills the panel, confirms a Keep, and answers who is kept or covered and where everyone is."""

    changed = Signal()  # the list of people or a choice changed

    def __init__(self, view: PeopleView, jump_to: Callable[[int], None]) -> None:
        super().__init__(view)
        self.view = view
        self.jump_to = jump_to
        self.worker: Worker | None = None
        self.clip: jobs.OpenedClip | None = None
        self._masks: dict[int, dict[int, MaskCrop]] = {}  # person -> frame index -> their mask there
        view.cancel_button.clicked.connect(self.cancel)
        view.find_button.clicked.connect(self.find_again)
        view.show_searching(False)
        view.find_button.setEnabled(False)

    # --- the search ---------------------------------------------------------------------
    def find(self, clip: jobs.OpenedClip) -> None:
        """Start listing `clip`'s people; any earlier search and its choices are dropped."""
        self.stop()
        self.clip = clip
        self._show_tracks({})
        self.view.status.setText(SEARCHING)
        self.view.progress.setRange(0, 0)
        self.view.show_searching(True)
        worker = Worker(jobs.find_people, clip.info.path)
        worker.signals.progress.connect(self._on_progress)
        worker.signals.returned.connect(self._on_found)
        worker.signals.errored.connect(self._on_failed)
        worker.signals.aborted.connect(self._on_cancelled)
        self.worker = worker
        worker.start()

    def find_again(self) -> None:
        if self.clip is not None:
            self.find(self.clip)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def stop(self) -> None:
        """Forget the running search without waiting: it stops at its next frame, and what it sends is ignored."""
        self.cancel()
        self.worker = None

    def _from_current(self) -> bool:
        """Whether the signal being handled comes from the search now running (not one stopped earlier)."""
        return self.worker is not None and self.sender() is self.worker.signals

    def _on_progress(self, progress: Progress) -> None:
        if self._from_current():
            self.view.progress.setRange(0, max(progress.total, 1))
            self.view.progress.setValue(progress.done)
            self.view.progress.setFormat("%v / %m frames")

    def _on_found(self, tracks: dict[int, PersonTrack]) -> None:
        if self._from_current():
            self._end_search(FOUND.format(count=people_count(len(tracks))) if tracks else NOBODY)
            self._show_tracks(tracks)

    def _on_failed(self, error: Exception) -> None:
        if self._from_current():
            self._end_search(FAILED.format(reason=plain_sentence(error).rstrip(".")))

    def _on_cancelled(self) -> None:
        if self._from_current():
            self._end_search(CANCELLED)

    def _end_search(self, status: str) -> None:
        self.worker = None
        self.view.status.setText(status)
        self.view.show_searching(False)

    # --- the rows and the choices ---------------------------------------------------------
    def _show_tracks(self, tracks: dict[int, PersonTrack]) -> None:
        self.view.clear_rows()
        self._masks = {number: {shape.index: shape.person for shape in track.shapes if not shape.person.empty}
                       for number, track in tracks.items()}
        for number, track in tracks.items():
            self.view.add_row(self._row(number, track))
        self.changed.emit()

    def _row(self, number: int, track: PersonTrack) -> PersonRowView:
        thumbnail = rgb_to_qimage(track.thumbnail) if track.thumbnail is not None else None
        row = PersonRowView(number, track_colour(number), thumbnail, seen_text(track, self.clip.times))
        row.choice.currentIndexChanged.connect(partial(self._on_choice, row))
        row.go_to.clicked.connect(partial(self.jump_to, track.first))
        return row

    def _on_choice(self, row: PersonRowView, choice: int) -> None:
        if choice == KEEP and not self._confirm_keep(row.number):
            with QSignalBlocker(row.choice):
                row.choice.setCurrentIndex(ANONYMIZE)
            return
        self.changed.emit()

    def _confirm_keep(self, number: int) -> bool:
        """Keeping a person is the one choice that leaves someone recognisable: it needs an explicit yes."""
        answer = QMessageBox.question(
            self.view.window(), f"Keep person {number} unchanged?",
            f"Person {number} will be left as filmed: their body shape, their walk and their face stay "
            "recognisable in the export. Only where they cross another person are they anonymized "
            "(the tracker may mix people up there).\n\nKeep person "
            f"{number} unchanged?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _chosen(self, choice: int) -> frozenset[int]:
        return frozenset(row.number for row in self.view.rows if row.choice.currentIndex() == choice)

    def keep_tracks(self) -> frozenset[int]:
        """The people the user chose to leave unchanged (none by default)."""
        return self._chosen(KEEP)

    def cover_tracks(self) -> frozenset[int]:
        """The people the user chose to cover whole with a grey shape (none by default)."""
        return self._chosen(COVER)

    def set_locked(self, locked: bool) -> None:
        """No change of choice while the review copy renders (it uses the choices it started with)."""
        for row in self.view.rows:
            row.choice.setEnabled(not locked)

    def outlines(self, index: int) -> list[Outline]:
        """Each listed person's mask on frame `index`, for the numbered outlines over the preview."""
        return [Outline(number, person.top, person.left, person.mask)
                for number, masks in self._masks.items() if (person := masks.get(index)) is not None]
