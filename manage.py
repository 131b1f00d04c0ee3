#!/usr/bin/env python
"""Django's command-line utility; the same as the `studio` console script."""

from studio.cli import main

if __name__ == "__main__":
    main()
