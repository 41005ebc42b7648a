"""A small local stand-in for `func start`: runs `function_app.app` with the host's semantics.

HTTP triggers are served under the route prefix with their methods and auth levels, queue triggers
poll Azurite (base64 messages, batches, visibility timeout, dequeue count, `<queue>-poison`), timer
triggers fire on their NCRONTAB schedule. Development tooling only; production runs on Azure
Functions.
"""

from tests.support.funchost.host import LocalFunctionHost

__all__ = ["LocalFunctionHost"]
