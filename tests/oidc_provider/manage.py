"""`python -m tests.oidc_provider.manage <command>`, with IDP_DIR and IDP_ISSUER set."""

import os
import sys

from django.core.management import execute_from_command_line

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    execute_from_command_line(sys.argv)
