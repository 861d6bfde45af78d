"""``python -m acceldse``: the same command line as the ``acceldse`` script."""

import sys

from acceldse.cli import main

sys.exit(main())
