"""Errors as clients see them: one mapping from exceptions to status, code and message."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from shoka.circulation.replica import ReplicaBehind
from shoka.errors import EXCEPTION_HANDLERS


@get("/api/v1/behind", sync_to_thread=False)
def behind() -> None:
    raise ReplicaBehind("貸出データの反映が遅れています。")


def test_a_replica_behind_the_database_answers_503_with_retry_after():
    """A counter request whose replica could not catch up in time wrote nothing and may be sent again: a 503
    that says when, not a 500 that reads as a fault."""
    with TestClient(Litestar(route_handlers=[behind], exception_handlers=EXCEPTION_HANDLERS)) as client:
        answer = client.get("/api/v1/behind")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
    assert answer.json() == {"code": "replica_behind", "message": "貸出データの反映が遅れています。"}
