"""Persistent user settings (QSettings, INI format so tests can redirect them).

Privacy by default: the recent-files history is off and clearable, since a seized
laptop should not list a source's clips; folders are remembered only when the
history is on. "Keep audio" and "keep metadata" are never persisted: every export
starts from the safe choice.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from gaitanon_core.options import DEFAULT_CRF, DEFAULT_PRESET

ORGANIZATION = "gaitanon"
APPLICATION = "gaitanon"
MAX_RECENT = 10


class Settings:
    def __init__(self) -> None:
        self._store = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                ORGANIZATION, APPLICATION)

    # --- recent files -------------------------------------------------------
    @property
    def remember_recent(self) -> bool:
        return self._store.value("history/enabled", False, type=bool)

    @remember_recent.setter
    def remember_recent(self, enabled: bool) -> None:
        self._store.setValue("history/enabled", enabled)
        if not enabled:
            self.clear_history()

    def recent_files(self) -> list[Path]:
        if not self.remember_recent:
            return []
        return [Path(p) for p in self._store.value("history/files", [], type=list)]

    def add_recent(self, path: Path) -> None:
        if not self.remember_recent:
            return
        paths = [str(path)] + [str(p) for p in self.recent_files() if p != path]
        self._store.setValue("history/files", paths[:MAX_RECENT])

    def last_folder(self, kind: str) -> str:
        return self._store.value(f"history/folder_{kind}", "", type=str) if self.remember_recent else ""

    def set_last_folder(self, kind: str, folder: Path) -> None:
        if self.remember_recent:
            self._store.setValue(f"history/folder_{kind}", str(folder))

    def clear_history(self) -> None:
        self._store.remove("history/files")
        for key in self._store.allKeys():
            if key.startswith("history/folder_"):
                self._store.remove(key)
        self._store.sync()

    # --- choices -------------------------------------------------------------
    @property
    def strength(self) -> float | None:
        value = self._store.value("anonymize/strength", None)
        return None if value is None else float(value)

    @strength.setter
    def strength(self, alpha: float) -> None:
        self._store.setValue("anonymize/strength", alpha)

    @property
    def crf(self) -> int:
        return self._store.value("export/crf", DEFAULT_CRF, type=int)

    @crf.setter
    def crf(self, value: int) -> None:
        self._store.setValue("export/crf", value)

    @property
    def preset(self) -> str:
        return self._store.value("export/preset", DEFAULT_PRESET, type=str)

    @preset.setter
    def preset(self, value: str) -> None:
        self._store.setValue("export/preset", value)

    @property
    def geometry(self) -> bytes | None:
        value = self._store.value("window/geometry", None)
        return None if value is None else bytes(value)

    @geometry.setter
    def geometry(self, value: bytes) -> None:
        self._store.setValue("window/geometry", value)

    def sync(self) -> None:
        self._store.sync()
