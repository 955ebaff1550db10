"""Making the project: C++ text from a lowering (emit), the cookiecutter scaffold, the fit check
against a board (budget, stackbound), the build hash the firmware reports (buildhash), and
PlatformIO without its registry (pio_env)."""
