"""Print a pip constraints file pinning each runtime dependency of pyproject.toml at its lower bound.

CI installs with it to prove the ranges true at their oldest end: each `>=X` is what we claim to work with, so it is
what we test. Read from pyproject itself, so the bounds live in one place.
"""

import re
import sys
from pathlib import Path

import tomllib

project = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())["project"]
for requirement in project["dependencies"]:
    spec = requirement.split(";", 1)[0]
    match = re.fullmatch(r"\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*>=\s*([^,\s]+)(?:\s*,.*)?", spec)
    if match is None:
        sys.exit(f"lowest.py: {requirement!r} has no lower bound to pin; declare one (name>=version)")
    print(f"{match[1]}=={match[2]}")
