"""``python -m molattr`` runs the command line."""
from molattr.cli import main

main()
