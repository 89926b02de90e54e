"""`python -m formulate` runs the command line."""

from formulate.cli import main

main()
