"""``python -m linerisk`` runs the command line."""

from linerisk.cli import main

main()
