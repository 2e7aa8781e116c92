"""Shared set-up for the GUI tests: isolated settings, a fixture model bank, generated clips."""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import imageio_ffmpeg
import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QPushButton

from training.demo_walker import WalkerIdentity, render_walk, write_clip


def isolate_settings(folder: Path) -> None:
    """Point QSettings (INI, user scope) at a test folder so no test touches real settings."""
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


def make_test_clip(path: Path, frames: int = 40, size: str = "320x240", fps: int = 25,
                   gop: int | None = None, audio: bool = False) -> Path:
    """A synthetic clip made by the bundled ffmpeg (nothing binary is committed)."""
    args = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-shortest", "-c:a", "aac"]
    args += ["-frames:v", str(frames), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if gop is not None:
        args += ["-g", str(gop)]
    subprocess.run([*args, str(path)], check=True, timeout=120)
    return path


def wait_until(condition, timeout_s: float = 120.0, step_s: float = 0.01) -> None:
    """Process Qt events until `condition()` holds; fail the test on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        QApplication.processEvents()
        time.sleep(step_s)


@pytest.fixture(scope="session")
def model_bank(tmp_path_factory) -> Path:
    """The tests' small ONNX bank (tests/model_fixtures.py), unless shipped models exist."""
    from model_fixtures import build_model_bank

    from gaitanon_core.shape.codec import LAYOUT, N_POINTS

    return build_model_bank(tmp_path_factory.mktemp("models"), N_POINTS, LAYOUT)


@pytest.fixture(scope="session")
def walker_clips(tmp_path_factory) -> dict[str, Path]:
    """Short demo-walker clips: one plain, one where the walker vanishes for 3 frames (flagged)."""
    folder = tmp_path_factory.mktemp("walker")
    clip = render_walk(WalkerIdentity(), (192, 144), empty_seconds=0.2)
    plain = clip.frames[20:80]
    lost = plain.copy()
    lost[30:33] = clip.background  # the segmenter loses the person: bridged and flagged
    write_clip(folder / "walker.mp4", plain, clip.fps)
    write_clip(folder / "walker_lost.mp4", lost, clip.fps)
    return {"plain": folder / "walker.mp4", "lost": folder / "walker_lost.mp4"}


@pytest.fixture
def private_tmp(monkeypatch, tmp_path) -> Path:
    """This test's own temporary folder (others' runs share /tmp)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def window(qtbot, tmp_path, model_bank):
    from app.controllers.main_window import MainWindow
    from app.settings import Settings

    isolate_settings(tmp_path / "settings")
    win = MainWindow(Settings(), models_dir=model_bank)
    qtbot.addWidget(win)
    win.show()
    wait_until(lambda: "loading" not in win.device_label.text())
    return win


def open_and_wait(window, clip: Path) -> None:
    window.open_clip(clip)
    # the engine resolves paths (../shared may be a symbolic link): compare resolved ones
    wait_until(lambda: window.clip is not None and window.clip.info.path.resolve() == clip.resolve()
               and window._last_shown is not None and window._last_shown.index == window.current)


def shown_index(window) -> int:
    wait_until(lambda: window._last_shown is not None and window._last_shown.index == window.current)
    return window._last_shown.index


def click(window, name: str) -> None:
    button = window.findChild(QPushButton, name)
    assert button.isEnabled(), f"{name} is disabled"
    button.click()


def anonymize(window) -> None:
    click(window, "anonymizeButton")
    wait_until(lambda: window.job is None, timeout_s=180)
    assert window.review is not None and window.review.complete


def answer_export_dialog(target: Path, keep_audio: bool = False, crf: int | None = None,
                         seen: list[str] | None = None) -> None:
    """When the modal export dialog opens, fill in the target (and the quality) and press Export (real clicks);
    `seen` collects the dialog's note on who is kept unchanged."""
    from app.controllers.export import ExportDialog

    def fill() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(20, fill)
            return
        dialog.path.setText(str(target))
        dialog.keep_audio.setChecked(keep_audio)
        if crf is not None:
            dialog.crf.setValue(crf)
        if seen is not None:
            seen.append(dialog.kept_note.text() if dialog.kept_note.isVisibleTo(dialog) else "")
        dialog.findChild(QPushButton, "exportOk").click()

    QTimer.singleShot(20, fill)


def wait_for_people(window) -> None:
    """Until the People panel's search of the open clip has ended."""
    wait_until(lambda: window.people.worker is None, timeout_s=180)
