"""Builds a native program with the system gcc/g++ (the framework script adds the core)."""

from SCons.Script import Default, DefaultEnvironment  # pylint: disable=import-error

env = DefaultEnvironment()
env.Replace(CC="gcc", CXX="g++", AS="gcc", AR="gcc-ar", RANLIB="gcc-ranlib", OBJCOPY="objcopy",
            SIZETOOL="size", PROGNAME="program", PROGSUFFIX="")
env.Append(CCFLAGS=["-Os"])
Default(env.BuildProgram())
