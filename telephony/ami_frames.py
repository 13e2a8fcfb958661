"""AMI framing: bytes from the manager socket in, messages out. No I/O.

Asterisk's manager protocol is a greeting line (``Asterisk Call Manager/9.0.0``)
followed by frames of ``Key: Value`` lines, each frame ended by an empty line
(``\\r\\n\\r\\n``). Two things panoramisk 1.4 gets wrong are right here:

- bytes are decoded with an *incremental* UTF-8 decoder, so a multi-byte
  character (a Chinese caller name, a UserEvent payload) split across two TCP
  reads is joined, not dropped;
- a broken frame (no ``Event``/``Response``, a line with no ``:``, an endless
  frame) is counted in ``stats`` and logged, and the parser carries on.

:class:`AmiMessage` is a small read-only view on the headers; keys keep
Asterisk's spelling and lookups fall back to a case-insensitive match.
"""

from __future__ import annotations

import codecs
import logging
from collections import Counter
from collections.abc import Iterator, Mapping

from acd.counters import Count

__all__ = ["MAX_FRAME_CHARS", "AmiMessage", "FrameParser", "encode_action"]

log = logging.getLogger(__name__)

EOL = "\r\n"
_END = "\r\n\r\n"
_GREETING = "Asterisk Call Manager/"
MAX_FRAME_CHARS = 1_000_000  # a frame this long without an end is garbage


class AmiMessage(Mapping[str, str]):
    """One AMI frame: an event (``Event:``) or a response (``Response:``).

    A key that appears more than once (``ChanVariable``, ``Output``) keeps all
    its values, joined by ``"\\n"``; :meth:`values_of` splits them again.
    """

    __slots__ = ("_folded", "headers", "name")

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
        self.name = headers.get("Event") or headers.get("Response") or ""
        self._folded: dict[str, str] | None = None

    @property
    def is_event(self) -> bool:
        return "Event" in self.headers

    @property
    def action_id(self) -> str | None:
        return self.headers.get("ActionID")  # Asterisk's spelling, always

    def __getitem__(self, key: str) -> str:
        try:
            return self.headers[key]
        except KeyError:
            if self._folded is None:
                self._folded = {k.lower(): v for k, v in self.headers.items()}
            return self._folded[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def values_of(self, key: str) -> list[str]:
        v = self.get(key)
        return [] if v is None else v.split("\n")

    def __repr__(self) -> str:
        return f"AmiMessage({self.headers!r})"


_BLANK = " \t\r\n"  # what may pad a frame (str.strip() would also eat "\x1c".."\x1f")


class FrameParser:
    """Feed bytes in any chunking; get whole messages out, in order.

    ``stats`` counts ``frames``, ``malformed_frames``, ``malformed_lines``,
    ``oversized_frames`` and ``invalid_utf8`` (chunks with undecodable bytes,
    which become U+FFFD).
    """

    def __init__(
        self, stats: Counter[str] | None = None, heads: tuple[str, ...] = ("Event", "Response")
    ) -> None:
        self.heads = heads  # a frame needs one of these keys (("Action",) to read actions)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buf = ""
        self._greeted = False
        self.version: str | None = None
        self.stats: Counter[str] = stats if stats is not None else Counter()

    def feed(self, data: bytes) -> list[AmiMessage]:
        text = self._decoder.decode(data)
        if "\ufffd" in text:
            self.stats[Count.INVALID_UTF8] += 1
            log.warning("AMI: undecodable bytes in the stream (replaced)")
        buf = self._buf + text if self._buf else text
        if not self._greeted:
            if len(buf) < len(_GREETING) and _GREETING.startswith(buf):
                self._buf = buf
                return []
            self._greeted = True
            if buf.startswith(_GREETING):
                line, sep, rest = buf.partition(EOL)
                if not sep:
                    self._greeted = False
                    self._buf = buf
                    return []
                self.version = line[len(_GREETING) :].strip()
                buf = rest
        frames = buf.split(_END)
        tail = frames.pop()
        if len(tail) > MAX_FRAME_CHARS:
            self.stats[Count.OVERSIZED_FRAMES] += 1
            log.error("AMI: dropped %d characters with no end of frame", len(tail))
            tail = ""
        self._buf = tail
        out: list[AmiMessage] = []
        for frame in frames:
            msg = self.parse_frame(frame)
            if msg is not None:
                out.append(msg)
        return out

    def parse_frame(self, frame: str) -> AmiMessage | None:
        headers: dict[str, str] = {}
        for line in frame.split(EOL):
            key, sep, value = line.partition(": ")
            if not sep:
                if line.endswith(":"):
                    key, value = line[:-1], ""
                elif not line.strip(_BLANK):  # only AMI's own blanks: "\x1c" is garbage
                    continue
                else:
                    self.stats[Count.MALFORMED_LINES] += 1
                    log.warning("AMI: line without 'Key: Value' ignored: %.80r", line)
                    continue
            if key in headers:
                headers[key] += "\n" + value
            else:
                headers[key] = value
        if not any(h in headers for h in self.heads):
            if headers or frame.strip(_BLANK):
                self.stats[Count.MALFORMED_FRAMES] += 1
                log.warning("AMI: frame without %s dropped: %.120r", "/".join(self.heads), frame)
            return None
        self.stats[Count.FRAMES] += 1
        return AmiMessage(headers)

    def reset(self) -> None:
        """Forget a half-read frame (a new connection starts clean)."""
        self._decoder.reset()
        self._buf = ""
        self._greeted = False


def encode_action(fields: list[tuple[str, str]]) -> bytes:
    """One action frame. Values must not contain line breaks (they would inject
    headers); a field that does is refused with its name."""
    parts = []
    for key, value in fields:
        if "\r" in value or "\n" in value or "\r" in key or "\n" in key:
            raise ValueError(f"AMI action field {key!r}: value contains a line break")
        parts.append(f"{key}: {value}\r\n")
    parts.append("\r\n")
    return "".join(parts).encode("utf-8")
