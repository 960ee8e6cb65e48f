"""Adapters: aiohttp, Socket.IO, storage and clocks around the pure core."""
