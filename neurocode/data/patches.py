"""Whitened natural-image patches from the photographs scikit-learn ships.

The images are scikit-learn's two sample photographs (:func:`sklearn.datasets.load_sample_images`:
``china.jpg`` and ``flower.jpg``, 427 x 640 pixels each), so no download is needed. Each is

1. converted to grey levels in [0, 1] (ITU-R 601 luma, ``0.299 R + 0.587 G + 0.114 B``);
2. whitened with the filter of Olshausen & Field (1997, Vision Research 37:3311-3325), applied
   in the frequency domain: the image spectrum is multiplied by

   .. math::  R(f) = |f| \\, e^{-(|f| / f_0)^4}

   (``|f|`` in cycles per pixel, ``f_0 = 0.4`` cycles/pixel by default; Olshausen & Field used
   200 cycles per 512-pixel picture, 0.39 cycles/pixel). The ramp ``|f|`` flattens the
   ``1/f`` amplitude spectrum of natural scenes; the quartic roll-off keeps the amplified
   high frequencies (noise, JPEG blocks, aliasing) out. The image is mirror-padded before the
   FFT so its borders do not ring, and the whitened image is scaled to unit variance;
3. cut into ``patch_size x patch_size`` patches at random positions (uniform over the images
   and over positions at least ``border`` pixels from the image edge), each flattened row-major;
4. normalised: with ``normalize="patch"`` (default, as in Zylberberg et al.'s SAILnet code)
   each patch has its mean removed and is divided by its own standard deviation (zero mean,
   unit variance per patch); patches whose whitened contrast (standard deviation) is below
   ``min_contrast`` times the image's (default 0.3) are redrawn, so featureless sky and
   background are not blown up into compression noise. (The contrast of whitened 16x16
   patches of these photographs is bimodal: flat regions about 0.03-0.09, textured ones
   0.5-1.8; about 40 % of the positions in china.jpg and 68 % in flower.jpg are flat.)
   With ``normalize="global"`` the patch means are removed and the whole set is divided by
   one number, so it has unit variance overall (contrast kept).

Two photographs are a small sample of natural scenes: the flower's petals and the temple's
roof tiles show up in what a sparse coder learns (curved edges, gratings) beside the
straight, localised edges expected from a large natural-image set.

Everything is deterministic under ``random_state``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["IMAGE_NAMES", "grey_images", "load_patches", "make_patches", "whiten"]

#: the photographs scikit-learn ships (:func:`sklearn.datasets.load_sample_images`)
IMAGE_NAMES = ("china.jpg", "flower.jpg")
NORMALIZE = ("patch", "global")


def whiten(image: np.ndarray, f0: float = 0.4, pad: int = 32) -> np.ndarray:
    """Olshausen & Field's whitening of one grey image, scaled to zero mean, unit variance.

    Parameters
    ----------
    image : (height, width) array
        Grey levels.
    f0 : float
        Roll-off frequency of the filter ``R(f) = |f| exp(-(|f|/f0)^4)``, cycles per pixel
        (0 < f0; the Nyquist frequency is 0.5).
    pad : int
        Mirror padding on every side before the FFT (removed afterwards).

    Returns
    -------
    (height, width) float64 array
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or min(image.shape) < 2:
        raise ValueError(f"whiten needs a 2-D grey image, got shape {image.shape}")
    if not np.isfinite(image).all():
        raise ValueError("the image contains NaN or infinite values")
    if not f0 > 0:
        raise ValueError(f"f0 must be > 0 cycles/pixel, got {f0}")
    pad = int(min(pad, image.shape[0] - 1, image.shape[1] - 1))
    padded = np.pad(image - image.mean(), pad, mode="reflect") if pad > 0 else image - image.mean()
    h, w = padded.shape
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx ** 2 + fy ** 2)
    filt = f * np.exp(-((f / f0) ** 4))
    out = np.fft.irfft2(np.fft.rfft2(padded) * filt, s=(h, w))
    if pad > 0:
        out = out[pad:-pad, pad:-pad]
    out = out - out.mean()
    std = out.std()
    return out / std if std > 0 else out


@lru_cache(maxsize=4)
def _whitened(f0: float) -> tuple[np.ndarray, ...]:
    out = []
    for img in grey_images():
        w = whiten(img, f0=f0)
        w.setflags(write=False)
        out.append(w)
    return tuple(out)


@lru_cache(maxsize=1)
def grey_images() -> tuple[np.ndarray, ...]:
    """scikit-learn's sample photographs as grey images in [0, 1] (float64, read-only)."""
    from sklearn.datasets import load_sample_images

    data = load_sample_images()
    by_name = {str(fn).replace("\\", "/").rsplit("/", 1)[-1]: img
               for fn, img in zip(data.filenames, data.images, strict=True)}
    out = []
    for name in IMAGE_NAMES:
        rgb = np.asarray(by_name[name], dtype=np.float64) / 255.0
        grey = rgb @ np.array([0.299, 0.587, 0.114])
        grey.setflags(write=False)
        out.append(grey)
    return tuple(out)


def make_patches(n_samples: int, patch_size: int = 16, *, random_state: int | None = None,
                 normalize: str = "patch", f0: float = 0.4, border: int = 8,
                 min_contrast: float = 0.3, dtype: type = np.float32) -> np.ndarray:
    """Random whitened patches of scikit-learn's sample photographs (see the module docstring).

    Parameters
    ----------
    n_samples : int
        Number of patches (>= 1).
    patch_size : int
        Side of the square patches in pixels (2 to 128).
    random_state : int or None
        Seed of the patch positions.
    normalize : {"patch", "global"}
        Per-patch zero mean and unit variance, or zero-mean patches with unit variance over the set.
    f0 : float
        Roll-off of the whitening filter, cycles/pixel.
    border : int
        Patches keep at least this many pixels from the image edges (>= 0).
    min_contrast : float
        (``normalize="patch"`` only) patches whose standard deviation is below this fraction of
        the whitened image's (which is 1) are redrawn; 0 keeps every patch.
    dtype
        Floating type of the result.

    Returns
    -------
    X : (n_samples, patch_size ** 2) array
        One flattened (row-major) patch per row.

    Examples
    --------
    >>> X = make_patches(1000, 8, random_state=0)
    >>> print(X.shape, round(float(X.std()), 3))
    (1000, 64) 1.0
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    if isinstance(patch_size, bool) or not isinstance(patch_size, (int, np.integer)) \
            or not 2 <= patch_size <= 128:
        raise ValueError(f"patch_size must be an integer in [2, 128], got {patch_size!r}")
    if normalize not in NORMALIZE:
        raise ValueError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    if isinstance(border, bool) or not isinstance(border, (int, np.integer)) or border < 0:
        raise ValueError(f"border must be an integer >= 0, got {border!r}")
    if not 0.0 <= min_contrast < 1.0:
        raise ValueError(f"min_contrast must be in [0, 1), got {min_contrast!r}")
    images = _whitened(float(f0))
    for img in images:
        if min(img.shape) < patch_size + 2 * border:
            raise ValueError(f"patch_size {patch_size} with border {border} does not fit in a "
                             f"{img.shape[0]}x{img.shape[1]} image")
    rng = np.random.default_rng(random_state)
    ps = int(patch_size)
    out = np.empty((n_samples, ps * ps), dtype=np.float64)
    filled = 0
    floor = min_contrast if normalize == "patch" else 0.0
    while filled < n_samples:
        want = n_samples - filled
        draw = max(want + want // 4, 16)  # a few extra for the ones a contrast floor rejects
        which = rng.integers(0, len(images), draw)
        got = []
        for k, img in enumerate(images):
            idx = np.flatnonzero(which == k)
            if idx.size == 0:
                continue
            r = rng.integers(border, img.shape[0] - border - ps + 1, idx.size)
            c = rng.integers(border, img.shape[1] - border - ps + 1, idx.size)
            rows = r[:, None, None] + np.arange(ps)[None, :, None]
            cols = c[:, None, None] + np.arange(ps)[None, None, :]
            got.append((idx, img[rows, cols].reshape(idx.size, ps * ps)))
        batch = np.empty((draw, ps * ps))
        for idx, p in got:
            batch[idx] = p  # keep the draw order, whatever the image
        batch -= batch.mean(axis=1, keepdims=True)
        std = batch.std(axis=1)
        keep = batch[std > floor] if floor > 0 else batch
        if normalize == "patch":
            keep = keep / keep.std(axis=1, keepdims=True)
        take = min(len(keep), want)
        out[filled:filled + take] = keep[:take]
        filled += take
    if normalize == "global":
        out /= out.std()
    return out.astype(dtype, copy=False)


def load_patches(n_train: int, n_test: int, patch_size: int = 16, seed: int = 0,
                 **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """Training and test patches, drawn with seeds ``seed`` and ``seed + 10000``.

    Both splits come from the same two photographs (at independent random positions); with
    ``normalize="global"`` each split is scaled by its own standard deviation.
    """
    Xtr = make_patches(n_train, patch_size, random_state=seed, **kwargs)
    Xte = make_patches(n_test, patch_size, random_state=seed + 10_000, **kwargs)
    return Xtr, Xte
