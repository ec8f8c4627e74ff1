"""Password hashes migrated from a previous system (REQUIREMENTS §10), verified once and then replaced.

patron_credential.hash_scheme names the digest (legacy_md5, legacy_sha1, legacy_sha256); password_hash holds
either the hexadecimal digest of the UTF-8 password, or `SALT$HEX`, the digest of SALT followed by the password
(both UTF-8). Hex digits may be upper or lower case. The first successful login stores an argon2id hash instead.
"""

from __future__ import annotations

import hashlib
import hmac

LEGACY_DIGESTS = {"legacy_md5": "md5", "legacy_sha1": "sha1", "legacy_sha256": "sha256"}


def verify_legacy_password(scheme: str, stored_hash: str, password: str) -> bool:
    algorithm = LEGACY_DIGESTS.get(scheme)
    if algorithm is None:
        return False
    salt, separator, digest_text = stored_hash.rpartition("$")
    if not separator:
        salt = ""
    computed = hashlib.new(algorithm, (salt + password).encode("utf-8")).hexdigest()
    return hmac.compare_digest(computed, digest_text.strip().lower())
