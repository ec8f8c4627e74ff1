"""SIP2 framing: one message per CR-terminated line, and the optional error-detection trailer.

A terminal that uses error detection ends each message with `AY<sequence digit>AZ<4 hex digits>`; the
checksum is the two's complement of the 16-bit sum of every byte up to and including `AZ`. The sum is taken
over the bytes on the wire, in the terminal's character set, so framing works on bytes and leaves decoding
to the message parser. The trailer's characters are ASCII in every supported character set (UTF-8, IBM850,
Shift_JIS), and CR never occurs inside a Shift_JIS character, so splitting on CR is safe for all of them.
"""

from __future__ import annotations

import re

import msgspec

MESSAGE_TERMINATOR = b"\r"
# The trailer at the very end of a frame: sequence number and/or checksum (either may appear alone).
_TRAILER = re.compile(rb"(?:AY([0-9]))?(?:AZ([0-9A-Fa-f]{4}))?\Z")


class Frame(msgspec.Struct, frozen=True):
    """One received message, split from its error-detection trailer."""

    body: bytes  # the message without trailer and terminator
    sequence: str | None  # the AY digit, echoed in the response
    has_checksum: bool
    checksum_valid: bool  # True when there is no checksum to check


def checksum(data: bytes) -> str:
    """The SIP2 checksum of `data` (everything up to and including `AZ`): four upper-case hex digits."""
    return f"{-sum(data) & 0xFFFF:04X}"


def split_frame(raw: bytes) -> Frame:
    """Splits a received line (terminator already removed) into body and trailer. Never raises."""
    line = raw.rstrip(b"\r\n").lstrip(b"\n\x00")
    match = _TRAILER.search(line)
    assert match is not None  # the pattern can match the empty string at the end
    sequence, sent_checksum = match.group(1), match.group(2)
    if sequence is None and sent_checksum is None:
        return Frame(body=line, sequence=None, has_checksum=False, checksum_valid=True)
    body = line[:match.start()]
    if sent_checksum is None:
        return Frame(body=body, sequence=sequence.decode(), has_checksum=False, checksum_valid=True)
    covered = line[:len(line) - 4]  # every byte up to and including "AZ"
    valid = int(sent_checksum, 16) == int(checksum(covered), 16)
    return Frame(body=body, sequence=sequence.decode() if sequence else None, has_checksum=True,
                 checksum_valid=valid)


def seal(body: bytes, *, sequence: str | None, with_checksum: bool) -> bytes:
    """A message ready to send: the body, the trailer the terminal asked for (by sending one), and CR."""
    message = body
    if sequence is not None:
        message += b"AY" + sequence.encode("ascii")
    if with_checksum:
        message += b"AZ"
        message += checksum(message).encode("ascii")
    return message + MESSAGE_TERMINATOR
