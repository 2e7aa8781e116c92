"""`python -m app` and the PyInstaller entry point (absolute import: a frozen script has no package)."""

import sys

from app.main import main

sys.exit(main())
