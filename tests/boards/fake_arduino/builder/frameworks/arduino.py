"""The stand-in core, built the way PlatformIO's Arduino builders build real ones: the core's own
C++ standard in CXXFLAGS, its sources compiled in the project's environment (so an env's
build_flags and build_unflags reach them)."""

import os

from SCons.Script import DefaultEnvironment  # pylint: disable=import-error

env = DefaultEnvironment()
core = os.path.join(env.PioPlatform().get_dir(), "core")
env.Append(CXXFLAGS=["-std=gnu++14"], CPPPATH=[core], CPPDEFINES=[("ARDUINO", 10819)])
env.Prepend(LIBS=[env.BuildLibrary(os.path.join("$BUILD_DIR", "FrameworkArduino"), core)])
