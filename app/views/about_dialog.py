"""About box: the program, the third-party notices, the model card (its dataset terms)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QTextBrowser, QVBoxLayout, QWidget


def _browser(name: str) -> QTextBrowser:
    browser = QTextBrowser()
    browser.setObjectName(name)
    browser.setOpenLinks(False)  # the program opens no network connection, links included
    return browser


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About gaitanon")
        self.resize(760, 560)
        self.about = _browser("aboutText")
        self.notices = _browser("noticesText")
        self.model_card = _browser("modelCardText")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.about, "About")
        self.tabs.addTab(self.notices, "Third-party notices")
        self.tabs.addTab(self.model_card, "Model card and dataset terms")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
