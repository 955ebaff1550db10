"""A stand-in Arduino platform for tests/boards/test_framework_guards.py (host g++, no packages)."""

from platformio.public import PlatformBase


class MffakearduinoPlatform(PlatformBase):
    pass
