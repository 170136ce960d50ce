"""WSGI entry point: ``gunicorn wsgi:app`` and ``flask --app wsgi …``."""

import sys

from partnership_api import create_app
from partnership_api.settings import ConfigError

try:
    app = create_app()
except ConfigError as error:
    print(f"partnership-api: refusing to start: {error}", file=sys.stderr)
    raise SystemExit(2) from None
