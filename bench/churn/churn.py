# Opens N WebSocket connections to a Herald node (handshake + one subscribe each), holds them,
# closes them all; repeated ROUNDS times. Loopback only.
import asyncio, base64, os, sys, struct
host, port, n, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def frame(payload):
    mask = b'\0\0\0\0'
    return bytes([0x81, 0x80 | len(payload)]) + mask + payload
async def one(i, holders):
    r, w = await asyncio.open_connection(host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    w.write(f"GET /v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    await r.readuntil(b"\r\n\r\n")
    w.write(frame(f'{{"id":1,"op":"subscribe","channel":"churn:c{i % 100}"}}'.encode()))
    await r.read(2)
    holders.append(w)
async def main():
    for rnd in range(rounds):
        holders = []
        sem = asyncio.Semaphore(200)
        async def guarded(i):
            async with sem:
                await one(i, holders)
        await asyncio.gather(*(guarded(i) for i in range(n)))
        print(f"round {rnd}: {len(holders)} open", flush=True)
        for w in holders:
            w.close()
        await asyncio.sleep(3)
asyncio.run(main())
