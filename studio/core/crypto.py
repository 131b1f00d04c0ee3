"""Encryption for what the platform must read back: secrets at rest (API secret keys), and
anything else sealed under the encryption key, each purpose with a key of its own."""

import base64
from functools import cache

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

AT_REST = b"studio secrets at rest"


@cache
def _derived(key_material: str, purpose: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        key_material.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def fernet(purpose: bytes) -> Fernet:
    """A Fernet under a key derived from the encryption key for `purpose` alone: what is
    sealed for one purpose never opens for another."""
    return _derived(settings.ENCRYPTION_KEY, purpose)


def encrypt(plaintext: str) -> str:
    return fernet(AT_REST).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    return fernet(AT_REST).decrypt(ciphertext.encode()).decode()
