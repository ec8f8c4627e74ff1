"""Federated search (横断検索) over configured peer targets (REQUIREMENTS §8)."""

# Every federated-search handler (API and OPAC page); app.py serves this list.
FEDERATION_ROUTES: list = []
