"""Errors reach the user as one plain sentence in a dialog, never as a traceback.

A `GaitanonError` already carries its sentence. Anything else is a bug of ours: the
dialog says so plainly and the traceback goes to the log only. Logs never hold
frame data: only exception types, messages and code locations are written.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from gaitanon_core.errors import GaitanonError

log = logging.getLogger("gaitanon")


def plain_sentence(error: BaseException) -> str:
    if isinstance(error, GaitanonError):
        return str(error)
    if isinstance(error, MemoryError):
        return "The computer ran out of memory; close other programs or try a shorter clip."
    if isinstance(error, OSError) and error.strerror:
        where = f" ({error.filename})" if error.filename else ""
        return f"The file system refused the operation: {error.strerror}{where}."
    return ("Something went wrong inside gaitanon and the operation was stopped; "
            "nothing was exported. The details are in the log file.")


def show_error(parent: QWidget | None, error: BaseException, title: str = "gaitanon") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, plain_sentence(error), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("errorDialog")
    box.exec()


def log_file_path() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
    return folder / "gaitanon.log"


def configure_logging() -> None:
    path = log_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    # format_exception prints code locations and messages, never local variables (no frame data).
    log.error("uncaught error:\n%s", "".join(traceback.format_exception(kind, error, tb)))


def _excepthook(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    _log_uncaught(kind, error, tb)
    if QApplication.instance() is not None and threading.current_thread() is threading.main_thread():
        show_error(QApplication.activeWindow(), error)
    else:
        print(f"gaitanon: {plain_sentence(error)}", file=sys.stderr)


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    _log_uncaught(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


def install_excepthook() -> None:
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook
