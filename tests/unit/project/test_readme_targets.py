"""The README lists exactly the targets `make help` prints, with the same descriptions."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def help_lines() -> list[str]:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [line for line in out.splitlines() if line.startswith("  ")]


def readme_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Make targets", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block, "README's Make targets section has no code block"
    return [line for line in block.group(1).splitlines() if line.startswith("  ")]


def test_the_readme_lists_every_make_target_as_make_help_describes_it() -> None:
    lines = help_lines()
    assert any(line.split()[0] == "test" for line in lines), lines
    assert readme_lines() == lines, "paste `make help` into README.md's Make targets section"
