"""Baking a credential into a badge image, and getting it back out (Open Badges 3.0 §5.3).

* PNG: one ``iTXt`` chunk, keyword ``openbadgecredential``, compression flag 0
  (uncompressed), holding the credential JSON or its compact JWS.
* SVG: ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` on the root and an
  ``<openbadges:credential>`` element holding the JSON in CDATA, or a ``verify``
  attribute holding the compact JWS.

Extraction reads files from strangers, so it is bounded: a size limit on the file
and on the payload, every PNG chunk's CRC checked (a changed byte anywhere in the
PNG is reported, not silently ignored), no DTDs or entities in SVG (``defusedxml``).
Errors are :class:`BakingError` with a message a person can read.

PNG chunks are written and read here with ``struct``/``zlib.crc32`` rather than
through Pillow because Pillow re-encodes the image on save (baking must not touch the
pixels) and its reader skips CRC errors in ancillary chunks when told to load truncated
images; the chunk format is five lines of code.
"""
from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass

OB_NS = "https://purl.imsglobal.org/ob/v3p0"
KEYWORD = b"openbadgecredential"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PAYLOAD_BYTES = 2 * 1024 * 1024
MAX_CHUNKS = 10_000


class BakingError(ValueError):
    """The image is not a baked badge we can read, or is malformed."""


@dataclass
class Baked:
    """What a baked image held: ``kind`` is ``json`` (a dict in ``credential``) or ``jwt``."""
    kind: str
    credential: dict | None
    jwt: str | None
    raw: str


def _payload(credential) -> str:
    if isinstance(credential, dict):
        return json.dumps(credential, ensure_ascii=False, separators=(",", ":"))
    if isinstance(credential, bytes):
        credential = credential.decode("utf-8")
    if not isinstance(credential, str) or not credential.strip():
        raise BakingError("a credential to bake must be a JSON object or a compact JWS string")
    return credential.strip()


def _classify(text: str) -> Baked:
    text = text.strip()
    if text.startswith("{"):
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise BakingError(f"the baked credential is not valid JSON ({exc.msg})") from None
        if not isinstance(doc, dict):
            raise BakingError("the baked credential is not a JSON object")
        return Baked("json", doc, None, text)
    if re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", text):
        return Baked("jwt", None, text, text)
    raise BakingError("the baked credential is neither JSON nor a compact JWS")


# --------------------------------------------------------------------------- PNG
def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF)


def _iter_chunks(png: bytes):
    if len(png) > MAX_FILE_BYTES:
        raise BakingError(f"the image is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG file (bad signature)")
    pos, count = len(PNG_SIGNATURE), 0
    while True:
        if pos + 12 > len(png):
            raise BakingError("the PNG file is truncated (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", png[pos:pos + 8])
        if length > 2**31 - 1 or pos + 12 + length > len(png):
            raise BakingError(f"the PNG chunk at byte {pos} has an impossible length")
        if not re.fullmatch(rb"[A-Za-z]{4}", ctype):
            raise BakingError(f"the PNG chunk at byte {pos} has an invalid type")
        data = png[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length:pos + 12 + length])
        if zlib.crc32(ctype + data) & 0xFFFFFFFF != crc:
            raise BakingError(f"the PNG chunk {ctype.decode('latin-1')} at byte {pos} fails its CRC check "
                              "(the file was changed or damaged)")
        yield pos, ctype, data, pos + 12 + length
        count += 1
        if count > MAX_CHUNKS:
            raise BakingError("the PNG file has too many chunks")
        pos += 12 + length
        if ctype == b"IEND":
            if pos != len(png):
                raise BakingError("the PNG file has data after its IEND chunk")
            return


def _parse_itxt(data: bytes):
    try:
        keyword, rest = data.split(b"\0", 1)
        flag, method = rest[0], rest[1]
        lang, rest = rest[2:].split(b"\0", 1)
        _translated, text = rest.split(b"\0", 1)
    except (ValueError, IndexError):
        raise BakingError("a PNG iTXt chunk is malformed") from None
    return keyword, flag, method, text


def bake_png(png: bytes, credential) -> bytes:
    """Return ``png`` with the credential in an ``iTXt`` chunk (any earlier one replaced)."""
    text = _payload(credential).encode("utf-8")
    out = [PNG_SIGNATURE]
    inserted = False
    for _pos, ctype, data, _end in _iter_chunks(png):
        if ctype == b"iTXt" and _parse_itxt(data)[0] == KEYWORD:
            continue
        if ctype == b"IEND" and not inserted:
            out.append(_chunk(b"iTXt", KEYWORD + b"\0\0\0" + b"\0" + b"\0" + text))
            inserted = True
        out.append(_chunk(ctype, data))
    return b"".join(out)


def unbake_png(png: bytes) -> Baked:
    found = None
    for _pos, ctype, data, _end in _iter_chunks(png):
        if ctype != b"iTXt":
            continue
        keyword, flag, _method, text = _parse_itxt(data)
        if keyword != KEYWORD:
            continue
        if found is not None:
            raise BakingError("the PNG holds more than one openbadgecredential chunk")
        if flag != 0:
            raise BakingError("the openbadgecredential chunk is compressed; Open Badges 3.0 requires it uncompressed")
        if len(text) > MAX_PAYLOAD_BYTES:
            raise BakingError("the baked credential is too large")
        try:
            found = text.decode("utf-8")
        except UnicodeDecodeError:
            raise BakingError("the baked credential is not UTF-8 text") from None
    if found is None:
        raise BakingError("the PNG holds no baked credential (no iTXt chunk 'openbadgecredential')")
    return _classify(found)


# --------------------------------------------------------------------------- SVG
_ROOT_TAG = re.compile(r"<svg\b[^>]*>", re.S)


def bake_svg(svg: str | bytes, credential) -> str:
    """Insert ``<openbadges:credential>`` as the first child of the root ``<svg>``."""
    if isinstance(svg, bytes):
        svg = svg.decode("utf-8")
    unbake_check = _strip_existing(svg)
    match = _ROOT_TAG.search(unbake_check)
    if not match:
        raise BakingError("not an SVG document (no <svg> element)")
    tag = match.group(0)
    self_closing = tag.endswith("/>")
    if self_closing:
        tag = tag[:-2].rstrip() + ">"
    if "xmlns:openbadges" not in tag:
        tag = tag[:-1] + f' xmlns:openbadges="{OB_NS}">'
    payload = _payload(credential)
    if isinstance(credential, dict):
        element = "<openbadges:credential><![CDATA[" + payload.replace("]]>", "]]]]><![CDATA[>") + \
                  "]]></openbadges:credential>"
    else:
        element = f'<openbadges:credential verify="{_xml_attr(payload)}"/>'
    if self_closing:
        element += "</svg>"
    return unbake_check[:match.start()] + tag + element + unbake_check[match.end():]


def _xml_attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


_EXISTING = re.compile(r"<openbadges:credential\b.*?(?:/>|</openbadges:credential>)", re.S)


def _strip_existing(svg: str) -> str:
    return _EXISTING.sub("", svg)


def unbake_svg(svg: str | bytes) -> Baked:
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring
    from xml.etree.ElementTree import ParseError

    raw = svg.encode("utf-8") if isinstance(svg, str) else svg
    if len(raw) > MAX_FILE_BYTES:
        raise BakingError(f"the image is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BakingError("the SVG declares a DTD or entities, which are refused") from None
    except ParseError as exc:
        raise BakingError(f"the SVG is not well-formed XML ({exc})") from None
    if root.tag not in ("{http://www.w3.org/2000/svg}svg", "svg"):
        raise BakingError("not an SVG document (root element is not <svg>)")
    found = root.findall(f".//{{{OB_NS}}}credential")
    if not found:
        raise BakingError("the SVG holds no baked credential (no <openbadges:credential> element)")
    if len(found) > 1:
        raise BakingError("the SVG holds more than one <openbadges:credential> element")
    element = found[0]
    verify = element.get("verify")
    text = (element.text or "").strip()
    if verify and text:
        raise BakingError("the <openbadges:credential> element has both a verify attribute and content")
    value = verify or text
    if not value:
        raise BakingError("the <openbadges:credential> element is empty")
    if len(value.encode("utf-8")) > MAX_PAYLOAD_BYTES:
        raise BakingError("the baked credential is too large")
    baked = _classify(value)
    if verify and baked.kind != "jwt":
        raise BakingError("the verify attribute does not hold a compact JWS")
    return baked


def sniff(data: bytes) -> str | None:
    """``png``, ``svg`` or ``None`` from the first bytes."""
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<") and b"<svg" in data[:65536]:
        return "svg"
    return None


def unbake(data: bytes) -> Baked:
    kind = sniff(data)
    if kind == "png":
        return unbake_png(data)
    if kind == "svg":
        return unbake_svg(data)
    raise BakingError("not a PNG or SVG image")
