"""Fills the About box from the files that ship with the program."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from PySide6.QtWidgets import QWidget

from gaitanon_core.paths import models_dir, resources_dir

from ..views.about_dialog import AboutDialog

ABOUT_TEXT = """# gaitanon {version}

A redaction tool that changes how a walking person's body shape and motion look in
a video, so that gait recognition no longer identifies them, while the result still
looks like a person walking. It implements the spatio-temporal GAN of Tieu, Nguyen,
Nguyen-Son, Yamagishi and Echizen, *Journal of Information Security and
Applications* 46 (2019) 307-319.

**What it does not change:** the face, hair, clothes, skin, height and path through
the scene, walking speed and cadence, the scene itself, and the voice and footsteps
if you keep the audio. Use other tools for those.

gaitanon works offline: it opens no network connection.

Free software under the GNU General Public License, version 3 or later.
"""


def _read(path: Path, missing: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return missing


def _program_version() -> str:
    try:
        return version("gaitanon")
    except PackageNotFoundError:  # running from a bundle without package metadata
        return ""


def build_about_dialog(parent: QWidget | None) -> AboutDialog:
    dialog = AboutDialog(parent)
    dialog.about.setMarkdown(ABOUT_TEXT.format(version=_program_version()))
    dialog.notices.setMarkdown(_read(resources_dir() / "THIRD_PARTY_NOTICES.md",
                                     "The third-party notices file is missing from this installation."))
    dialog.model_card.setMarkdown(_read(models_dir() / "MODEL_CARD.md",
                                        "The model card is missing from this installation."))
    return dialog
