#!/usr/bin/env python3
"""The local ECS node (see ecsnode/ and `ecservice.py --help`); the name ECS's own docs run."""

import sys

from ecsnode.main import main

if __name__ == "__main__":
    sys.exit(main())
