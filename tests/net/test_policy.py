"""Which addresses the tool calls: public ones, and what MICROCRED_OUTBOUND_ALLOW lists."""
from __future__ import annotations

import pytest

from plugin.net.policy import (AddressNotAllowed, AllowListError, OutboundPolicy, address_kind, parse_allow_entry,
                               parse_allow_list)
from plugin.settings import Settings, SettingsError
from tests.net.servers import fixed_resolver


@pytest.mark.parametrize("address, kind", [
    ("127.0.0.1", "loopback"), ("127.255.0.9", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    # Defect 10 of issue 11: Python's is_private is false for the carrier-grade NAT range.
    ("100.64.0.1", "shared address space (carrier-grade NAT)"),
    ("100.100.100.200", "shared address space (carrier-grade NAT)"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("240.0.0.1", "private"), ("255.255.255.255", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fec0::1", "site-local"),
    # An IPv4 address dressed as IPv6 is judged as the IPv4 address it carries.
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"), ("::ffff:100.64.0.1",
                                                                          "shared address space (carrier-grade NAT)"),
    ("::127.0.0.1", "IPv4-compatible (deprecated)"),
    ("64:ff9b::a00:1", "NAT64 translation of an IPv4 address"), ("2002:a00:1::1", "6to4 tunnel of an IPv4 address"),
    ("2001:0:4136:e378::1", "IETF protocol assignments (Teredo and others)"),
    ("198.18.0.1", "benchmarking"), ("192.0.2.1", "private"), ("2001:db8::1", "documentation"),
])
def test_internal_addresses_are_refused_with_their_kind(address, kind):
    assert address_kind(address) == kind
    refusal = OutboundPolicy().refusal("lms.example.org", address, 443)
    assert isinstance(refusal, AddressNotAllowed) and kind in refusal.message
    assert "MICROCRED_OUTBOUND_ALLOW" in refusal.message


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34",
                                     "100.63.255.255", "100.128.0.1"])
def test_public_addresses_are_allowed(address):
    assert address_kind(address) is None
    assert OutboundPolicy().refusal("lms.example.org", address, 443) is None


def test_allow_list_entries_ranges_addresses_ports_and_names():
    policy = OutboundPolicy(allow=parse_allow_list(
        "10.20.0.0/16, 127.0.0.1:5001, [::1]:8080, moodle.intranet, sso.intranet:8443"))
    assert policy.allowed("x", "10.20.3.4", 443) and not policy.allowed("x", "10.21.0.1", 443)
    assert policy.allowed("x", "127.0.0.1", 5001) and not policy.allowed("x", "127.0.0.1", 5002)
    assert policy.allowed("x", "::ffff:127.0.0.1", 5001)  # the same address, mapped
    assert policy.allowed("x", "::1", 8080) and not policy.allowed("x", "::1", 80)
    assert policy.allowed("MOODLE.intranet.", "192.168.1.5", 443)
    assert not policy.allowed("other.intranet", "192.168.1.5", 443)
    assert policy.allowed("sso.intranet", "10.9.9.9", 8443) and not policy.allowed("sso.intranet", "10.9.9.9", 443)
    assert policy.allowed("anything", "93.184.216.34", 443)  # public needs no entry


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "127.0.0.1:0", "127.0.0.1:70000", "[::1", "[::1]x",
                                   "moodle..intranet", "http://10.0.0.1/", "*.intranet", "a b"])
def test_malformed_allow_entries_are_refused(entry):
    with pytest.raises(AllowListError):
        parse_allow_entry(entry)


def test_a_malformed_setting_stops_the_tool_with_one_line(tmp_path):
    env = {"MICROCRED_INSTANCE_DIR": str(tmp_path), "MICROCRED_OUTBOUND_ALLOW": "10.0.0.0/8,http://intranet/"}
    with pytest.raises(SettingsError, match="MICROCRED_OUTBOUND_ALLOW: 'http://intranet/'"):
        Settings.from_env(env)
    env = {"MICROCRED_INSTANCE_DIR": str(tmp_path), "MICROCRED_RATELIMIT_VERIFY": "lots"}
    with pytest.raises(SettingsError, match="MICROCRED_RATELIMIT_VERIFY must be a rate"):
        Settings.from_env(env)


def test_development_mode_allows_no_internal_address_by_itself(tmp_path):
    settings = Settings.from_env({"MICROCRED_INSTANCE_DIR": str(tmp_path)})
    assert settings.env == "development" and settings.outbound_allow == []
    assert OutboundPolicy.from_settings(settings).refusal("localhost", "127.0.0.1", 5001) is not None


def test_a_name_is_refused_when_any_of_its_addresses_is_internal():
    policy = OutboundPolicy(resolver=fixed_resolver({
        "lms.example.org": ["93.184.216.34"],
        "mixed.example.org": ["93.184.216.34", "127.0.0.1"],
        "metadata.example.org": ["169.254.169.254"],
        "v6.example.org": ["::ffff:10.0.0.1"],
    }))
    policy.check_url("https://lms.example.org/jwks")
    for host in ("mixed.example.org", "metadata.example.org", "v6.example.org"):
        with pytest.raises(AddressNotAllowed, match=f"{host} resolves to"):
            policy.check_url(f"https://{host}/jwks")
    # A literal address in the URL is judged as such (every spelling the resolver accepts).
    for url in ("http://127.1:8080/", "http://2130706433/", "http://0x7f.0.0.1/", "http://[::1]/"):
        with pytest.raises(AddressNotAllowed, match="loopback"):
            OutboundPolicy().check_url(url)
    # A name that does not resolve is left to the connection.
    policy.check_url("https://not-there.example.org/")
