"""Storage adapters behind the ``LogStore`` port."""

from server.store.base import LogStore, StoreError
from server.store.memory import MemoryStore
from server.store.sqlite import SQLiteStore

__all__ = ["LogStore", "MemoryStore", "SQLiteStore", "StoreError"]
