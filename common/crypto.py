"""Encryption of personal data at rest and the keyed hash kept beside it.

Values are encrypted with Fernet (AES-128-CBC + HMAC); several keys may be configured,
newest first, so that keys can be rotated. The keyed hash (HMAC-SHA256 over the normalised
value) lets the database find and deduplicate a value without ever holding it in clear.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet() -> MultiFernet:
    keys = [k for k in settings.FIELD_ENCRYPTION_KEYS if k]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    return MultiFernet([Fernet(k.encode()) for k in keys])


@cache
def _hash_key() -> bytes:
    key = settings.FIELD_HASH_KEY or ""
    if len(key) < 32:
        raise ImproperlyConfigured("FIELD_HASH_KEY must be at least 32 characters.")
    return key.encode()


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key must fail loudly, never show garbage
        raise ImproperlyConfigured("A protected value cannot be decrypted with the keys.") from exc


def keyed_hash(value: str) -> str:
    return hmac.new(_hash_key(), value.encode(), hashlib.sha256).hexdigest()
