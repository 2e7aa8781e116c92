"""Screenshots of the real window on the bundled demo walker (our own content only).

Run under a real X server, e.g.:
    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/take_screenshots.py
It anonymizes the demo clip with the shipped models (or the models folder given
as the only argument) and grabs the screen; then again with the walker covered
whole and a cover box drawn over the picture on the wall; for the flagged-frame
report it renders the same walker with three frames where the person vanishes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.main import create_application  # noqa: E402
from gaitanon_core.paths import demo_clip_path  # noqa: E402

OUT = Path(__file__).resolve().parent
FRAME = 100  # the walker is in mid-stride, whole, in the middle of the room
PICTURE_BOX = (272, 36, 58, 52)  # x, y, width, height: the picture on the wall, covered by a box in covers.png


def wait_until(condition, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the window")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def grab(widget: QWidget, name: str) -> None:
    settle()
    screen = widget.screen()
    image = screen.grabWindow(0, widget.x(), widget.y(), widget.frameGeometry().width(),
                              widget.frameGeometry().height())
    image.save(str(OUT / name))
    print(f"wrote {OUT / name}")


def demo_with_a_gap(folder: Path) -> Path:
    """The demo walker with three frames where the segmenter cannot see the person."""
    from training.demo_walker import DEFAULT_SIZE, WalkerIdentity, render_walk, write_clip

    clip = render_walk(WalkerIdentity(), DEFAULT_SIZE)
    frames = clip.frames.copy()
    frames[FRAME - 20:FRAME - 17] = clip.background
    write_clip(folder / "demo_walker_gap.mp4", frames, clip.fps)
    return folder / "demo_walker_gap.mp4"


def grab_covers(window) -> None:
    """The walker covered whole (People panel) and a box over the picture on the wall (Cover boxes panel)."""
    from app.views.people_view import COVER

    wait_until(lambda: window.people.worker is None and window.people_view.rows)
    window.people_view.rows[0].choice.setCurrentIndex(COVER)
    window.covers.add_box(PICTURE_BOX, FRAME - 60, FRAME + 40)
    window.anonymize_button.click()
    wait_until(lambda: window.job is None)
    window.go_to(FRAME)
    wait_until(lambda: window._last_shown.index == FRAME and window._last_shown.anonymized is not None)
    grab(window, "covers.png")


def main() -> None:
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tempfile.mkdtemp())
    app = create_application()
    from app.controllers.export import ask_export_options, choices_text
    from app.controllers.main_window import MainWindow
    from app.settings import Settings

    models = Path(sys.argv[1]) if len(sys.argv) > 1 else None  # default: the shipped models
    window = MainWindow(Settings(), models_dir=models)
    window.setGeometry(0, 0, 1440, 860)
    window.show()
    window.open_clip(demo_clip_path())
    wait_until(lambda: window.clip is not None and window.clip.proxy.has(window.clip.info.frame_count - 1))
    window.go_to(FRAME)
    window.anonymize_button.click()
    wait_until(lambda: window.job is None)
    window.go_to(FRAME)
    window.overlay_original.setChecked(True)
    window.overlay_anonymized.setChecked(True)
    wait_until(lambda: window._last_shown.index == FRAME and window._last_shown.xor is not None)
    grab(window, "main_window.png")

    window.overlay_original.setChecked(False)
    window.overlay_anonymized.setChecked(False)
    window.overlay_xor.setChecked(True)
    window.frames.zoom_by(2.0)
    rows, columns = window._last_shown.xor.nonzero()
    window.frames.original.centerOn(columns.mean(), rows.mean())
    grab(window, "xor_zoomed.png")
    window.frames.fit()

    def capture(name: str, answer) -> None:
        """Grab the next modal dialog, then answer it."""
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(50, lambda: capture(name, answer))
            return
        dialog.move(40, 40)
        grab(dialog, name)
        answer(dialog)

    window.overlay_xor.setChecked(False)
    grab_covers(window)
    # The export dialog itself (past the flagged frames' question), with its note on the covers.
    QTimer.singleShot(50, lambda: capture("export_dialog.png", lambda dialog: dialog.reject()))
    ask_export_options(window, window.clip.info, window.settings, choices_text(window.review.choices, window.clip.times))

    # The same walker, vanishing for three frames: the report lists the bridged frames.
    window.open_clip(demo_with_a_gap(Path(tempfile.mkdtemp())))
    wait_until(lambda: window.clip is not None and "gap" in window.clip.info.path.name)
    window.anonymize_button.click()
    wait_until(lambda: window.job is None)
    window.show_report()
    report = window.report_control.dialog
    report.move(40, 40)
    grab(report, "report_flagged.png")

    QTimer.singleShot(50, lambda: capture(
        "confirm_flagged.png", lambda box: box.button(QMessageBox.StandardButton.No).click()))
    window.export(report_seen=True)
    window.close()
    app.quit()


if __name__ == "__main__":
    main()
