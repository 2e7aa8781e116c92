"""The desktop window, driven by real clicks and keys on its named widgets (pytest-qt)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QCheckBox, QLabel, QMessageBox, QPushButton, QSlider, QToolButton

from gui_helpers import make_test_clip, open_and_wait, shown_index, wait_until
from gui_helpers import model_bank, window  # noqa: F401 (shared fixtures)


@pytest.fixture(scope="session")
def clip_320(tmp_path_factory) -> Path:
    return make_test_clip(tmp_path_factory.mktemp("clips") / "clip 320.mp4", frames=40)


def click_groove_end(qtbot, slider: QSlider) -> None:
    """A real click on the slider's groove near its right end (one page step toward it)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionSlider

    option = QStyleOptionSlider()
    slider.initStyleOption(option)
    groove = slider.style().subControlRect(QStyle.ComplexControl.CC_Slider, option,
                                           QStyle.SubControl.SC_SliderGroove, slider)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(groove.right() - 2, groove.center().y()))


def test_status_bar_names_the_device_that_really_runs_the_model(window):
    assert window.findChild(QLabel, "deviceLabel").text() == "Model device: CPU"


def test_open_by_drop_and_scrub_with_buttons_keys_and_slider(window, qtbot, clip_320):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip_320))])
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    wait_until(lambda: window.clip is not None and window._last_shown is not None)
    assert "40 frames" in window.findChild(QLabel, "clipLabel").text()
    slider = window.findChild(QSlider, "timelineSlider")
    assert (slider.minimum(), slider.maximum()) == (0, 39)

    qtbot.mouseClick(window.findChild(QToolButton, "endButton"), Qt.MouseButton.LeftButton)
    assert shown_index(window) == 39
    qtbot.mouseClick(window.findChild(QToolButton, "stepBackButton"), Qt.MouseButton.LeftButton)
    assert shown_index(window) == 38
    qtbot.mouseClick(window.findChild(QToolButton, "startButton"), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.findChild(QToolButton, "stepForwardButton"), Qt.MouseButton.LeftButton)
    assert shown_index(window) == 1
    assert window.findChild(QLabel, "timeLabel").text().startswith("00:00.040 / 00:01.600")

    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert shown_index(window) == 3
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert shown_index(window) == 2
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert shown_index(window) == 39
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert shown_index(window) == 0

    # a click on the slider's groove jumps there (page step), and the frame follows
    click_groove_end(qtbot, slider)
    assert shown_index(window) > 0

    qtbot.keyClick(window, Qt.Key.Key_Space)  # play
    wait_until(lambda: window.current >= 5)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # pause
    stopped_at = window.current
    qtbot.wait(200)
    assert window.current == stopped_at


def test_open_by_dialog(window, qtbot, clip_320, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(clip_320), ""))
    window.findChild(type(window.open_action), "openAction").trigger()
    wait_until(lambda: window.clip is not None and window.clip.info.path == clip_320)


def test_a_file_that_is_not_a_video_gives_a_plain_dialog(window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    window.open_clip(bad)
    wait_until(lambda: bool(shown))
    assert "Traceback" not in shown[0] and "not a video" in shown[0]
    assert window.clip is None


def test_preview_shows_the_engines_frames_upright_on_a_rotated_clip(window, tmp_path):
    """The preview decoder (OpenCV) and the engine (ffmpeg) agree on each frame and its rotation."""
    import subprocess

    import imageio_ffmpeg
    import numpy as np

    from gaitanon_core.video import read_frames

    plain = make_test_clip(tmp_path / "plain.mp4", frames=30)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-display_rotation", "90", "-i", str(plain),
                    "-c", "copy", str(rotated)], check=True, timeout=60)
    open_and_wait(window, rotated)
    engine = [frame.image for frame in read_frames(rotated)]
    assert engine[0].shape == (320, 240, 3)  # upright: portrait
    for index in (17, 3, 29):  # jumps back and forth, before and after the proxy has them
        window.go_to(index)
        assert shown_index(window) == index
        shown = window._last_shown.original
        assert shown.shape == engine[index].shape
        assert np.abs(shown.astype(int) - engine[index]).mean() < 4  # JPEG proxy tolerance


def test_scrubbing_a_720p_clip_with_long_keyframe_gaps_shows_each_frame(window, tmp_path):
    """Random jumps over a 720p H.264 clip with 250-frame keyframe gaps (x264's default) land on the
    frame asked for. How fast is a benchmark, not a test: scripts/benchmark_scrub.py."""
    import random

    clip = make_test_clip(tmp_path / "hd.mp4", frames=150, size="1280x720", gop=250)
    open_and_wait(window, clip)
    wait_until(lambda: window.clip.proxy.has(149), timeout_s=120)
    random.seed(1)
    for index in random.sample(range(150), 15):
        window.go_to(index)
        assert shown_index(window) == index


def test_strength_slider_snaps_to_shipped_models_and_persists(window, qtbot, tmp_path):
    slider = window.findChild(QSlider, "strengthSlider")
    info = window.findChild(QLabel, "strengthInfo")
    assert (slider.minimum(), slider.maximum()) == (0, 2)  # the fixture ships 0.2, 0.3, 0.4
    assert "alpha = 0.3" in info.text()  # the paper's choice is the default
    assert "not measured" in info.text()  # the fixture manifest carries no evaluation
    # a click on the groove right of the handle moves one stop (page step 1): the slider snaps
    click_groove_end(qtbot, slider)
    assert "alpha = 0.4" in info.text()
    assert window.strength_control.alpha == pytest.approx(0.4)
    from app.settings import Settings

    assert Settings().strength == pytest.approx(0.4)


def test_recent_files_are_off_by_default_and_clearable(window, clip_320):
    from app.settings import Settings

    open_and_wait(window, clip_320)
    assert Settings().recent_files() == []
    window.remember_recent_action.trigger()  # turn the history on
    window.open_clip(clip_320)
    wait_until(lambda: Settings().recent_files() == [clip_320])
    window.clear_recent_action.trigger()
    assert Settings().recent_files() == []


def test_about_box_lists_the_third_party_licences(window, qtbot):
    from app.controllers.about import build_about_dialog

    dialog = build_about_dialog(window)
    qtbot.addWidget(dialog)
    notices = dialog.notices.toPlainText()
    for needed in ("FFmpeg", "GPL-3.0", "LGPL-3.0", "Apache-2.0", "MIT", "ONNX Runtime", "OpenCV", "CASIA"):
        assert needed in notices
    assert "does not change" in dialog.about.toPlainText()


def test_uncaught_errors_become_a_plain_dialog_and_a_log_line(window, monkeypatch, caplog):
    from app import errors

    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box.text()) or 0)
    try:
        raise KeyError("frame buffer")
    except KeyError as error:
        errors._excepthook(KeyError, error, error.__traceback__)
    assert len(shown) == 1 and "Traceback" not in shown[0]
    assert "went wrong" in shown[0]
    assert "KeyError" in caplog.text


def test_overlay_boxes_exist_and_toggle(window, qtbot):
    for name in ("overlayOriginalOutline", "overlayAnonymizedOutline", "overlayXor"):
        box = window.findChild(QCheckBox, name)
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
        assert box.isChecked()


def test_export_needs_a_finished_review(window, clip_320):
    open_and_wait(window, clip_320)
    assert not window.findChild(QPushButton, "exportButton").isEnabled()
    assert window.findChild(QPushButton, "anonymizeButton").isEnabled()


def test_strength_label_quotes_the_adaptive_attacker_and_says_not_measured_honestly():
    from app.controllers.strength import describe
    from gaitanon_core.inference.manifest import ModelEntry

    measured = {"evaluation": {
        "success_rank1_same_view_nm": {"GEI CNN, distortion-trained": 0.62, "GEI CNN, adaptive to alpha 0.3": 0.41,
                                       "GEI + PCA/LDA, plain": 0.95, "GEI CNN, plain": None},
        "frame_score_relative": 0.97, "motion_ratio": 0.88}}
    text = describe(ModelEntry("stgan_a0.3", "anonymizer", Path("a.onnx"), "0", 0.3, measured))
    assert "41% of test walks not identified" in text and "adaptive to alpha 0.3" in text
    assert "97% of its confidence" in text and "0.88" in text
    without_adaptive = {"evaluation": {"success_rank1_same_view_nm": {"a": 0.8, "b": 0.6}}}
    text = describe(ModelEntry("m", "anonymizer", Path("a.onnx"), "0", 0.4, without_adaptive))
    assert "60% of test walks" in text and "Naturalness: not measured" in text
    assert describe(ModelEntry("m", "anonymizer", Path("a.onnx"), "0", 0.2, {})).count("not measured") == 2
    validation_only = {"validation": {"attacker_success": 0.354, "motion_ratio": 0.834}}
    text = describe(ModelEntry("m", "anonymizer", Path("a.onnx"), "0", 0.3, validation_only))
    assert "35% of validation walks" in text and "test figures not measured yet" in text
    assert "0.83\u00d7 the original's (validation)" in text
    assert "height, speed, cadence and path" in text
    owned = {"evaluation": {"success_rank1_same_view_nm": {"GEI CNN, adaptive to alpha 0.3, seed 0": 0.3},
                            "protection": {"weakest_success_rank1": 0.26,
                                           "linkability_rank1": {"two_draws_same_walk": 0.91, "anonymized_gallery": 0.59}}}}
    text = describe(ModelEntry("m", "anonymizer", Path("a.onnx"), "0", 0.3, owned))
    assert "26% of test walks not identified by an attacker who owns the tool" in text and "91% of anonymized" in text


def test_hide_faces_is_on_by_default_and_reaches_the_engine(window, qtbot, clip_320):
    from app.controllers import jobs

    box = window.findChild(QCheckBox, "hideFaces")
    assert box.isChecked(), "faces are hidden unless the user asks otherwise"
    open_and_wait(window, clip_320)
    for checked, mode in ((True, "blur"), (False, "keep")):
        box.setChecked(checked)
        session = jobs.ReviewSession(window.clip, 0.3, window.models_dir, window._faces())
        assert session.options.faces == mode
        session.discard()
