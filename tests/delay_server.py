"""A server that answers every request with 204 after the milliseconds its path names: /delay/MS.

The nginx stand-in (tests/nginx_support.py) asks it before answering a location it
must slow down (`auth_request /delay/MS`), so a test can make chosen endpoints of a
target slower on purpose while nginx still checks credentials and sends the real
answer. asyncio, standard library only, keep-alive: a sleeping request costs no CPU.

    python -m tests.delay_server PORT
"""

import asyncio
import re
import sys

REQUEST_LINE = re.compile(rb"^[A-Z]+ /delay/(\d+(?:\.\d+)?)[ ?]")


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Each request on the connection: wait its delay, then 204 (400 for another path)."""
    try:
        while head := await reader.readuntil(b"\r\n\r\n"):
            found = REQUEST_LINE.match(head)
            if found:
                await asyncio.sleep(float(found.group(1)) / 1000)
            status = b"204 No Content" if found else b"400 Bad Request"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(port: int) -> None:
    server = await asyncio.start_server(answer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
