"""Entry point for ``python -m glmtasks``."""

from glmtasks.cli import main

if __name__ == "__main__":
    main()
