"""The topology's small round-robin TCP front, and a self-signed pair for the Caddy front.

.venv/bin/python -m bench.front PORT BACKEND_PORT,BACKEND_PORT,...
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path


async def front(port: int, backends: list[int]) -> None:
    """Accept on ``port``; pipe each connection to the next backend that accepts one."""
    turn = itertools.cycle(range(len(backends)))

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in backends:
            backend = backends[next(turn)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", backend)
                break
            except OSError:
                continue  # that app is down: the next one
        else:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


def self_signed(folder: Path) -> None:
    """``fullchain.pem`` and ``privkey.pem`` for 127.0.0.1, valid two days (the Caddy front)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


if __name__ == "__main__":
    asyncio.run(front(int(sys.argv[1]), [int(p) for p in sys.argv[2].split(",")]))
