"""The catalogue: bibliographic records, their import from MARC21 and Aozora Bunko, and ISBNs.

The modules here are pure: they read bytes and return typed records (msgspec Structs) or reports of
what could not be read. Persisting them in PostgreSQL and indexing them is the service's job.
"""
