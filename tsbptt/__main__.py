"""``python -m tsbptt``: the ``tsbptt`` command (see :mod:`tsbptt.cli`)."""
from .cli import main

raise SystemExit(main())
