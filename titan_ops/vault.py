"""Ansible Vault: the ``$ANSIBLE_VAULT;1.1``/``1.2;AES256`` format, so that files and ``!vault`` values
made by ``ansible-vault`` decrypt here, and what titan-ops encrypts decrypts there. (``cryptography``
is imported only when something is encrypted or decrypted.)

The payload, as Ansible documents it: a 32-byte salt; PBKDF2-HMAC-SHA256 of the password over the
salt, 10000 iterations, gives 80 bytes: an AES-256 key, an HMAC-SHA256 key and a 16-byte counter
block. The plaintext, PKCS#7-padded to 16 bytes, is encrypted with AES-256 in CTR mode; the HMAC is
over the ciphertext. The body ``hex(salt) \\n hex(hmac) \\n hex(ciphertext)`` is hex-encoded again and
cut into lines of 80 characters under the header (1.2 adds the vault id to the header).

Loaders read a ``!vault`` value as :class:`Encrypted` and open it with :func:`open_values` when a
:class:`Vault` is given; a value no password was given for stays encrypted and fails where it is used,
as in Ansible. Every value opened is a secret from then on: :meth:`Vault.reveal` hands it to the
callbacks in ``on_reveal`` (the run's redactor), so it is masked in every output.
"""

from __future__ import annotations

import hmac
import os
import subprocess
import threading
from binascii import Error as BinasciiError
from binascii import hexlify, unhexlify
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any, NoReturn

from titan_ops.errors import Location, TitanOpsError

HEADER = "$ANSIBLE_VAULT"
_ITERATIONS = 10000
_KEY_BYTES = 32
_IV_BYTES = 16
_LINE = 80
DEFAULT_ID = "default"


class VaultError(TitanOpsError):
    """A vault value cannot be decrypted (no password given, wrong password, damaged data)."""


@dataclass(frozen=True)
class VaultSecret:
    """One vault password and the vault id it is for (``default`` when none was named)."""

    vault_id: str
    password: bytes = field(repr=False)


class Encrypted:
    """A ``!vault`` value not opened (no vault password was given): using it is an error."""

    __slots__ = ("text", "location")

    def __init__(self, text: str, location: Location | None = None):
        self.text = text
        self.location = location

    def unopened(self) -> NoReturn:
        """Raise the VaultError of using this value."""
        raise VaultError("a vault-encrypted value is used, and no vault password was given "
                         "(--vault-password-file, --ask-vault-pass or --vault-id)", self.location)

    def __str__(self) -> str:
        self.unopened()

    def __repr__(self) -> str:
        return f"Encrypted({self.location})"


def is_encrypted(data: str | bytes) -> bool:
    """True when ``data`` is vault-encrypted text (it starts with the vault header)."""
    head = data.lstrip()[:len(HEADER)]
    return (head.decode("ascii", "replace") if isinstance(head, bytes) else head) == HEADER


def encrypt(plaintext: str | bytes, secret: VaultSecret, salt: bytes | None = None) -> str:
    """``plaintext`` as vault text (format 1.2 with the secret's id unless it is the default id)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    data = plaintext.encode() if isinstance(plaintext, str) else plaintext
    salt = salt or os.urandom(_KEY_BYTES)
    cipher_key, hmac_key, counter = _keys(secret.password, salt)
    padder = padding.PKCS7(algorithms.AES.block_size).padder()
    padded = padder.update(data) + padder.finalize()
    encryptor = Cipher(algorithms.AES(cipher_key), modes.CTR(counter)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    signature = hmac.new(hmac_key, ciphertext, sha256).hexdigest().encode()
    body = hexlify(hexlify(salt) + b"\n" + signature + b"\n" + hexlify(ciphertext)).decode()
    header = (f"{HEADER};1.1;AES256" if secret.vault_id == DEFAULT_ID
              else f"{HEADER};1.2;AES256;{secret.vault_id}")
    return "\n".join([header, *(body[index:index + _LINE] for index in range(0, len(body), _LINE))]) + "\n"


def _keys(password: bytes, salt: bytes) -> tuple[bytes, bytes, bytes]:
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    derived = PBKDF2HMAC(algorithm=SHA256(), length=2 * _KEY_BYTES + _IV_BYTES, salt=salt,
                         iterations=_ITERATIONS).derive(password)
    return derived[:_KEY_BYTES], derived[_KEY_BYTES:2 * _KEY_BYTES], derived[2 * _KEY_BYTES:]


def _parse(text: str, location: Location | None) -> tuple[str | None, bytes, bytes, bytes]:
    """The vault id named in the header (or None), the salt, the HMAC (hex) and the ciphertext."""
    lines = text.strip().splitlines()
    fields = lines[0].strip().split(";")
    if fields[0] != HEADER or len(fields) < 3 or fields[1] not in ("1.1", "1.2") or fields[2] != "AES256":
        raise VaultError(f"not a vault format titan-ops reads: {lines[0].strip()!r} (1.1 or 1.2, AES256)",
                         location)
    vault_id = fields[3] if fields[1] == "1.2" and len(fields) > 3 else None
    try:
        salt, signature, ciphertext = unhexlify("".join(line.strip() for line in lines[1:])).split(b"\n", 2)
        return vault_id, unhexlify(salt), signature, unhexlify(ciphertext)
    except (ValueError, BinasciiError):
        raise VaultError("the vault data is damaged (not the hex ansible-vault writes)", location) from None


class Vault:
    """The vault passwords of a run, and what they have decrypted."""

    def __init__(self, secrets: Iterable[VaultSecret] = ()):
        self.secrets = list(secrets)
        self.on_reveal: list[Callable[[Iterable[str]], None]] = []
        self._revealed: set[str] = set()
        self._lock = threading.Lock()

    def decrypt(self, text: str | bytes, where: str = "") -> bytes:
        """The plaintext of vault ``text``; VaultError (located at ``where``) when no password opens it."""
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        text = text.decode("ascii", "replace") if isinstance(text, bytes) else text
        location = Location(where) if where else None
        if not self.secrets:
            raise VaultError("vault-encrypted data, and no vault password was given "
                             "(--vault-password-file, --ask-vault-pass or --vault-id)", location)
        vault_id, salt, signature, ciphertext = _parse(text, location)
        expected = _unhex(signature, location)
        ordered = sorted(self.secrets, key=lambda secret: secret.vault_id != vault_id)
        for secret in ordered:
            cipher_key, hmac_key, counter = _keys(secret.password, salt)
            if not hmac.compare_digest(hmac.new(hmac_key, ciphertext, sha256).digest(), expected):
                continue
            decryptor = Cipher(algorithms.AES(cipher_key), modes.CTR(counter)).decryptor()
            padded = decryptor.update(ciphertext) + decryptor.finalize()
            unpadder = padding.PKCS7(algorithms.AES.block_size).unpadder()
            try:
                return unpadder.update(padded) + unpadder.finalize()
            except ValueError:
                raise VaultError("the vault data is damaged (bad padding)", location) from None
        raise VaultError("no vault password given opens this vault data"
                         + (f" (vault id '{vault_id}')" if vault_id else ""), location)


    @property
    def revealed(self) -> set[str]:
        """Every value decrypted so far (as text)."""
        with self._lock:
            return set(self._revealed)

    def reveal(self, values: Iterable[str]) -> None:
        """``values`` were decrypted: they are secrets from now on."""
        found = {text for value in values for text in (str(value), str(value).strip())} - {""}
        with self._lock:
            self._revealed |= found
            listeners = list(self.on_reveal)
        for listener in listeners:
            listener(found)


def open_file(data: str | bytes, where: str, vault: Vault | None) -> bytes:
    """The content of a wholly vault-encrypted file, a revealed secret; VaultError naming ``where`` when
    it cannot be opened."""
    if vault is None:
        raise VaultError("the file is vault-encrypted, and no vault password was given "
                         "(--vault-password-file, --ask-vault-pass or --vault-id)", Location(where))
    content = vault.decrypt(data, where)
    vault.reveal([content.decode("utf-8", "replace")])
    return content


def decrypt_file(text: str, where: str, vault: Vault | None) -> str:
    """:func:`open_file` as UTF-8 text."""
    try:
        return open_file(text, where, vault).decode("utf-8")
    except UnicodeDecodeError:
        raise VaultError("the decrypted vault data is not UTF-8 text", Location(where)) from None


def open_values(value: Any, vault: Vault | None) -> Any:
    """``value`` with every :class:`Encrypted` inside it opened (in place in mappings and lists, which
    keep their type), each a revealed secret; without a vault they stay :class:`Encrypted`."""
    if vault is None:
        return value
    if isinstance(value, Encrypted):
        where = str(value.location or "")
        try:
            text = vault.decrypt(value.text, where).decode("utf-8")
        except UnicodeDecodeError:
            raise VaultError("the decrypted vault value is not UTF-8 text", value.location) from None
        vault.reveal([text])
        return text
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = open_values(item, vault)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = open_values(item, vault)
    return value


def reveal_leaves(value: Any, vault: Vault) -> None:
    """Every text and number of a decrypted document is a secret (a wholly encrypted vars file)."""
    if isinstance(value, dict):
        for item in value.values():
            reveal_leaves(item, vault)
    elif isinstance(value, list):
        for item in value:
            reveal_leaves(item, vault)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        vault.reveal([str(value)])


def _unhex(signature: bytes, location: Location | None) -> bytes:
    try:
        return unhexlify(signature)
    except (ValueError, BinasciiError):
        raise VaultError("the vault data is damaged (not the hex ansible-vault writes)", location) from None


def read_secret(source: str, vault_id: str = DEFAULT_ID,
                prompt: Callable[[str], str] | None = None) -> VaultSecret:
    """The password from ``source``: ``prompt`` (asked with ``prompt``), an executable file (its output,
    as Ansible runs password scripts) or a file (its first line)."""
    if source == "prompt":
        if prompt is None:
            raise VaultError("a vault password prompt needs a terminal")
        return VaultSecret(vault_id, prompt(f"Vault password ({vault_id}): " if vault_id != DEFAULT_ID
                                            else "Vault password: ").encode())
    path = os.path.expanduser(source)
    if not os.path.isfile(path):
        raise VaultError(f"the vault password file {source} does not exist")
    if os.access(path, os.X_OK):
        done = subprocess.run([path] + (["--vault-id", vault_id] if vault_id != DEFAULT_ID else []),
                              capture_output=True, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise VaultError(f"the vault password script {source} failed ({done.returncode}): "
                             f"{done.stderr.decode(errors='replace').strip()}")
        password = done.stdout
    else:
        with open(path, "rb") as handle:
            password = handle.read()
    password = password.strip(b"\r\n")
    if not password:
        raise VaultError(f"the vault password file {source} is empty")
    return VaultSecret(vault_id, password)


def parse_vault_id(text: str) -> tuple[str, str]:
    """``label@source`` -> (label, source); a bare source has the default id."""
    label, separator, source = text.partition("@")
    return (label, source) if separator else (DEFAULT_ID, text)
