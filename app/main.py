"""`gaitanon [FILE]`: the desktop program; `gaitanon --self-test`: the headless installation check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gaitanon_core.errors import EXIT_USAGE


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="gaitanon",
        description="Anonymize the way people walk in video. Without FILE, opens the bundled demo clip.",
    )
    parser.add_argument("file", nargs="?", type=Path, help="a video to open")
    parser.add_argument("--self-test", action="store_true",
                        help="anonymize the demo clip without a window, check the result, exit 0 (pass) or 1")
    return parser.parse_args(argv)


def create_application():
    """The QApplication with gaitanon's names, icon and style (Qt is imported only here and below,
    so that --self-test runs on machines without a display)."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from gaitanon_core.paths import resources_dir

    from .settings import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "gaitanon.svg")))
    app.setStyleSheet((resources_dir() / "style" / "gaitanon.qss").read_text(encoding="utf-8"))
    return app


def run_window(clip: Path | None) -> int:
    from gaitanon_core.paths import demo_clip_path

    from .controllers.main_window import MainWindow
    from .errors import configure_logging, install_excepthook
    from .settings import Settings

    app = create_application()
    configure_logging()
    install_excepthook()
    window = MainWindow(Settings())
    window.show()
    window.open_clip(clip if clip is not None else demo_clip_path())
    return app.exec()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.self_test:
        from .self_test import run_self_test

        return run_self_test()
    if args.file is not None and not args.file.is_file():
        print(f"gaitanon: error: {args.file} is not a file", file=sys.stderr)
        return EXIT_USAGE
    return run_window(args.file)


if __name__ == "__main__":
    sys.exit(main())
