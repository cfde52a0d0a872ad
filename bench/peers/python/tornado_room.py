"""The seeds' plain-text chat room on Tornado (the framework of the seeds' own room), for the
fan-out benchmark. ws://127.0.0.1:<port>/<room>?name=<name>.
"""
import asyncio
import sys

import tornado.web
import tornado.websocket

rooms: dict[str, set] = {}


class Room(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin):
        return True

    def open(self, *_):
        self.room = self.request.path
        self.name = self.get_argument("name", "guest")
        self.members = rooms.setdefault(self.room, set())
        self.members.add(self)
        self.broadcast(f"Welcome, {self.name} !")

    def on_message(self, message):
        if not isinstance(message, str):
            return
        if message == "quit":
            self.broadcast(f"{self.name} Logout")
            self.members.discard(self)
            self.close(1000)
        elif message.strip():
            self.broadcast(f"{self.name}:{message}")

    def on_close(self):
        if self in self.members:
            self.members.discard(self)
            self.broadcast(f"{self.name} Logout")
        if not self.members:
            rooms.pop(self.room, None)

    def broadcast(self, text):
        for member in list(self.members):
            try:
                member.write_message(text)
            except tornado.websocket.WebSocketClosedError:
                self.members.discard(member)


async def main(port: int):
    app = tornado.web.Application([(r"/.*", Room)], websocket_max_message_size=8192)
    app.listen(port, address="127.0.0.1", backlog=4096)
    print(f"Tornado room on 127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3006))
