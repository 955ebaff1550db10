"""Refuse bad answers before anything is written (the checks live in microforge.project.scaffold)."""

import sys

from microforge.errors import MicroforgeError
from microforge.project.scaffold import check_answers

try:
    check_answers(
        slug={{ cookiecutter.project_slug | tojson }},
        model_path={{ cookiecutter.model_path | tojson }},
        boards={{ cookiecutter.boards | tojson }},
    )
except MicroforgeError as err:
    print(f"error: {err}" + (f"\nfix: {err.hint}" if err.hint else ""), file=sys.stderr)
    sys.exit(1)
