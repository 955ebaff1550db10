"""Fill the rendered project with what the microforge package emits for the model."""

import sys
from pathlib import Path

from microforge.errors import MicroforgeError
from microforge.project.scaffold import complete_project

try:
    complete_project(
        Path.cwd(),
        model_path={{ cookiecutter.model_path | tojson }},
        boards={{ cookiecutter.boards | tojson }},
        optimize={{ cookiecutter.optimize | tojson }},
    )
except MicroforgeError as err:
    print(f"error: {err}" + (f"\nfix: {err.hint}" if err.hint else ""), file=sys.stderr)
    sys.exit(1)
