"""The asyncio side of sockets: stream protocols, inproc links, binds and connects."""
