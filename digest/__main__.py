"""`python -m digest` is the `digest` command."""

from .cli import main

main()
