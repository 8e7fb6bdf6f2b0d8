import sys

from placecode.cli import main

sys.exit(main())
