"""What the service asks of a weather source, and the choice between OWM and the demo provider."""

from __future__ import annotations

from typing import Protocol

from .config import WeatherSettings
from .demo import DemoProvider
from .model import Observation
from .owm import OwmProvider


class Provider(Protocol):
    """A source of current weather. Raises only errors.WeatherError subclasses."""

    #: The `source` every Observation of this provider carries ("openweathermap", "demo").
    source: str

    def current_weather(self, postal_code: str, country_code: str) -> Observation:
        """The current weather at a normalised postal code and ISO alpha-2 country (upper case)."""
        ...  # pragma: no cover (a Protocol has no body)


def build_provider(settings: WeatherSettings) -> Provider:
    """Demo without a key, OWM with one; WEATHER_PROVIDER overrides (settings.provider decides)."""
    if settings.provider == "owm":
        return OwmProvider(
            api_key=settings.owm_api_key.get_secret_value(),
            base_url=settings.owm_base_url,
            timeout_seconds=settings.owm_timeout_seconds,
        )
    return DemoProvider()
