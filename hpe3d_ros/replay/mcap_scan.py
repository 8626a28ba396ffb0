"""Read an MCAP file from its start, as far as it is intact, checking every chunk's CRC.

``rosbags`` reads an MCAP file through its summary at the end: a file cut short (a recorder killed,
a copy interrupted) has none and is refused whole, and a chunk whose bytes were damaged fails the
whole iteration. This reader walks the records in file order instead:

- a chunk whose CRC (when the writer set one), compression or records do not check out is skipped
  and reported (``McapScan.damage``: byte offset, what is wrong, the chunk's time range), and the
  reading goes on with the next record when the record's own length is intact;
- a record cut short or with an impossible length ends the reading there, reported the same way;
- chunks without a CRC (rosbags' own writer sets none) are counted in ``unchecked_chunks``: damage
  inside their data cannot be detected.

Messages come in file order, those of one chunk sorted by log time (for the bags that recorders
write, chunks follow each other in time). Memory is bounded: every length is checked against what
is left of the file before it is read, and a chunk may not declare more than ``MAX_CHUNK_BYTES``.
Schemas and channels come from the summary section too when the file has one, so messages of a
damaged first chunk's topics are still typed in later chunks.
"""
from __future__ import annotations

import struct
from binascii import crc32
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

MAGIC = b"\x89MCAP0\r\n"
MAX_CHUNK_BYTES = 1 << 30
OP_HEADER, OP_FOOTER, OP_SCHEMA, OP_CHANNEL, OP_MESSAGE, OP_CHUNK, OP_DATA_END = (
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x0F,
)
KNOWN_OPS = set(range(0x01, 0x10))
FOOTER_SIZE = 1 + 8 + 8 + 8 + 4 + len(MAGIC)


class McapFormatError(ValueError):
    """Not an MCAP file at all (no magic, no header)."""


@dataclass
class Damage:
    """One damaged place of a file: byte offset, what is wrong, the time range it covered (ns, when known)."""

    file: str
    offset: int
    what: str
    start_ns: int | None = None
    end_ns: int | None = None
    after_ns: int | None = None  # where the reading stopped: the log time of the last message read before

    def __str__(self) -> str:
        span = f", messages {self.start_ns}..{self.end_ns} ns lost" if self.start_ns is not None else ""
        if self.after_ns is not None:
            span += f"; read up to the message at {self.after_ns} ns"
        return f"{self.file} at byte {self.offset}: {self.what}{span}"


@dataclass
class ScannedMessage:
    """One message: topic, type, log time (ns), CDR bytes, the type's definition text."""

    topic: str
    msgtype: str
    timestamp: int
    data: bytes
    msgdef: str | None = None


@dataclass
class _Channel:
    topic: str
    schema_id: int


@dataclass
class _Schema:
    name: str
    encoding: str
    data: str


class _Cut(Exception):
    """A record that runs past the end of its buffer."""


class _Buf:
    """Little-endian MCAP primitives over one bytes object, refusing reads past its end."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Cut(f"needs {n} bytes at {self.pos}, {len(self.data) - self.pos} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return struct.unpack("<H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def string(self) -> str:
        return self.take(self.u32()).decode("utf-8", errors="replace")

    def left(self) -> int:
        return len(self.data) - self.pos


def _decompress(data: bytes, compression: str, size: int) -> bytes:
    """A chunk's records, decompressed to at most ``size`` bytes (ValueError when that does not add up)."""
    if compression == "":
        out = data
    elif compression == "zstd":
        from backports import zstd

        d = zstd.ZstdDecompressor()
        out = d.decompress(data, max_length=size + 1)
    elif compression == "lz4":
        import lz4.frame

        d = lz4.frame.LZ4FrameDecompressor()
        out = d.decompress(data, max_length=size + 1)
    else:
        raise ValueError(f"unsupported chunk compression {compression!r}")
    if len(out) != size:
        raise ValueError(
            f"chunk decompresses to {len(out) if len(out) <= size else 'more than ' + str(size)} bytes, "
            f"its header says {size}"
        )
    return out


@dataclass
class McapScan:
    """One MCAP file read from its start (see the module docstring)."""

    path: Path
    damage: list[Damage] = field(default_factory=list)
    unchecked_chunks: int = 0
    checked_chunks: int = 0
    complete: bool = False  # the reading reached the data end (the file was not cut short)
    last_ns: int | None = None  # log time of the last message read
    _schemas: dict[int, _Schema] = field(default_factory=dict)
    _channels: dict[int, _Channel] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    def _damage(self, offset: int, what: str, start: int | None = None, end: int | None = None) -> None:
        self.damage.append(Damage(self.path.name, offset, what, start, end))

    def _stop(self, offset: int, what: str) -> None:
        """Damage that ends the reading of this file."""
        self.damage.append(Damage(self.path.name, offset, what, after_ns=self.last_ns))

    # ----- records -----
    def _schema_or_channel(self, op: int, body: _Buf) -> None:
        if op == OP_SCHEMA:
            sid = body.u16()
            name, encoding = body.string(), body.string()
            self._schemas[sid] = _Schema(name, encoding, body.take(body.u32()).decode("utf-8", errors="replace"))
        else:
            cid, sid = body.u16(), body.u16()
            self._channels[cid] = _Channel(body.string(), sid)

    def _message(self, body: _Buf) -> tuple[int, int, bytes]:
        cid = body.u16()
        body.u32()  # sequence
        log_time = body.u64()
        body.u64()  # publish time
        return cid, log_time, body.take(body.left())

    def _typed(self, cid: int, log_time: int, data: bytes) -> ScannedMessage | None:
        ch = self._channels.get(cid)
        if ch is None:
            return None
        schema = self._schemas.get(ch.schema_id)
        return ScannedMessage(ch.topic, schema.name if schema else "", log_time, data, schema.data if schema else None)

    def _chunk(self, offset: int, body: _Buf) -> list[ScannedMessage] | None:
        start, end, size, crc = body.u64(), body.u64(), body.u64(), body.u32()
        compression = body.string()
        clen = body.u64()
        if size > MAX_CHUNK_BYTES:
            self._damage(offset, f"chunk declares {size} bytes, more than {MAX_CHUNK_BYTES}", start, end)
            return None
        try:
            raw = _decompress(body.take(clen), compression, size)
        except Exception as e:  # noqa: BLE001 - whatever a decompressor (zstd, lz4) raises on damaged data
            self._damage(offset, f"chunk cannot be decompressed ({type(e).__name__}: {e})", start, end)
            return None
        if crc:
            if crc32(raw) != crc:
                self._damage(offset, "chunk CRC mismatch: its data was damaged", start, end)
                return None
            self.checked_chunks += 1
        else:
            self.unchecked_chunks += 1
        inner = _Buf(raw)
        found: list[tuple[int, int, bytes]] = []
        try:
            while inner.left():
                op = inner.take(1)[0]
                rec = _Buf(inner.take(inner.u64()))
                if op in (OP_SCHEMA, OP_CHANNEL):
                    self._schema_or_channel(op, rec)
                elif op == OP_MESSAGE:
                    found.append(self._message(rec))
        except (_Cut, UnicodeDecodeError) as e:
            self._damage(offset, f"chunk records do not add up ({e})", start, end)
            return None
        out, untyped = [], 0
        for cid, t, data in sorted(found, key=lambda m: m[1]):
            m = self._typed(cid, t, data)
            if m is None:
                untyped += 1
            else:
                out.append(m)
        if untyped:
            self._damage(
                offset, f"{untyped} messages of channels never defined (their definitions were lost)", start, end
            )
        return out

    def _read_summary(self, f: BinaryIO, size: int, data_start: int) -> None:
        """Schemas and channels from the summary section, when the footer is intact."""
        if size < data_start + FOOTER_SIZE:
            return
        f.seek(size - FOOTER_SIZE)
        foot = f.read(FOOTER_SIZE)
        if foot[-len(MAGIC) :] != MAGIC or foot[0] != OP_FOOTER:
            return
        summary_start = struct.unpack("<Q", foot[9:17])[0]
        if not (data_start <= summary_start < size - FOOTER_SIZE):
            return
        f.seek(summary_start)
        buf = _Buf(f.read(size - FOOTER_SIZE - summary_start))
        try:
            while buf.left():
                op = buf.take(1)[0]
                rec = _Buf(buf.take(buf.u64()))
                if op in (OP_SCHEMA, OP_CHANNEL):
                    self._schema_or_channel(op, rec)
        except (_Cut, UnicodeDecodeError):
            pass  # a damaged summary: the data section's own definitions still count

    def messages(self) -> Iterator[ScannedMessage]:
        """Every intact message in file order; damage is recorded in ``damage`` as it is met (each call
        reads the file again and starts a fresh record)."""
        self.damage, self.unchecked_chunks, self.checked_chunks, self.complete, self.last_ns = [], 0, 0, False, None
        self._schemas, self._channels = {}, {}
        with open(self.path, "rb") as f:
            size = f.seek(0, 2)
            f.seek(0)
            if f.read(len(MAGIC)) != MAGIC:
                raise McapFormatError(f"{self.path}: not an MCAP file (no MCAP magic at its start)")
            pos = len(MAGIC)
            head = f.read(9)
            if len(head) < 9 or head[0] != OP_HEADER:
                raise McapFormatError(f"{self.path}: not an MCAP file (no header record)")
            data_start = pos + 9 + struct.unpack("<Q", head[1:9])[0]
            if data_start > size:
                raise McapFormatError(f"{self.path}: the MCAP header runs past the end of the file")
            self._read_summary(f, size, data_start)
            pos = data_start
            while True:
                if pos == size:
                    self._stop(pos, "the file ends without its data-end record: cut short here")
                    return
                f.seek(pos)
                head = f.read(9)
                if len(head) < 9:
                    self._stop(pos, f"the file is cut short inside a record header ({size - pos} bytes left)")
                    return
                op, length = head[0], struct.unpack("<Q", head[1:9])[0]
                if op not in KNOWN_OPS:
                    self._stop(pos, f"unknown record type 0x{op:02x}: the file is corrupt from here")
                    return
                if length > size - pos - 9:
                    self._stop(
                        pos,
                        f"record 0x{op:02x} claims {length} bytes but only {size - pos - 9} are left: "
                        "the file is cut short or corrupt from here",
                    )
                    return
                if op in (OP_DATA_END, OP_FOOTER):
                    self.complete = True
                    return
                if op == OP_CHUNK and length > MAX_CHUNK_BYTES + 64:
                    self._damage(pos, f"chunk record of {length} bytes, more than {MAX_CHUNK_BYTES}")
                elif op in (OP_CHUNK, OP_SCHEMA, OP_CHANNEL, OP_MESSAGE):
                    body = _Buf(f.read(length))
                    try:
                        if op == OP_CHUNK:
                            for m in self._chunk(pos, body) or []:
                                self.last_ns = m.timestamp
                                yield m
                        elif op == OP_MESSAGE:
                            m = self._typed(*self._message(body))
                            if m is None:
                                self._damage(pos, "a message of a channel never defined")
                            else:
                                self.last_ns = m.timestamp
                                yield m
                        else:
                            self._schema_or_channel(op, body)
                    except (_Cut, UnicodeDecodeError) as e:
                        self._damage(pos, f"record 0x{op:02x} does not add up ({e})")
                pos += 9 + length

    def topics(self) -> tuple[dict[str, str], dict[str, int]]:
        """A full pass: topic -> type of every intact message, and topic -> message count."""
        types: dict[str, str] = {}
        counts: dict[str, int] = {}
        for m in self.messages():
            types.setdefault(m.topic, m.msgtype)
            counts[m.topic] = counts.get(m.topic, 0) + 1
        return types, counts
