"""Federated search (横断検索) over configured peer targets (REQUIREMENTS §8)."""

from shoka.federation.routes import federated_search_api, federated_search_page

# Every federated-search handler (API and OPAC page); app.py serves this list.
FEDERATION_ROUTES: list = [federated_search_api, federated_search_page]
