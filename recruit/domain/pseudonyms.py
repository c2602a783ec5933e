"""Random pseudonyms: candidacy codes coordinators see and per-answer tokens reviewers see."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: codes are read aloud and typed from printed letters.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# 31⁶ ≈ 8.9·10⁸ codes (≈29.7 bits): short enough to say on the phone. Collisions are
# possible (about 5 % somewhere among 10,000 codes), so the database column is unique and the
# caller draws again on a clash.
_CODE_RE = re.compile(f"[{CODE_ALPHABET}]{{2}}-[{CODE_ALPHABET}]{{4}}")


def new_candidacy_code() -> str:
    """Draw a random candidacy code such as ``K7-QX3M``."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    return f"{chars[:2]}-{chars[2:]}"


def new_answer_token() -> str:
    """Draw a random 128-bit, URL-safe token that names one answer to its reviewers."""
    return secrets.token_urlsafe(16)


def is_candidacy_code(value: str) -> bool:
    """Tell whether a string has the exact shape of a candidacy code."""
    return _CODE_RE.fullmatch(value) is not None
