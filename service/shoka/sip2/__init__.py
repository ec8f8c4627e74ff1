"""SIP2 (3M Standard Interchange Protocol 2.00) for self-check machines and IC gates (REQUIREMENTS §8,
SIP2.md): framing and checksums (framing.py), requests and responses (requests.py, responses.py), the
per-connection state machine (session.py), one module per group of messages, the asyncio TCP server
(server.py) and the child process `shoka serve` keeps running (supervisor.py)."""
