"""microforge: a local PlatformIO development platform with no registry packages.

The toolchains (gcc/g++, arm-none-eabi-gcc, qemu-system-arm) come from the system;
builder/main.py does all the work. With no "uploader" package PlatformIO treats the
platform as non-embedded, so nothing ever tries to open a serial port or download a tool.
"""

from platformio.public import PlatformBase


class MicroforgePlatform(PlatformBase):
    pass
