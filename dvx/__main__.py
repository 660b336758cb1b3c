"""``python -m dvx`` runs the command line."""

from dvx.cli import main

if __name__ == "__main__":
    main()
