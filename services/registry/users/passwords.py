"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


class WeakPassword(ValueError):
    pass


def check_policy(password: str, *, min_length: int = 8, max_length: int = 32) -> None:
    """At least 8 characters with an upper-case letter, a lower-case letter and a digit (the seeds' rule)."""
    problems = []
    if not min_length <= len(password) <= max_length:
        problems.append(f"between {min_length} and {max_length} characters")
    if not re.search(r"[A-Z]", password):
        problems.append("an upper-case letter")
    if not re.search(r"[a-z]", password):
        problems.append("a lower-case letter")
    if not re.search(r"[0-9]", password):
        problems.append("a digit")
    if problems:
        raise WeakPassword("the password needs " + ", ".join(problems))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
