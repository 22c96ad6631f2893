"""Pictures uploaded by people (an awarding body's logo, a signature): checked and re-encoded.

Uploaded files are strangers' bytes: the size is capped before decoding, the type is read
from the content (not the name), the pixel count is capped (no decompression bombs), and
the picture is re-encoded as a plain PNG (no metadata, no trailing payload, no animation),
scaled down to what the tool needs. Errors are :class:`ImageError` with a sentence a person
can act on (translatable: :func:`plugin.domain.i18n.N_`). Pure code, no Flask.
"""
from __future__ import annotations

import io

from plugin.domain.i18n import N_

MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}
MAX_PIXELS = 6000 * 6000


class ImageError(ValueError):
    """The upload is not a picture we accept; the message says why and what to do."""


def read_limited(stream, max_bytes: int) -> bytes:
    """At most ``max_bytes`` + 1 bytes of an upload: enough to tell it is too large."""
    return stream.read(max_bytes + 1)


def normalise_image(data: bytes, *, what: str = "picture", max_bytes: int = 512 * 1024, min_side: int = 32,
                    max_side: int = 1024) -> bytes:
    """``data`` (PNG or JPEG) checked and re-encoded as a PNG at most ``max_side`` px wide and high."""
    if not data:
        raise ImageError(N_("The %(what)s file is empty.", what=N_(what)))
    if len(data) > max_bytes:
        raise ImageError(N_("The %(what)s is larger than %(kb)s KB; use a smaller file.", what=N_(what),
                            kb=max_bytes // 1024))
    kind = next((k for magic, k in MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise ImageError(N_("The %(what)s must be a PNG or JPEG image.", what=N_(what)))
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != kind:
                raise ImageError(N_("The %(what)s must be a PNG or JPEG image.", what=N_(what)))
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise ImageError(N_("The %(what)s is too large (%(w)s × %(h)s pixels); use one under 6000 pixels "
                                    "a side.", what=N_(what), w=width, h=height))
            if min(width, height) < min_side:
                raise ImageError(N_("The %(what)s is too small (%(w)s × %(h)s pixels); use one at least %(min)s "
                                    "pixels a side.", what=N_(what), w=width, h=height, min=min_side))
            probe.verify()
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            im = im.convert("RGBA")
    except ImageError:
        raise
    except Exception:
        raise ImageError(N_("The %(what)s file is damaged or not an image.", what=N_(what))) from None
    im.thumbnail((max_side, max_side))
    out = io.BytesIO()
    im.save(out, format="PNG", optimize=True)
    return out.getvalue()


# The names of what is uploaded, for the sentences above (extracted for translation).
LOGO = N_("logo")
SIGNATURE = N_("signature")
