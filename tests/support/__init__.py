"""Test support shared by every suite: the OWM stand-in server and the local stack launcher fixtures."""
