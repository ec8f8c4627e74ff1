"""Circulation: the counter's checkout, checkin and renewal, holds, and the engine's loan-state replica.

Every decision is the engine's (rules, calendars, limits, hold queues live in Rust, once); every change is
committed in PostgreSQL in one transaction — row locks, the one-open-loan constraint, an operation-log entry
and an outbox event — before the caller gets an answer, and then applied to this process's engine.
"""
