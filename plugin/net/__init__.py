"""Outbound HTTP: the one way the tool calls a URL it was given (no Flask here).

* :mod:`plugin.net.policy`: which addresses may be called (public ones, and the
  administrator's ``MICROCRED_OUTBOUND_ALLOW``), checked when a URL is stored;
* :mod:`plugin.net.http`: the requests session that checks them again at connection time,
  on every redirect hop, with timeouts and a size limit;
* :mod:`plugin.net.jwks`: a platform's public keys, cached, with a limit on refetches.
"""
from plugin.net.http import (AddressRefused, OutboundError, OutboundSession, RedirectRefused, ResponseTooLarge,
                             TooSlow, describe_error, outbound_session)
from plugin.net.policy import AddressNotAllowed, OutboundPolicy, address_kind, parse_allow_list

__all__ = ["AddressNotAllowed", "AddressRefused", "OutboundError", "OutboundPolicy", "OutboundSession",
           "RedirectRefused", "ResponseTooLarge", "TooSlow", "address_kind", "describe_error", "outbound_session",
           "parse_allow_list"]
