"""`python -m tenki_bench` (load/ on sys.path): run the benchmark; see harness.py."""

import sys

from .harness import main

sys.exit(main())
