import base64
import gzip

import pytest

from plugin.status.bitstring import MIN_ENTRIES, Bitstring, StatusListError, decode, encode


def test_index_zero_is_most_significant_bit_of_first_byte():
    bits = Bitstring()
    bits.set(0)
    bits.set(9)
    raw = bits.to_bytes()
    assert raw[0] == 0x80 and raw[1] == 0x40 and not any(raw[2:])


def test_round_trip_and_default_size():
    encoded = encode([0, 7, 4242, MIN_ENTRIES - 1])
    assert encoded.startswith("u") and "=" not in encoded
    bits = decode(encoded)
    assert bits.size == MIN_ENTRIES
    assert [i for i in (0, 1, 7, 8, 4242, MIN_ENTRIES - 1) if bits.get(i)] == [0, 7, 4242, MIN_ENTRIES - 1]
    bits.set(7, False)
    assert not decode(bits.encode()).get(7)


def test_spec_example_empty_list():
    # W3C Bitstring Status List v1.0, example 1: an all-zero 16 KB list.
    raw = gzip.decompress(base64.urlsafe_b64decode("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA" + "=="))
    assert len(raw) == 16384 and not any(raw)
    bits = decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert bits.size == MIN_ENTRIES and not bits.get(0)


def test_out_of_range_index():
    bits = Bitstring()
    with pytest.raises(StatusListError):
        bits.get(MIN_ENTRIES)
    with pytest.raises(StatusListError):
        bits.set(-1)


@pytest.mark.parametrize("bad", [
    "", "u", "u!!!!", "uAAAA", 42, None,
    "u" + base64.urlsafe_b64encode(b"not gzip at all").decode().rstrip("="),
    "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 100)).decode().rstrip("="),  # too short
    "u" + base64.urlsafe_b64encode(gzip.compress(b"\0" * 20000)[:-10]).decode().rstrip("="),  # truncated
])
def test_malformed_lists_are_refused(bad):
    with pytest.raises(StatusListError):
        decode(bad)


def test_gzip_bomb_is_refused_without_inflating_it():
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)  # 64 MiB -> ~64 KB
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(StatusListError, match="expands beyond"):
        decode(encoded)
