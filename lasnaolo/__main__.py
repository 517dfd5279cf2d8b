import sys

from lasnaolo.cli import main

sys.exit(main())
