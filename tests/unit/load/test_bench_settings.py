"""The bench's settings: an option beats its BENCH_* variable, which beats the one default."""

from __future__ import annotations

from pathlib import Path

from tenki_bench.settings import Settings, parse


def test_without_options_or_variables_the_defaults_of_settings_apply() -> None:
    assert parse([], {}) == Settings()


def test_a_variable_sets_its_setting_and_an_option_beats_it() -> None:
    env = {"BENCH_ROUNDS": "5", "BENCH_COLD_LATENCY_MS": "50", "BENCH_OUT": "/tmp/bench", "BENCH_STRICT": "1"}
    settings = parse(["--rounds", "1"], env)
    assert (settings.rounds, settings.cold_latency_ms, settings.out, settings.strict) == (
        1, 50, Path("/tmp/bench"), True
    )
    assert settings.seconds == Settings().seconds


def test_an_empty_variable_is_unset_and_strict_needs_one() -> None:
    assert parse([], {"BENCH_SECONDS": "", "BENCH_STRICT": "yes"}) == Settings()
