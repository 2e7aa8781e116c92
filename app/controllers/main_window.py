"""The main window's behaviour: open, scrub, overlays, strength, anonymize, report, export, batch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gaitanon_core.options import VIDEO_SUFFIXES
from gaitanon_core.paths import demo_clip_path
from gaitanon_core.paths import models_dir as default_models_dir
from gaitanon_core.render.faces import DEFAULT_FACES, FACE_MODES

from ..errors import show_error
from ..frame_source import FrameServer, ShownFrame
from ..settings import Settings
from ..views.images import (
    ANONYMIZED_OUTLINE_COLOUR,
    ORIGINAL_OUTLINE_COLOUR,
    XOR_COLOUR,
    mask_overlay,
    numbered_outlines,
    rgb_to_qimage,
)
from ..views.main_window_view import MainWindowView
from ..workers import LatestOnly, Worker, cancel_all_and_wait
from . import jobs
from .about import build_about_dialog
from .covers import CoverBoxesController
from .export import ask_export_options, choices_text
from .people import PeopleController
from .report import ReportController
from .strength import StrengthController

VIDEO_FILTER = f"Videos ({' '.join('*' + suffix for suffix in sorted(VIDEO_SUFFIXES))});;All files (*)"
NOT_YET = "Not anonymized yet.\nChoose a strength and press Anonymize."
IN_PROGRESS = "Rendering the review copy…\nThe anonymized frames appear here when it is done."
FOLLOWING = "Rendering the review copy…\nFinished frames appear here as they are done."
RENDERED = ("Rendering the review copy, {stage}: {done} of {total} frames.\n"
            "The anonymized frames appear here when it is done.")
STALE_CHOICES = ("The review copy was made with other choices of whom to keep or cover, other cover boxes or "
                 "another way of hiding faces; press Anonymize to make it again with the choices now shown, then export.")
HIDDEN_FACE_MODES = tuple(mode for mode in FACE_MODES if mode != "keep")  # "keep" is the unchecked Hide faces
LIVE_FRAMES_PER_S = 10  # live preview while rendering: enough to watch, little drawing work taken from the render


def format_time(seconds: float) -> str:
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    return f"{int(minutes):02d}:{rest:06.3f}"


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating the time left…"
    if seconds < 60:
        return f"about {seconds:.0f} s left"
    return f"about {seconds / 60:.0f} min left"


class MainWindow(MainWindowView):
    def __init__(self, settings: Settings, models_dir: Path | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
        self.clip: jobs.OpenedClip | None = None
        self.review: jobs.ReviewSession | None = None
        self.current = 0
        self.job: Worker | None = None
        self.proxy_job: Worker | None = None          # fills the open clip's preview proxy
        self._overlays_wanted = False  # read by the decoding thread: fetch silhouettes too
        self._following_render = False  # the view shows the newest finished frame while rendering
        self.live_frames = LatestOnly(1.0 / LIVE_FRAMES_PER_S)
        self.live_frames.ready.connect(self._show_live_frame)
        self._on_job_done: Callable[[Any], None] | None = None
        self._last_shown: ShownFrame | None = None
        self.frame_server = FrameServer()
        self.frame_server.frame_ready.connect(self._on_frame_served)
        self.frame_server.failed.connect(self._on_preview_failed)
        self.strength_control = StrengthController(self.strength)
        self.strength_control.changed.connect(self._on_strength_changed)
        self.report_control = ReportController(self, lambda: self.review, self._jump_to,
                                                lambda: self.export(report_seen=True))
        self.people = PeopleController(self.people_view, self._jump_to)
        self.people.changed.connect(self._on_choices_changed)
        self.covers = CoverBoxesController(self.cover_boxes_view, self.frames.original, lambda: self.current)
        self.covers.changed.connect(self._on_choices_changed)
        self.face_mode.addItems(HIDDEN_FACE_MODES)
        self.face_mode.setCurrentText(DEFAULT_FACES)
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._play_tick)
        self._connect_widgets()
        self._add_shortcuts()
        self._restore_settings()
        self._load_models()
        self._refresh_controls()

    # --- wiring ---------------------------------------------------------------
    def _connect_widgets(self) -> None:
        self.open_action.triggered.connect(self.choose_clip)
        self.open_demo_action.triggered.connect(lambda: self.open_clip(demo_clip_path()))
        self.export_action.triggered.connect(self.export)
        self.batch_action.triggered.connect(self.open_batch)
        self.remember_recent_action.toggled.connect(self._on_remember_recent)
        self.clear_recent_action.triggered.connect(self._clear_recent)
        self.quit_action.triggered.connect(self.close)
        self.about_action.triggered.connect(lambda: build_about_dialog(self).exec())
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        timeline = self.timeline
        timeline.slider.valueChanged.connect(self._on_slider)
        timeline.play_button.clicked.connect(self.toggle_play)
        timeline.start_button.clicked.connect(lambda: self.go_to(0))
        timeline.end_button.clicked.connect(lambda: self.go_to(self._last_index()))
        timeline.step_back_button.clicked.connect(lambda: self.step(-1))
        timeline.step_forward_button.clicked.connect(lambda: self.step(1))
        for box in (self.overlay_original, self.overlay_anonymized, self.overlay_xor):
            box.toggled.connect(self._on_overlay_toggled)
        self.overlay_people.toggled.connect(self._redraw_overlays)
        self.fit_button.clicked.connect(self.frames.fit)
        self.hide_faces.toggled.connect(self._on_choices_changed)
        self.face_mode.currentTextChanged.connect(self._on_choices_changed)
        self.anonymize_button.clicked.connect(self.anonymize)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.report_button.clicked.connect(self.show_report)
        self.export_button.clicked.connect(self.export)

    def _add_shortcuts(self) -> None:
        keys = {
            Qt.Key.Key_Space: self.toggle_play,
            Qt.Key.Key_Left: lambda: self.step(-1),
            Qt.Key.Key_Right: lambda: self.step(1),
            Qt.Key.Key_Home: lambda: self.go_to(0),
            Qt.Key.Key_End: lambda: self.go_to(self._last_index()),
        }
        for key, slot in keys.items():
            QShortcut(QKeySequence(key), self, slot, context=Qt.ShortcutContext.WindowShortcut)

    def _restore_settings(self) -> None:
        self.remember_recent_action.setChecked(self.settings.remember_recent)
        if (geometry := self.settings.geometry) is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)

    def _load_models(self) -> None:
        try:
            self.strength_control.load(self.models_dir, self.settings.strength)
        except Exception as error:  # no manifest: the window still opens and says why
            self.strength.info.setText(f"No anonymizer available: {error}")
        worker = Worker(jobs.load_models, self.models_dir)
        worker.signals.returned.connect(self._on_models_loaded)
        worker.signals.errored.connect(self._on_models_failed)
        worker.start()

    def _on_models_loaded(self, provider: str) -> None:
        self.device_label.setText(f"Model device: {jobs.device_name(provider)}")

    def _on_models_failed(self, error: Exception) -> None:
        self.device_label.setText("Model device: unavailable")
        show_error(self, error)

    # --- opening ----------------------------------------------------------------
    def choose_clip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a clip", self.settings.last_folder("open"), VIDEO_FILTER)
        if path:
            self.open_clip(Path(path))

    def open_clip(self, path: Path) -> None:
        """Probe in the background; the clip replaces the current one when that succeeds."""
        if self._busy():
            QMessageBox.information(self, "gaitanon", "Wait for the current job to finish, or cancel it first.")
            return
        self.clip_label.setText(f"Opening {Path(path).name}…")
        worker = Worker(jobs.open_clip, Path(path))
        worker.signals.returned.connect(self._on_clip_opened)
        worker.signals.errored.connect(self._on_open_failed)
        worker.start()

    def _on_open_failed(self, error: Exception) -> None:
        self.clip_label.setText(self.clip.describe() if self.clip else "No clip open")
        show_error(self, error)

    def _on_clip_opened(self, clip: jobs.OpenedClip) -> None:
        self._discard_review()
        self._close_clip()
        self.clip = clip
        self.proxy_job = Worker(jobs.fill_proxy, clip.proxy, clip.info.path)
        self.proxy_job.start()
        self.settings.add_recent(clip.info.path)
        self.settings.set_last_folder("open", clip.info.path.parent)
        self.setWindowTitle(f"{clip.info.path.name} — gaitanon")
        self.clip_label.setText(clip.describe())
        self.frame_server.set_provider(clip.original_frame)
        self.covers.set_clip(clip)
        self.people.find(clip)
        self.timeline.slider.setRange(0, self._last_index())
        self.current = -1
        self.go_to(0)
        self._refresh_controls()

    @staticmethod
    def _stop(worker: Worker | None) -> None:
        if worker is not None:
            worker.cancel()
            worker.wait()

    def _close_clip(self) -> None:
        """Stop filling the preview proxy and delete it (it is a copy of the footage)."""
        self._stop(self.proxy_job)
        self.proxy_job = None
        self.people.stop()
        if self.clip is not None:
            self.clip.proxy.close()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_clip(files[0])

    # --- the timeline -------------------------------------------------------------
    def _last_index(self) -> int:
        return max(self.clip.info.frame_count - 1, 0) if self.clip else 0

    def go_to(self, index: int) -> None:
        if self.clip is None:
            return
        index = min(max(index, 0), self._last_index())
        if self.timeline.slider.value() != index:
            self.timeline.slider.setValue(index)  # -> _on_slider
        elif index != self.current:
            self._on_slider(index)

    def step(self, delta: int) -> None:
        self.pause()
        self.go_to(self.current + delta)

    def _on_slider(self, index: int) -> None:
        self._following_render = False  # the user moved: the view is theirs again (live frames move it unsignalled)
        self.current = index
        self.timeline.time_label.setText(self._time_text(index))
        self.frame_server.request(index)

    def _time_text(self, index: int) -> str:
        if self.clip is None:
            return ""
        return (f"{format_time(self.clip.time_of(index))} / {format_time(self.clip.info.duration)}"
                f"   frame {index + 1} / {self.clip.info.frame_count}")

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.pause()
        elif self.clip is not None:
            if self.current >= self._last_index():
                self.go_to(0)
            self.play_timer.start(max(int(1000 / max(self.clip.info.fps, 1.0)), 10))
            self.timeline.show_playing(True)

    def _jump_to(self, index: int) -> None:
        self.pause()
        self.go_to(index)

    def pause(self) -> None:
        self.play_timer.stop()
        self.timeline.show_playing(False)

    def _play_tick(self) -> None:
        if self.current >= self._last_index():
            self.pause()
        else:
            self.go_to(self.current + 1)

    # --- showing frames -------------------------------------------------------------
    def _on_frame_served(self, shown: ShownFrame) -> None:
        if self._following_render and shown.index != self.current:
            return  # decoded for a frame the live view has moved past
        self._show_frame(shown)

    def _show_live_frame(self) -> None:
        """The newest frame the render finished: shown while the view follows the render.

        Following is what a journalist expects of a render preview (as in a video
        editor): the slider marks how far the render has come and both panes show
        that frame, outlines included, so a badly anonymized walker is seen, and
        the render can be cancelled, long before the end. Moving the timeline
        hands the view back to the user at once.
        """
        frame = self.live_frames.take()
        if frame is None or not self._following_render:
            return
        self.current = frame.index
        with QSignalBlocker(self.timeline.slider):
            self.timeline.slider.setValue(frame.index)
        self.timeline.time_label.setText(self._time_text(frame.index))
        self._show_frame(ShownFrame.of(frame))

    def _show_frame(self, shown: ShownFrame) -> None:
        self._last_shown = shown
        self.frames.original.show_frame(rgb_to_qimage(shown.original))
        if shown.anonymized is not None:
            self.frames.anonymized.show_frame(rgb_to_qimage(shown.anonymized))
        else:
            # A dark frame of the same size keeps both panes' zoom and scroll in step.
            blank = rgb_to_qimage(shown.original * 0 + 24)
            self.frames.anonymized.show_frame(blank, self._waiting_text())
        self._redraw_overlays()
        self.frames.refit_if_fitted()

    def _waiting_text(self) -> str:
        """What the anonymized pane says where it has no frame to show."""
        if self.review is None:
            return NOT_YET
        return FOLLOWING if self._following_render else IN_PROGRESS

    def _on_overlay_toggled(self) -> None:
        self._overlays_wanted = any(box.isChecked() for box in
                                    (self.overlay_original, self.overlay_anonymized, self.overlay_xor))
        shown = self._last_shown
        if self._overlays_wanted and shown is not None and shown.anonymized is not None and shown.xor is None:
            self.frame_server.request(self.current)  # fetch this frame again, with its silhouettes
        self._redraw_overlays()

    def _redraw_overlays(self) -> None:
        shown = self._last_shown
        layers = {
            "original_outline": (self.overlay_original, "original_mask", ORIGINAL_OUTLINE_COLOUR, True),
            "anonymized_outline": (self.overlay_anonymized, "anonymized_mask", ANONYMIZED_OUTLINE_COLOUR, True),
            "xor": (self.overlay_xor, "xor", XOR_COLOUR, False),
        }
        for name, (box, field, colour, outline) in layers.items():
            mask = getattr(shown, field) if shown is not None else None
            image = mask_overlay(mask, colour, outline) if box.isChecked() and mask is not None else None
            for pane in self.frames.panes():
                pane.show_overlay(name, image)
        self.frames.original.show_overlay("people", self._people_overlay(shown))
        self.frames.original.show_boxes(self.covers.rects_on(shown.index) if shown is not None else [])

    def _people_overlay(self, shown: ShownFrame | None) -> QImage | None:
        """Each listed person's outline and number on the original, in their panel colour."""
        if shown is None or not self.overlay_people.isChecked():
            return None
        height, width = shown.original.shape[:2]
        return numbered_outlines((width, height), self.people.outlines(shown.index))

    def _on_preview_failed(self, error: Exception) -> None:
        self.pause()
        self.clip_label.setText(f"Preview: {error}")

    # --- strength and anonymizing -------------------------------------------------------
    def _on_strength_changed(self, alpha: float) -> None:
        self.settings.strength = alpha
        if self.review is not None and abs(self.review.alpha - alpha) > 1e-9:
            self.clip_label.setText(f"The review copy was made at strength {self.review.alpha:g}; "
                                    "press Anonymize to redo it at the new strength.")

    def _busy(self) -> bool:
        return self.job is not None

    def anonymize(self) -> None:
        if self.clip is None or self._busy() or self.strength_control.alpha is None:
            return
        self.pause()
        self._discard_review()
        self.review = jobs.ReviewSession(self.clip, self.strength_control.alpha, self.models_dir, self._faces(),
                                         self._choices())
        self.frame_server.set_provider(self._review_frame)
        self.live_frames.take()  # nothing left over from an earlier render
        self._following_render = True
        self._run(Worker(jobs.anonymize, self.review, self.live_frames.offer), self._on_anonymized, "Anonymizing")
        self._say_if_stale()  # the new review has the choices now shown

    def _review_frame(self, index: int) -> ShownFrame:
        """Runs in the decoding thread: the review's frame where done, else the original alone."""
        review, clip = self.review, self.clip
        if review is not None and review.has_frame(index):
            return review.frame(index, with_silhouettes=self._overlays_wanted)
        return clip.original_frame(index)

    def _on_progress(self, progress: jobs.Progress) -> None:
        self.progress.setRange(0, max(progress.total, 1))
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"{progress.stage}: %v / %m frames")
        self.eta_label.setText(format_eta(progress.eta_s))
        if self.review is not None and not self.review.complete and not self._following_render:
            self.frames.anonymized.show_placeholder(RENDERED.format(stage=progress.stage, done=progress.done, total=progress.total))

    def _on_anonymized(self, _review: jobs.ReviewSession) -> None:
        self.eta_label.setText("Done: review the frames, then Export (the report comes first).")
        self.frame_server.request(self.current)  # the same frame, now from the review copy

    # --- jobs --------------------------------------------------------------------------
    def _run(self, worker: Worker, on_done: Callable[[Any], None], what: str) -> None:
        self.job = worker
        self._on_job_done = on_done
        self.progress.setRange(0, 0)
        self.progress.setFormat(what)
        self.eta_label.setText(f"{what}…")
        worker.signals.progress.connect(self._on_progress)
        worker.signals.returned.connect(self._on_job_returned)
        worker.signals.errored.connect(self._on_job_failed)
        worker.signals.aborted.connect(self._on_job_cancelled)
        self._refresh_controls()
        worker.start()

    def cancel_job(self) -> None:
        if self.job is not None:
            self.eta_label.setText("Cancelling…")
            self.job.cancel()

    def _end_job(self) -> None:
        """The job has stopped (done, failed or cancelled): the window is free again."""
        self.job = None
        self._following_render = False
        ready = self.review is not None and self.review.complete
        self.progress.setRange(0, 1)
        self.progress.setValue(1 if ready else 0)
        self.progress.setFormat("Review copy ready" if ready else "")
        self._refresh_controls()

    def _on_job_returned(self, result: Any) -> None:
        on_done, self._on_job_done = self._on_job_done, None
        self._end_job()
        if on_done is not None:
            on_done(result)

    def _on_job_failed(self, error: Exception) -> None:
        self._drop_unfinished_review()
        self._end_job()
        self.eta_label.setText("Stopped by an error; nothing was exported.")
        show_error(self, error)

    def _on_job_cancelled(self) -> None:
        self._drop_unfinished_review()
        self._end_job()
        self.eta_label.setText("Cancelled; nothing was left behind.")

    def _drop_unfinished_review(self) -> None:
        if self.review is not None and not self.review.complete:
            self._discard_review()

    def _discard_review(self) -> None:
        review, self.review = self.review, None
        if self.clip is not None:
            self.frame_server.set_provider(self.clip.original_frame)
            self.frame_server.request(self.current)
        if review is not None:
            review.discard()

    def _refresh_controls(self) -> None:
        busy, has_clip = self._busy(), self.clip is not None
        reviewed = self.review is not None and self.review.complete
        self.anonymize_button.setEnabled(has_clip and not busy and self.strength_control.alpha is not None)
        self.cancel_button.setEnabled(busy)
        exportable = reviewed and not busy and self._review_has_the_choices()
        self.report_button.setEnabled(reviewed and not busy)
        self.export_button.setEnabled(exportable)
        self.export_action.setEnabled(exportable)
        self.people.set_locked(busy)
        self.covers.set_locked(busy)
        self.strength.slider.setEnabled(not busy and len(self.strength_control.entries) > 1)
        self.hide_faces.setEnabled(not busy)
        self.face_mode.setEnabled(not busy and self.hide_faces.isChecked())
        self.open_action.setEnabled(not busy)
        self.batch_action.setEnabled(not busy)

    # --- people and cover boxes ----------------------------------------------------------
    def _choices(self) -> jobs.Choices:
        """Whom the People panel keeps or covers, and the boxes drawn."""
        return jobs.Choices(self.people.keep_tracks(), self.people.cover_tracks(), self.covers.cover_boxes())

    def _review_has_the_choices(self) -> bool:
        """Whether the review copy was made with exactly the choices now shown, faces included (else it must be
        made again)."""
        return (self.review is not None and self.review.choices == self._choices()
                and self.review.options.faces == self._faces())

    def _on_choices_changed(self) -> None:
        self._say_if_stale()
        self._redraw_overlays()
        self._refresh_controls()

    def _say_if_stale(self) -> None:
        """The status line says when the review copy was made with other choices, and stops saying it when not."""
        if self.review is not None and not self._review_has_the_choices():
            self.clip_label.setText(STALE_CHOICES)
        elif self.clip is not None and self.clip_label.text() == STALE_CHOICES:
            self.clip_label.setText(self.clip.describe())

    # --- report and export -------------------------------------------------------------
    def show_report(self) -> None:
        if self.review is not None and self.review.complete:
            self.report_control.show(self.review)

    def export(self, report_seen: bool = False) -> None:
        """Export goes through the report first, then the flagged-frame confirmation, then the options."""
        if self.review is None or not self.review.complete or self._busy():
            return
        if not report_seen:
            self.report_control.show(self.review)  # its Export button comes back here
            return
        if not self._review_has_the_choices():
            QMessageBox.information(self, "gaitanon", STALE_CHOICES)
            return
        if not self.report_control.confirm_flagged(self.review):
            return
        note = choices_text(self.review.choices, self.clip.times)
        choice = ask_export_options(self, self.clip.info, self.settings, note)
        if choice is None:
            return
        target, options = choice
        self._run(Worker(jobs.export, self.review, target, options), self._on_exported, "Exporting")

    def _on_exported(self, target: Path) -> None:
        self.eta_label.setText(f"Exported to {target}")
        self.statusBar().showMessage(f"Exported the reviewed clip to {target}", 15000)

    # --- batch ----------------------------------------------------------------------
    def open_batch(self) -> None:
        alpha = self.strength_control.alpha
        if alpha is None or self._busy():
            return
        from .batch import BatchController  # noqa: PLC0415

        BatchController(self, self.settings, alpha, self.models_dir, self._faces()).exec()

    def _faces(self) -> str:
        """The engine's face mode: how faces are hidden, or "keep" where "Hide faces" is off."""
        return self.face_mode.currentText() if self.hide_faces.isChecked() else "keep"

    # --- history -----------------------------------------------------------------------
    def _on_remember_recent(self, enabled: bool) -> None:
        self.settings.remember_recent = enabled

    def _clear_recent(self) -> None:
        self.settings.clear_history()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        if not files:
            note = self.recent_menu.addAction("History is off" if not self.settings.remember_recent else "(empty)")
            note.setEnabled(False)
        for path in files:
            self.recent_menu.addAction(str(path), lambda p=path: self.open_clip(p))

    # --- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.pause()
        cancel_all_and_wait()
        self.frame_server.stop()
        self._discard_review()
        self._close_clip()
        self.settings.geometry = bytes(self.saveGeometry())
        self.settings.sync()
        super().closeEvent(event)
