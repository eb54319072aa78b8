"""``zmq.log.handlers``: a logging handler that publishes records on a PUB socket.

Each record goes out as two frames, ``[topic, text]``. The topic is dotted:
the handler's ``root_topic`` (if any), the level name, then the record's own sub-topic when
its message starts with ``"sub.topic::"``, so a SUB socket can pick records by prefix
(``b"app.ERROR"``). The text is the record formatted by the formatter for its level, UTF-8.
These are pyzmq's topics and default formats, so pyzmq log subscribers read them unchanged.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from zmtp.constants import SocketType
from zmtp.context import Context
from zmtp.socket import Socket

__all__ = ["TOPIC_DELIM", "PUBHandler", "TopicLogger"]

#: Separates a record's sub-topic from its message: ``log.info("db.slow::query took 3s")``.
TOPIC_DELIM = "::"

_DETAILED = "%(levelname)s %(filename)s:%(lineno)d - %(message)s\n"


def _default_formatters() -> dict[int, logging.Formatter | None]:
    """Return pyzmq's per-level formats: INFO bare, ERROR with the exception, the rest located."""
    return {
        logging.DEBUG: logging.Formatter(_DETAILED),
        logging.INFO: logging.Formatter("%(message)s\n"),
        logging.WARNING: logging.Formatter(_DETAILED),
        logging.ERROR: logging.Formatter(
            "%(levelname)s %(filename)s:%(lineno)d - %(message)s - %(exc_info)s\n"
        ),
        logging.CRITICAL: logging.Formatter(_DETAILED),
    }


class PUBHandler(logging.Handler):
    """Publish log records on a PUB socket: one given, or one bound to an address.

    ``PUBHandler(sock)`` uses ``sock`` (and its context); ``PUBHandler("tcp://*:5555")``
    binds a new PUB socket in ``context`` (a new Context if None). ``formatters`` maps a
    level to its formatter; a level missing from it uses logging's default format.
    """

    formatters: dict[int, logging.Formatter | None]
    ctx: Context
    socket: Socket

    def __init__(
        self,
        interface_or_socket: str | Socket,
        context: Context | None = None,
        root_topic: str = "",
    ) -> None:
        super().__init__()
        self.root_topic = root_topic
        self.formatters = _default_formatters()
        if isinstance(interface_or_socket, Socket):
            self.socket = interface_or_socket
            self.ctx = self.socket.context
        else:
            self.ctx = context if context is not None else Context()
            self.socket = self.ctx.socket(SocketType.PUB)
            self.socket.bind(interface_or_socket)

    @property
    def root_topic(self) -> str:
        """The first part of every topic ('' for none: topics start with the level name)."""
        return self._root_topic

    @root_topic.setter
    def root_topic(self, value: str | bytes) -> None:
        self.setRootTopic(value)

    def setRootTopic(self, root_topic: str | bytes) -> None:
        """Set :attr:`root_topic` (bytes are decoded as UTF-8)."""
        self._root_topic = (
            root_topic.decode("utf8") if isinstance(root_topic, bytes) else root_topic
        )

    def setFormatter(self, fmt: logging.Formatter | None, level: int = logging.NOTSET) -> None:
        """Use ``fmt`` for ``level``, or for every level when ``level`` is NOTSET."""
        if level == logging.NOTSET:
            self.formatters = dict.fromkeys(self.formatters, fmt)
        else:
            self.formatters[level] = fmt

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` with the formatter for its level."""
        formatter = self.formatters.get(record.levelno)
        if formatter is None:
            return super().format(record)
        return formatter.format(record)

    def emit(self, record: logging.LogRecord) -> None:
        """Send ``[topic, formatted text]`` on the socket."""
        subtopic, delimiter, message = str(record.msg).partition(TOPIC_DELIM)
        if delimiter:
            record = copy.copy(record)  # the record is shared with the logger's other handlers
            record.msg = message
        else:
            subtopic = ""
        try:
            text = self.format(record).encode("utf8")
        except Exception:  # logging's contract: report through handleError, never raise
            self.handleError(record)
            return
        parts = [part for part in (self.root_topic, record.levelname, subtopic) if part]
        self.socket.send_multipart([".".join(parts).encode("utf8", "replace"), text])


class TopicLogger(logging.Logger):
    """A Logger whose methods take a topic before the message: ``log.info("db", "slow")``.

    The topic reaches :class:`PUBHandler` as the record's sub-topic.
    """

    def log(  # type: ignore[override]
        self, level: int, topic: str, msg: str, *args: Any, **kwargs: Any
    ) -> None:
        """Log ``msg % args`` at ``level`` under ``topic``."""
        super().log(level, f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def debug(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at DEBUG under ``topic``."""
        super().debug(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def info(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at INFO under ``topic``."""
        super().info(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def warning(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at WARNING under ``topic``."""
        super().warning(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def error(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at ERROR under ``topic``."""
        super().error(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def exception(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at ERROR under ``topic``, with the exception being handled."""
        # Not super().exception(): it calls self.error, which here wants a topic first.
        kwargs.setdefault("exc_info", True)
        super().error(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    def critical(self, topic: str, msg: str, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Log at CRITICAL under ``topic``."""
        super().critical(f"{topic}{TOPIC_DELIM}{msg}", *args, **kwargs)

    fatal = critical  # type: ignore[assignment]
