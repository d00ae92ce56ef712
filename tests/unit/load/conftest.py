"""The load/ folder (locustfile helpers and the tenki_bench package) is importable in these tests."""

from __future__ import annotations

import sys
from pathlib import Path

LOAD_DIR = Path(__file__).resolve().parents[3] / "load"
if str(LOAD_DIR) not in sys.path:
    sys.path.insert(0, str(LOAD_DIR))
