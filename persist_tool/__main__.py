"""Run ``python -m persist_tool``."""

from persist_tool.cli import main

main()
