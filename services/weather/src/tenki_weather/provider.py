"""What the service asks of a weather source, and the choice between OWM and the demo provider."""

from __future__ import annotations

from typing import Protocol

from .config import WeatherSettings
from .demo import DemoProvider
from .model import Forecast, Observation, Place
from .owm import OwmProvider


class Provider(Protocol):
    """A source of current weather. Raises only errors.WeatherError subclasses."""

    #: The `source` every Observation of this provider carries ("openweathermap", "demo").
    source: str

    def geocode(self, lookup_code: str, country_code: str) -> Place | None:
        """The place of a postal code in the geocoder's form (postal.py), or None when it is unknown."""
        ...  # pragma: no cover (a Protocol has no body)

    def weather_at(self, place: Place) -> Observation:
        """The current weather at a geocoded place; an empty name or country falls back to the place's."""
        ...  # pragma: no cover (a Protocol has no body)

    def forecast_at(self, place: Place) -> Forecast:
        """The 5 day / 3 hour forecast at a geocoded place (standard units), names as for weather_at."""
        ...  # pragma: no cover (a Protocol has no body)


def build_provider(settings: WeatherSettings) -> Provider:
    """Demo without a key, OWM with one; WEATHER_PROVIDER overrides (settings.provider decides)."""
    if settings.provider == "owm":
        return OwmProvider(
            api_key=settings.owm_api_key.get_secret_value(),
            base_url=settings.owm_base_url,
            geo_base_url=settings.geo_base_url,
            timeout_seconds=settings.owm_timeout_seconds,
        )
    return DemoProvider()
