from dataclasses import dataclass

from shared.db.connection import connect
from shared.identity import POSTGRES_SCOPE


@dataclass
class _Token:
    token: str
    expires_on: int = 0


class _RecordingCredential:
    """Stands in for the managed identity, which cannot exist outside Azure."""

    def __init__(self) -> None:
        self.scopes: list[str] = []

    def get_token(self, *scopes: str) -> _Token:
        self.scopes.extend(scopes)
        return _Token(f"token-{len(self.scopes)}")


def test_password_auth_uses_the_url_as_is(settings):
    with connect(settings) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("cratedigger",)
        assert not conn.info.password


def test_entra_auth_sends_a_fresh_token_per_connection(settings):
    entra = settings.model_copy(update={"database_auth": "entra"})
    credential = _RecordingCredential()
    with (
        connect(entra, credential=credential, migrate=False) as first,
        connect(entra, credential=credential, migrate=False) as second,
    ):
        assert first.info.password == "token-1"
        assert second.info.password == "token-2"
        assert first.execute("SELECT 1").fetchone() == (1,)
    assert credential.scopes == [POSTGRES_SCOPE, POSTGRES_SCOPE]


def test_connections_work_behind_transaction_pooling(settings):
    with connect(settings) as conn:
        assert conn.prepare_threshold is None
