"""tenki's web frontend."""
