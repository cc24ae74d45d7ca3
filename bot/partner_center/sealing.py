"""Client secrets sealed at rest with PARTNER_CENTER_KEY (Fernet keys, newest first, so that a
new key can be put in front of the old one and every secret still opens)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr

from bot.errors import UserError

NO_KEY = (
    "PARTNER_CENTER_KEY is not set, so no Partner Center secret can be stored safely: generate "
    'one with `python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"`, put it in the environment or .env, restart, '
    "and connect again"
)


class SealingError(UserError):
    """The key is missing or wrong; the message says what to do."""


def sealer(key: SecretStr | None) -> MultiFernet:
    """The Fernet keys of PARTNER_CENTER_KEY (separated by commas, the first one seals)."""
    text = key.get_secret_value() if key is not None else ""
    keys = [part.strip() for part in text.split(",") if part.strip()]
    if not keys:
        raise SealingError(NO_KEY)
    try:
        return MultiFernet([Fernet(part) for part in keys])
    except ValueError:
        raise SealingError(
            "PARTNER_CENTER_KEY must be Fernet keys (32 bytes in url-safe base64, 44 characters "
            "each) separated by commas"
        ) from None


def seal(keys: MultiFernet, secret: str) -> str:
    """Seals a secret for the database."""
    return keys.encrypt(secret.encode()).decode()


def unseal(keys: MultiFernet, sealed: str) -> str:
    """Opens a sealed secret; a secret sealed with a key no longer listed cannot be opened."""
    try:
        return keys.decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise SealingError(
            "the stored Partner Center secret cannot be opened with PARTNER_CENTER_KEY (was the "
            "key changed without keeping the old one after it?): connect Partner Center again"
        ) from None
