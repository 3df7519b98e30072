"""`python -m hepilot.agent` = the `hepilot` command."""
from hepilot.agent.cli import main

main()
