"""The Ed25519 key that signs checkpoints. It lives in a file beside the store, never in
the database: whoever can rewrite the database cannot also sign a checkpoint unless they
can read this file too. Made by `monitor init`, shown by `monitor keys`.

The private key file is PKCS#8 PEM, mode 0600 in a 0700 directory; one that others may
read is refused (a leaked key signs any history). A public key is read from PEM or
from the raw 32 bytes in base64 or hex, as `monitor keys` prints them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from monitor.errors import ConfigError


@dataclass(frozen=True)
class PublicKey:
    key: Ed25519PublicKey

    @property
    def raw(self) -> bytes:
        return self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """What a checkpoint names its key by: the first 16 hex digits of sha256(raw)."""
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @property
    def fingerprint(self) -> str:
        return "sha256:" + hashlib.sha256(self.raw).hexdigest()

    def pem(self) -> str:
        return self.key.public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def verifies(self, signature: bytes, message: bytes) -> bool:
        try:
            self.key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    key: Ed25519PrivateKey
    path: Path

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def create_key(path: Path) -> bool:
    """Make the key file if there is none; True when it was made now."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `init` made it a moment ago
        return False
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the checkpoint key: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    return True


def load_signing_key(path: Path) -> SigningKey:
    """The private key, refused when the file is missing, open to others or not a key."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ConfigError(f"{path}: no checkpoint key (run `monitor init` to make one)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the checkpoint key: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{path}: not a regular file, so not a checkpoint key")
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: the checkpoint key is readable by others (mode "
                          f"{stat.S_IMODE(mode):04o}); run `chmod 600 {path}`")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the checkpoint key: {exc.strerror}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"{path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return SigningKey(key, path)


MAX_PUBLIC_KEY = 64 * 1024  # bytes: a PEM public key is about 113


def load_public_key(path: Path) -> PublicKey:
    """A public key from PEM, or the raw 32 bytes in base64 or hex."""
    try:
        # A device or a pipe (/dev/zero, a FIFO) would be read without end.
        if path.exists() and not path.is_file():
            raise ConfigError(f"{path}: not a regular file, so not a public key")
        if path.exists() and path.stat().st_size > MAX_PUBLIC_KEY:
            raise ConfigError(f"{path}: too large to be a public key")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the public key: "
                          f"{exc.strerror or exc}") from None
    key = _parse_public(data)
    if key is None:
        raise ConfigError(f"{path}: not an Ed25519 public key (PEM, or 32 bytes in base64 "
                          "or hex, as `monitor keys` prints)")
    return PublicKey(key)


def _parse_public(data: bytes) -> Ed25519PublicKey | None:
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            return None
        return key if isinstance(key, Ed25519PublicKey) else None
    text = data.strip().decode("ascii", errors="replace")
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return Ed25519PublicKey.from_public_bytes(raw)
    return None
