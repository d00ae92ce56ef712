"""Test support shared by every suite: fixtures around the local stack and the OWM stand-in.

Both live in scripts/tenki_stack, which load/ and `make run` share.
"""
