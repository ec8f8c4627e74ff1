"""SRU 1.2 / 2.0 with CQL, and the OpenSearch description (REQUIREMENTS §8)."""

from shoka.sru.endpoint import sru_endpoint
from shoka.sru.opensearch import opensearch_description, opensearch_rss

# Every SRU and OpenSearch handler; app.py serves this list.
SRU_ROUTES: list = [sru_endpoint, opensearch_description, opensearch_rss]
