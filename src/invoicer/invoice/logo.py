"""The seller's logo: an image we decode and re-encode ourselves, so that what
is stored and drawn is never the uploaded file's bytes (issue 18, "Logo").

:func:`clean_logo` takes PNG or JPEG bytes and answers our own PNG or JPEG
of the same picture, or raises :class:`LogoError` (``code`` ``too_large``
for more bytes than :data:`MAX_LOGO_BYTES`, ``too_many_pixels`` beyond
:data:`MAX_LOGO_SIDE` on a side, ``not_an_image`` / ``wrong_type`` else).
The size is read from the header before any pixel is decoded (Pillow's
``open`` is lazy), and Pillow's own decompression-bomb warning is an error
here, so a small file claiming a huge picture is refused without being decoded.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image

__all__ = ["LOGO_MEDIA_TYPES", "MAX_LOGO_BYTES", "MAX_LOGO_SIDE", "LogoError", "clean_logo"]

#: The most bytes a logo may have, as uploaded.
MAX_LOGO_BYTES = 1024 * 1024
#: The most pixels a logo may have on either side.
MAX_LOGO_SIDE = 4000
#: The formats a logo may be in, by Pillow's name, and the media type each is stored as.
LOGO_MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}


class LogoError(ValueError):
    """The bytes are no logo we accept; ``code`` says why (see the module docstring)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """``(bytes, media_type)`` of ``data`` (a PNG or JPEG) decoded and
    re-encoded: PNG stays PNG (alpha kept), JPEG stays JPEG (quality 90,
    metadata dropped). Raises :class:`LogoError`."""
    if len(data) > MAX_LOGO_BYTES:
        raise LogoError("too_large", f"the logo has {len(data)} bytes; at most {MAX_LOGO_BYTES} are accepted")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=tuple(LOGO_MEDIA_TYPES))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LogoError("too_many_pixels", "the logo has too many pixels") from None
    except Exception:  # noqa: BLE001 - Pillow raises many kinds for what is not an image it reads
        raise LogoError("not_an_image", "the logo must be a PNG or JPEG image") from None
    with image:
        width, height = image.size
        if not (0 < width <= MAX_LOGO_SIDE and 0 < height <= MAX_LOGO_SIDE):
            raise LogoError(
                "too_many_pixels",
                f"the logo is {width}x{height} pixels; at most {MAX_LOGO_SIDE}x{MAX_LOGO_SIDE} are accepted",
            )
        fmt = image.format or ""
        if fmt not in LOGO_MEDIA_TYPES:
            raise LogoError("wrong_type", "the logo must be a PNG or JPEG image")
        try:
            image.load()
            out = io.BytesIO()
            picture: Image.Image = image
            if fmt == "PNG":
                if picture.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                    picture = picture.convert("RGBA")
                picture.save(out, format="PNG")
            else:
                if picture.mode not in ("L", "RGB"):
                    picture = picture.convert("RGB")
                picture.save(out, format="JPEG", quality=90)
        except Exception:  # noqa: BLE001 - a truncated or corrupt file fails only when decoded
            raise LogoError("not_an_image", "the logo could not be decoded as a PNG or JPEG image") from None
    return out.getvalue(), LOGO_MEDIA_TYPES[fmt]
