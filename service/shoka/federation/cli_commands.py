"""`shoka peers add|remove|list`: managing federated-search targets from the command line."""

from __future__ import annotations

import argparse


def add_peer_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `peers` command group to the `shoka` parser."""
