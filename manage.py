#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys
from pathlib import Path

import environ


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changemakers.settings.base")
    environ.Env.read_env(Path(__file__).resolve().parent / ".env")
    # A checkout with no secret configured anywhere is a developer's: run its commands in
    # DEBUG on the embedded defaults. Every deployment sets DJANGO_SECRET_KEY, so there DEBUG
    # stays off unless asked for (and seed_demo keeps refusing a well-known password).
    if not os.environ.get("DJANGO_SECRET_KEY"):
        os.environ.setdefault("DJANGO_DEBUG", "true")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
