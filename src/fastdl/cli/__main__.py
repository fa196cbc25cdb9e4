"""``python -m fastdl.cli``: the same as the ``fastdl`` command."""
import sys

from . import main

sys.exit(main())
