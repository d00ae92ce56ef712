"""The benchmark's settings and their defaults: the one place the defaults are written.

Every setting is a command-line option (--rounds) and a BENCH_* environment variable (BENCH_ROUNDS); an
option beats the variable, the variable beats the default below. mk/load.mk defines none of them, on
purpose: make hands a variable set on its command line or in the environment (`make bench BENCH_ROUNDS=5`)
to this process through the environment, and a plain `make bench` runs with these defaults, as does
`python -m tenki_bench` without make. One source, in the module that uses the values.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _option(default: Any, help: str) -> Any:
    """A setting: its default and what it means (the help of its option)."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    rounds: int = _option(3, "measured rounds per steady row, interleaved with the others; the best counts")
    seconds: int = _option(6, "seconds of each measured run")
    warmup: int = _option(2, "seconds of the warm-up run before each measured run (not counted)")
    connections: int = _option(16, "wrk's connections for every HTTP row")
    grpc_concurrency: int = _option(16, "gRPC calls in flight for rows 5 and 6")
    cold_codes: int = _option(50, "row 7: distinct never-asked postal codes (K)")
    cold_callers: int = _option(8, "row 7: callers asking for each code at once")
    cold_latency_ms: int = _option(200, "row 7: the OWM stand-in's latency")
    out: Path = _option(ROOT / "build" / "bench", "folder of results.json and the servers' logs")
    strict: bool = _option(False, "exit 1 when a throughput ratio misses its target too")


def env_name(name: str) -> str:
    return f"BENCH_{name.upper()}"


def parse(argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ) -> Settings:
    """The settings from `argv` over `env`'s BENCH_* variables over the defaults of `Settings`."""
    parser = argparse.ArgumentParser(description="tenki's side-by-side benchmark")
    for each in dataclasses.fields(Settings):
        flag, variable = f"--{each.name.replace('_', '-')}", env_name(each.name)
        help_text, raw = each.metadata["help"], env.get(variable)
        if isinstance(each.default, bool):
            parser.add_argument(flag, action="store_true", default=raw == "1" if raw else each.default,
                                help=f"{help_text} ({variable}=1)")
            continue
        kind = Path if isinstance(each.default, Path) else int
        default = kind(raw) if raw else each.default
        parser.add_argument(flag, type=kind, default=default, help=f"{help_text} ({variable}; now {default})")
    return Settings(**vars(parser.parse_args(argv)))
