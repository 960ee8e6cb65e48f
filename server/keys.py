"""Typed keys for what the aiohttp application holds."""

from aiohttp import web

from server.boards import Boards
from server.clock import Clock
from server.config import Settings
from server.credentials import Credentials
from server.dispatcher import Dispatcher
from server.gateway import Gateway
from server.hub import Hub
from server.metrics import Metrics
from server.sfu.videorooms import VideoRooms
from server.store import LogStore
from server.tokens import Tokens

SETTINGS = web.AppKey("settings", Settings)
CREDENTIALS = web.AppKey("credentials", Credentials)
HUB = web.AppKey("hub", Hub)
TOKENS = web.AppKey("tokens", Tokens)
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", LogStore)
GATEWAY = web.AppKey("gateway", Gateway)
BOARDS = web.AppKey("boards", Boards)
VIDEO = web.AppKey("video", VideoRooms)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
CLOCK = web.AppKey("clock", Clock)
