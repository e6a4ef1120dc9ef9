import sys

from jaxrnn.cli import run

if __name__ == "__main__":
    sys.exit(run())
