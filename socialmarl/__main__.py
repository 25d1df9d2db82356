"""``python -m socialmarl``: the command line (see :mod:`socialmarl.apps.cli`)."""

from socialmarl.apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
