"""SRU 1.2 / 2.0 with CQL, and the OpenSearch description (REQUIREMENTS §8)."""

# Every SRU and OpenSearch handler; app.py serves this list.
SRU_ROUTES: list = []
