"""The `studio` console script: Django's management commands, with `--data-dir` applied early.

`studio up --data-dir DIR` must choose the data directory before settings are imported (the
database, secret key and Redis socket live there), so it is read from argv first.
"""

import os
import sys
from pathlib import Path


def _apply_data_dir(argv: list[str]) -> None:
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--data-dir="):
            value = arg.split("=", 1)[1]
        else:
            continue
        os.environ["STUDIO_DATA_DIR"] = str(Path(value).resolve())
        return


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    _apply_data_dir(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)
