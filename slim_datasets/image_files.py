"""Reads an image file for the converters: validated, in a format TF and TF-Slim decode.

Pure Python and Pillow, no TensorFlow: the folder converter runs `read_image` in
worker processes, which then start in a fraction of a second.
"""

import io

from PIL import Image

# What tf.io.decode_jpeg / decode_png (and so TF-Slim's decoder) read as they are.
_KEEP_AS_IS = {
    'JPEG': ('jpeg', {'L', 'RGB'}),
    'PNG': ('png', {'1', 'L', 'LA', 'P', 'RGB', 'RGBA'}),
}

_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    Image.DecompressionBombError,
)


def read_image(path):
    """Returns `(encoded, format, height, width, None)` or `(None, ..., reason)`.

    The file is fully decoded once to prove it is a readable image. JPEG and PNG
    files are kept byte for byte; any other format Pillow reads (BMP, GIF, TIFF,
    WebP, CMYK JPEG, 16-bit PNG, ...) is re-encoded as an RGB(A) PNG.

    Args:
      path: the image file.

    Returns:
      A 5-tuple `(encoded bytes, 'jpeg' | 'png', height, width, reason)`, where
      `reason` is None on success; on failure the first four are None and `reason`
      says why the file was not an image.
    """
    try:
        with open(path, 'rb') as f:
            data = f.read()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # a full decode: truncated files fail here, not in training
            width, height = image.size
            kept = _KEEP_AS_IS.get(image.format)
            if kept and image.mode in kept[1]:
                return data, kept[0], height, width, None
            has_alpha = (
                image.mode in ('RGBA', 'LA', 'PA')
                or 'transparency' in image.info
            )
            converted = image.convert('RGBA' if has_alpha else 'RGB')
        buffer = io.BytesIO()
        converted.save(buffer, format='PNG')
        return buffer.getvalue(), 'png', height, width, None
    except (
        Image.UnidentifiedImageError
    ):  # its message names our BytesIO, not the file
        return None, None, None, None, 'not a format Pillow recognises'
    except _DECODE_ERRORS as e:
        return None, None, None, None, '%s: %s' % (type(e).__name__, e)
