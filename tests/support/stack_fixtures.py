"""Fixtures that start tenki's services as real processes on free 127.0.0.1 ports (scripts/stack.py)."""
