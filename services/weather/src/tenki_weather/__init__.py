"""tenki's gRPC weather service."""
