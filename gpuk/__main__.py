"""``python -m gpuk info``: see :mod:`gpuk.info`."""

import sys

from gpuk.info import main

sys.exit(main())
