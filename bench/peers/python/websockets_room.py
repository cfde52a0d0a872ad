"""The seeds' plain-text chat room on Python's `websockets`, for the fan-out benchmark.

ws://127.0.0.1:<port>/<room>?name=<name>. Broadcasts use websockets.broadcast, which frames a
message once and writes it to every member without waiting for slow ones.
"""
import asyncio
import sys
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import broadcast, serve

rooms: dict[str, set] = {}


async def room(ws):
    url = urlsplit(ws.request.path)
    name = parse_qs(url.query).get("name", ["guest"])[0]
    members = rooms.setdefault(url.path, set())
    members.add(ws)
    broadcast(members, f"Welcome, {name} !")
    try:
        async for text in ws:
            if not isinstance(text, str):
                continue
            if text == "quit":
                broadcast(members, f"{name} Logout")
                members.discard(ws)
                await ws.close(1000)
                return
            if text.strip():
                broadcast(members, f"{name}:{text}")
    finally:
        if ws in members:
            members.discard(ws)
            broadcast(members, f"{name} Logout")
        if not members:
            rooms.pop(url.path, None)


async def main(port: int):
    async with serve(room, "127.0.0.1", port, compression=None, max_size=8192, backlog=4096):
        print(f"websockets room on 127.0.0.1:{port}", flush=True)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3005))
