import json
import struct
import zlib

import pytest

from plugin.delivery.badge_image import render_png, render_svg
from plugin.delivery.baking import BakingError, bake_png, bake_svg, unbake, unbake_png, unbake_svg

CRED = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:uuid:1", "name": "A ]]> tricky é name"}
JWS = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def png():
    return render_png("Title", "Issuer", 6)


def test_png_round_trip_json_and_jwt(png):
    baked = bake_png(png, CRED)
    got = unbake(baked)
    assert got.kind == "json" and got.credential == CRED
    # The chunk is iTXt, keyword openbadgecredential, uncompressed.
    i = baked.index(b"iTXt")
    assert baked[i + 4:i + 4 + 20] == b"openbadgecredential\0" and baked[i + 24] == 0
    rebaked = bake_png(baked, JWS)  # replaces, never duplicates
    got = unbake_png(rebaked)
    assert got.kind == "jwt" and got.jwt == JWS and rebaked.count(b"openbadgecredential") == 1


def test_png_changed_byte_is_detected(png):
    baked = bake_png(png, CRED)
    for pos in (10, 40, len(baked) // 2, baked.index(b"urn:uuid"), len(baked) - 20):
        tampered = bytearray(baked)
        tampered[pos] ^= 0x01
        with pytest.raises(BakingError):
            unbake_png(bytes(tampered))


def test_png_hostile_inputs(png):
    with pytest.raises(BakingError, match="no baked credential"):
        unbake_png(png)
    with pytest.raises(BakingError, match="signature"):
        unbake_png(b"GIF89a....")
    with pytest.raises(BakingError, match="truncated|length"):
        unbake_png(bake_png(png, CRED)[:-30])
    # A chunk claiming 2 GB must not be allocated.
    evil = png[:8] + struct.pack(">I4s", 0x7FFFFFFF, b"iTXt") + b"x" * 20
    with pytest.raises(BakingError):
        unbake_png(evil)
    # Compressed iTXt is refused.
    data = b"openbadgecredential\0\x01\x00\0\0" + zlib.compress(json.dumps(CRED).encode())
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    iend = png.rindex(b"IEND") - 4
    with pytest.raises(BakingError, match="compressed"):
        unbake_png(png[:iend] + chunk + png[iend:])


def test_svg_round_trip_json_and_jwt():
    svg = render_svg("Title", "Issuer", 6)
    baked = bake_svg(svg, CRED)
    assert 'xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"' in baked and "<![CDATA[" in baked
    assert unbake(baked.encode()).credential == CRED
    baked_jwt = bake_svg(baked, JWS)
    got = unbake_svg(baked_jwt)
    assert got.kind == "jwt" and got.jwt == JWS and baked_jwt.count("<openbadges:credential") == 1


def test_svg_refuses_entities_and_garbage():
    bomb = ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
            '<openbadges:credential>&b;</openbadges:credential></svg>')
    with pytest.raises(BakingError, match="DTD|entities"):
        unbake_svg(bomb)
    with pytest.raises(BakingError, match="well-formed"):
        unbake_svg("<svg><unclosed></svg>")
    with pytest.raises(BakingError, match="no baked"):
        unbake_svg(render_svg("T", "I", None))
    with pytest.raises(BakingError):
        unbake(b"%PDF-1.4")
