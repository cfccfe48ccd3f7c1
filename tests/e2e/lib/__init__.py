"""Shared helpers for alertsink's end-to-end tests (see alertsink.py)."""
from .alertsink import *  # noqa: F401,F403
