"""Fixtures around the OpenWeatherMap stand-in server (support.owm_standin)."""
