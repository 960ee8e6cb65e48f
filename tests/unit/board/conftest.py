"""Make the repository root importable when pytest runs from the venv's entry point.

Harmless once the project is installed or pyproject sets ``pythonpath``.
"""

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[3])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
