"""Offline sandbox Bot API: the real bot talks to it over HTTP while tests act as users."""

from sandbox.actors import SandboxChat, SandboxUser
from sandbox.models import (
    ApiCall,
    Button,
    CallbackAnswer,
    Fault,
    SandboxError,
    SentMessage,
    StoredFile,
)
from sandbox.rules import NOT_MODIFIED
from sandbox.server import SandboxServer

__all__ = [
    "NOT_MODIFIED",
    "ApiCall",
    "Button",
    "CallbackAnswer",
    "Fault",
    "SandboxChat",
    "SandboxError",
    "SandboxServer",
    "SandboxUser",
    "SentMessage",
    "StoredFile",
]
