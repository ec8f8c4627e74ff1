"""Statement batches: several prepared statements sent to PostgreSQL as one message, for the counter's hot path.

A counter transaction is a handful of short statements in two round trips (locks and reads; writes and COMMIT).
Sent through psycopg's pipeline mode, every statement costs a trip through the event loop and a send of its own
in the client, and the extended protocol's per-message work in the server: a checkout's reads took 0.46 ms of
client and 0.37 ms of server CPU. Sent as one simple-protocol message of EXECUTEs of statements prepared once per
connection, the same reads take 0.24 and 0.18 ms (loadtests/BENCHMARKS.md, "Counter statements").

Parameters are bound on the client by psycopg's literal quoting (ClientCursor), which escapes every value, and
each EXECUTE coerces them to the statement's declared types. A batch that fails leaves its transaction aborted:
the caller rolls back (`counter_transaction` in shoka.circulation.desk does).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence

from psycopg import AsyncClientCursor, AsyncConnection


class PreparedStatements:
    """Named statements (SQL with $1, $2 …), prepared on a connection the first time it runs one of them."""

    def __init__(self, statements: Mapping[str, str]) -> None:
        self.statements = dict(statements)
        self._prepared_on: weakref.WeakSet[AsyncConnection] = weakref.WeakSet()

    async def prepare_on(self, connection: AsyncConnection) -> None:
        """PREPAREs every statement, in one message, on a connection that has not got them yet. Prepared
        statements live as long as the session, whatever its transactions do; but psycopg, once it has prepared
        statements of its own on a connection (after prepare_threshold executions of one query), deallocates
        all of the session's after every ROLLBACK. So psycopg's automatic preparing is turned off here for good
        (the service's pools do so from the start), and what it prepared so far is deallocated."""
        if connection in self._prepared_on:
            return
        if connection.prepare_threshold is not None:
            connection.prepare_threshold = None
            # A ROLLBACK makes psycopg forget (and deallocate) the statements it prepared itself.
            await connection.execute("BEGIN")
            await connection.rollback()
        await AsyncClientCursor(connection).execute(
            "; ".join(f"PREPARE {name} AS {sql}" for name, sql in self.statements.items()))
        self._prepared_on.add(connection)


Step = tuple[str, Sequence[object]]  # (statement name, parameters)


async def run_batch(connection: AsyncConnection, steps: Sequence[Step], *, begin: bool = False,
                    commit: bool = False) -> list[list[tuple]]:
    """Executes the steps as one message, optionally opening the transaction before them and committing it
    after them; returns each step's rows, in order ([] for a step that returns none)."""
    text = ["BEGIN"] if begin else []
    parameters: list[object] = []
    for name, step_parameters in steps:
        text.append(f"EXECUTE {name}({', '.join(['%s'] * len(step_parameters))})" if step_parameters
                    else f"EXECUTE {name}")
        parameters.extend(step_parameters)
    if commit:
        text.append("COMMIT")
    cursor = AsyncClientCursor(connection)
    await cursor.execute("; ".join(text), parameters)
    if begin:
        cursor.nextset()
    rows: list[list[tuple]] = []
    for _ in steps:
        rows.append(await cursor.fetchall() if cursor.description is not None else [])
        cursor.nextset()
    return rows
