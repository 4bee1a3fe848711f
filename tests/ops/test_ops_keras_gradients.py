"""Float64 numerical-gradient checks for every differentiable op added for Keras 3's
``keras.ops`` (table-driven: one row per op and input domain)."""

import zlib

import numpy as np
import pytest

from gpuk import ops
from tests.gradcheck import assert_gradients_match


def _draw(spec, rng):
    kind, shape = spec[0], spec[1:]
    if kind == "n":
        return rng.normal(size=shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, size=shape)
    if kind == "unit":
        return rng.uniform(-0.8, 0.8, size=shape)
    if kind == "big":
        return rng.uniform(1.2, 3.0, size=shape)
    if kind == "spd":
        n = shape[-1]
        a = rng.normal(size=shape)
        return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    raise ValueError(kind)


N23, N34, N4 = ("n", 2, 3), ("n", 3, 4), ("n", 4)
POS, UNIT, BIG = ("pos", 2, 3), ("unit", 2, 3), ("big", 2, 3)


def _sym(a):
    return (a + ops.swapaxes(a, -1, -2)) * 0.5


def _sum_tuple(out):
    return sum(ops.sum(o) for o in out)


# id -> (function of the input tensors, input specs)
CASES = {
    **{
        name: (getattr(ops, name), [dom])
        for name, dom in {
            "sin": N23,
            "cos": N23,
            "tan": UNIT,
            "arcsin": UNIT,
            "arccos": UNIT,
            "arctan": N23,
            "sinh": N23,
            "cosh": N23,
            "arcsinh": N23,
            "arccosh": BIG,
            "arctanh": UNIT,
            "expm1": N23,
            "exp2": N23,
            "log2": POS,
            "log10": POS,
            "cbrt": POS,
            "reciprocal": POS,
            "rsqrt": POS,
            "deg2rad": N23,
            "rad2deg": N23,
            "fabs": POS,
            "absolute": POS,
            "erf": N23,
            "erfc": N23,
            "erfinv": UNIT,
            "sinc": N23,
            "nan_to_num": N23,
            "celu": N23,
            "hard_silu": N23,
            "hard_swish": N23,
            "hard_tanh": N23,
            "log_sigmoid": N23,
            "sparse_plus": N23,
            "sparse_sigmoid": N23,
            "squareplus": N23,
            "tanh_shrink": N23,
            "hard_shrink": N23,
            "soft_shrink": N23,
            "sparsemax": N34,
            "glu": ("n", 3, 4),
            "gelu": N23,
            "copy": N23,
            "ravel": N23,
            "flip": N23,
            "fliplr": N23,
            "flipud": N23,
            "rot90": N23,
            "diagflat": N23,
            "tril": N34,
            "triu": N34,
            "sort": N34,
            "amax": N34,
            "ptp": N34,
            "median": N34,
            "nansum": N34,
            "nanmean": N34,
            "nanvar": N34,
            "nanstd": N34,
            "nanmax": N34,
            "nanmin": N34,
            "nanprod": N34,
            "nanmedian": N34,
            "corrcoef": N34,
            "diff": N34,
            "trapezoid": N34,
            "real": N23,
            "conj": N23,
            "inv": ("spd", 2, 3, 3),
            "det": ("n", 2, 3, 3),
            "logdet": ("spd", 3, 3),
            "norm": N34,
            "normalize": N34,
            "rms_normalization": N34,
            "layer_normalization": N34,
            "trace": ("n", 3, 3),
        }.items()
    },
    "arctan2": (ops.arctan2, [N23, N23]),
    "hypot": (ops.hypot, [N23, N23]),
    "logaddexp": (ops.logaddexp, [N23, N23]),
    "logaddexp2": (ops.logaddexp2, [N23, N23]),
    "fmax": (ops.fmax, [N23, N23]),
    "fmin": (ops.fmin, [N23, N23]),
    "mod": (ops.mod, [POS, ("pos", 3)]),
    "fmod": (ops.fmod, [N23, ("pos", 3)]),
    "divide_no_nan": (ops.divide_no_nan, [N23, POS]),
    "true_divide": (ops.true_divide, [N23, POS]),
    "power": (ops.power, [POS, N23]),
    "ldexp": (lambda a: ops.ldexp(a, np.array([1, -1, 2])), [N23]),
    "elu": (lambda x: ops.celu(x, alpha=0.5), [N23]),
    "threshold": (lambda x: ops.threshold(x, 0.1, -2.0), [N23]),
    "glu0": (lambda x: ops.glu(x, axis=0), [("n", 4, 3)]),
    "moments": (lambda x: _sum_tuple(ops.moments(x, axes=(0,))), [N34]),
    "batch_normalization": (
        lambda x, m, v, o, s: ops.batch_normalization(x, m, v, -1, offset=o, scale=s),
        [N34, N4, ("pos", 4), N4, N4],
    ),
    "layer_normalization_params": (
        lambda x, g, b: ops.layer_normalization(x, gamma=g, beta=b),
        [N34, N4, N4],
    ),
    "rms_normalization_scale": (lambda x, s: ops.rms_normalization(x, scale=s), [N34, N4]),
    "normalize_l1": (lambda x: ops.normalize(x, axis=0, order=1), [N34]),
    "psnr": (lambda a, b: ops.psnr(a, b, 1.0), [N23, N23]),
    "depth_to_space": (lambda x: ops.depth_to_space(x, 2), [("n", 1, 1, 2, 4)]),
    "space_to_depth": (
        lambda x: ops.space_to_depth(x, 2, data_format="channels_first"),
        [("n", 1, 1, 2, 4)],
    ),
    "unfold": (lambda x: ops.unfold(x, 2, padding=1, stride=2), [("n", 1, 2, 3, 3)]),
    "fold": (lambda x: ops.fold(x, (3, 3), 2, padding=1, stride=2), [("n", 1, 8, 4)]),
    "dot_product_attention": (
        lambda q, k, v: ops.dot_product_attention(q, k, v, is_causal=True),
        [("n", 1, 3, 1, 2), ("n", 1, 3, 1, 2), ("n", 1, 3, 1, 2)],
    ),
    "vander": (lambda x: ops.vander(x, 3), [("n", 3)]),
    "meshgrid": (lambda a, b: _sum_tuple(ops.meshgrid(a, b)) ** 2, [("n", 3), ("n", 2)]),
    "roll": (lambda x: ops.roll(x, 1, axis=1) * ops.arange(3.0, dtype="float64"), [N23]),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1) * ops.arange(2.0, dtype="float64"), [N23]),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, 1) * ops.arange(2.0, dtype="float64"), [N23]),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (4, 2, 3)) ** 2, [("n", 2, 1)]),
    "diagonal": (lambda x: ops.diagonal(x, 1), [N34]),
    "diag": (lambda x: ops.diag(x, -1) ** 2, [("n", 3)]),
    "take": (lambda x: ops.take(x, np.array([[2, 0], [2, 1]]), axis=1) ** 2, [N23]),
    "take_along_axis": (
        lambda x: ops.take_along_axis(x, np.array([[0, 2, 2]]), axis=1) ** 2,
        [N23],
    ),
    "top_k": (lambda x: ops.top_k(x, 2)[0] ** 2, [N34]),
    "append": (lambda a, b: ops.append(a, b, axis=0) ** 2, [N23, N23]),
    "hstack": (lambda a, b: ops.hstack([a, b]) ** 2, [N23, N23]),
    "vstack": (lambda a, b: ops.vstack([a, b]) ** 2, [("n", 3), ("n", 3)]),
    "dstack": (lambda a, b: ops.dstack([a, b]) ** 2, [N23, N23]),
    "split": (lambda x: ops.split(x, [1, 3], axis=1)[1] ** 2, [N34]),
    "array_split": (lambda x: ops.array_split(x, 3, axis=1)[0] ** 2, [N34]),
    "unstack": (lambda x: ops.unstack(x, axis=1)[2] ** 2, [N34]),
    "pad_reflect": (lambda x: ops.pad(x, ((1, 1), (2, 1)), mode="reflect") ** 2, [N34]),
    "expand_dims": (lambda x: ops.expand_dims(x, (0, 2)) ** 2, [N23]),
    "max_initial": (lambda x: ops.max(x, axis=1, initial=0.0), [N34]),
    "cumprod": (lambda x: ops.cumprod(x, axis=1), [POS]),
    "nancumsum": (lambda x: ops.nancumsum(x, axis=1) ** 2, [N23]),
    "quantile": (lambda x: ops.quantile(x, [0.3, 0.8], axis=1), [N34]),
    "percentile": (lambda x: ops.percentile(x, 40.0), [N34]),
    "nanquantile": (lambda x: ops.nanquantile(x, 0.3, axis=0), [N34]),
    "average": (lambda x, w: ops.average(x, axis=1, weights=w), [N34, ("pos", 4)]),
    "trapezoid_x": (lambda y, x: ops.trapezoid(y, x), [N34, ("n", 4)]),
    "select": (
        lambda a, b: (
            ops.select(
                [np.array([True, False, False]), np.array([True, True, False])], [a, b], default=0.5
            )
            ** 2
        ),  # fmt: skip
        [N23, N23],
    ),
    "einsum_mm": (lambda a, b: ops.einsum("ij,jk->ik", a, b), [N23, ("n", 3, 2)]),
    "einsum_ellipsis": (
        lambda a, b: ops.einsum("...ij,jk->...ik", a, b) ** 2,
        [("n", 2, 2, 3), ("n", 3, 2)],
    ),
    "einsum_reduce": (lambda a: ops.einsum("bij->j", a) ** 2, [("n", 2, 2, 3)]),
    "einsum_broadcast": (
        lambda a, b: ops.einsum("...i,...i->...", a, b) ** 2,
        [("n", 1, 3), ("n", 2, 3)],
    ),
    "inner": (ops.inner, [N23, ("n", 4, 3)]),
    "outer": (lambda a, b: ops.outer(a, b) ** 2, [("n", 3), ("n", 2)]),
    "vdot": (ops.vdot, [N23, N23]),
    "kron": (lambda a, b: ops.kron(a, b) ** 2, [("n", 2, 2), ("n", 1, 2)]),
    "cross": (lambda a, b: ops.cross(a, b) ** 2, [("n", 2, 3), ("n", 2, 3)]),
    "cdist": (ops.cdist, [("n", 2, 3), ("n", 3, 3)]),
    "rearrange": (
        lambda x: (
            ops.rearrange(x, "a (b c) -> c a b", c=2)
            * ops.arange(2.0, dtype="float64")[:, None, None]
        ),
        [N34],
    ),
    "get_item": (lambda x: ops.get_item(x, (1, slice(0, 2))) ** 2, [N23]),
    "slice": (lambda x: ops.slice(x, (1, 1), (2, 2)) ** 2, [N34]),
    "slice_update": (lambda x, u: ops.slice_update(x, (1, 1), u) ** 2, [N34, ("n", 2, 2)]),
    "scatter": (
        lambda v: ops.scatter(np.array([[0, 1], [2, 2], [0, 1]]), v, (3, 3)) ** 2,
        [("n", 3)],
    ),
    "scatter_update": (
        lambda x, u: ops.scatter_update(x, np.array([[0, 1], [2, 2]]), u) ** 2,
        [("n", 3, 3), ("n", 2)],
    ),
    "scatter_update_add": (
        lambda x, u: ops.scatter_update(x, np.array([[0, 1], [2, 2]]), u, reduction="add") ** 2,
        [("n", 3, 3), ("n", 2)],
    ),
    **{
        f"segment_{kind}": (
            lambda x, kind=kind: (
                getattr(ops, f"segment_{kind}")(x, np.array([0, 2, 1, 2]), 3)
                * ops.arange(1.0, 7.0, dtype="float64").reshape((3, 2))
            ),
            [("pos", 4, 2)],
        )
        for kind in ("sum", "max", "min", "prod")
    },
    "extract_sequences": (lambda x: ops.extract_sequences(x, 3, 2) ** 2, [("n", 2, 7)]),
    "scan": (
        lambda x: ops.scan(lambda c, v: (c * v + 1.0, c * 2.0), ops.ones((2,), "float64"), x)[1],
        [("n", 3, 2)],
    ),
    "associative_scan": (lambda x: ops.associative_scan(ops.multiply, x, axis=1), [N34]),
    "map": (lambda x: ops.map(lambda r: ops.sum(r * r), x), [N34]),
    "vectorized_map": (lambda x: ops.vectorized_map(lambda r: r[::-1] * r, x), [N34]),
    "fori_loop": (lambda x: ops.fori_loop(0, 3, lambda i, v: v * v + i, x), [UNIT]),
    "while_loop": (
        lambda x: ops.while_loop(
            lambda v, i: i < 3, lambda v, i: (ops.sin(v) * 2.0, i + 1), (x, 0)
        )[0],
        [N23],
    ),
    "cond": (lambda x: ops.cond(True, lambda: x * 3.0, lambda: x), [N23]),
    "switch": (lambda x: ops.switch(1, [ops.sin, ops.cos], x), [N23]),
    "slogdet": (lambda x: ops.slogdet(x)[1], [("n", 2, 3, 3)]),
    "solve": (ops.solve, [("spd", 2, 3, 3), ("n", 2, 3, 2)]),
    "solve_vector": (ops.solve, [("spd", 3, 3), ("n", 3)]),
    "solve_triangular": (
        lambda a, b: ops.solve_triangular(a, b, lower=True),
        [("spd", 3, 3), ("n", 3, 2)],
    ),
    "cholesky": (
        lambda a: ops.cholesky(_sym(a)) * ops.arange(1.0, 4.0, dtype="float64"),
        [("spd", 3, 3)],
    ),
    "cholesky_inverse": (ops.cholesky_inverse, [("spd", 3, 3)]),
    "eigh": (
        lambda a: _sum_tuple(
            (
                ops.eigh(_sym(a))[0] * ops.arange(1.0, 4.0, dtype="float64"),
                ops.matmul(ops.eigh(_sym(a))[1] ** 2, ops.arange(1.0, 4.0, dtype="float64")),
            )
        ),  # fmt: skip
        [("spd", 3, 3)],
    ),
    "norm_axis_l1": (lambda x: ops.norm(x, ord=1, axis=1), [N34]),
    "norm_p3": (lambda x: ops.norm(x, ord=3, axis=0), [N34]),
    "norm_inf": (lambda x: ops.norm(x, ord=np.inf, axis=1), [N34]),
    "norm_fro": (lambda x: ops.norm(x, ord="fro"), [N34]),
    "norm_mat1": (lambda x: ops.norm(x, ord=1), [N34]),
    "fft": (lambda a, b: _sum_tuple(o**2 for o in ops.fft((a, b))), [N34, N34]),
    "fft2": (lambda a, b: _sum_tuple(o**2 for o in ops.fft2((a, b))), [N34, N34]),
    "ifft2": (lambda a, b: _sum_tuple(o**2 for o in ops.ifft2((a, b))), [N34, N34]),
    "rfft": (lambda a: _sum_tuple(o**2 for o in ops.rfft(a, 6)), [("n", 2, 5)]),
    "irfft": (lambda a, b: ops.irfft((a, b), 6) ** 2, [N34, N34]),
    "irfft_odd": (lambda a, b: ops.irfft((a, b), 7) ** 2, [N34, N34]),
    "stft": (lambda x: _sum_tuple(o**2 for o in ops.stft(x, 4, 2, 4)), [("n", 10)]),
    "istft": (lambda a, b: ops.istft((a, b), 4, 2, 4) ** 2, [("n", 4, 3), ("n", 4, 3)]),
    "correlate": (lambda a, v: ops.correlate(a, v, mode="same") ** 2, [("n", 5), ("n", 3)]),
    "ctc_loss": (
        lambda out: ops.ctc_loss(np.array([[1, 1, 2], [2, 0, 0]]), out, [3, 1], [5, 4]),
        [("n", 2, 5, 3)],
    ),
    "adaptive_average_pool": (
        lambda x: ops.adaptive_average_pool(x, (2, 2), data_format="channels_last") ** 2,
        [("n", 1, 3, 5, 2)],
    ),
    "adaptive_max_pool": (
        lambda x: ops.adaptive_max_pool(x, 2, data_format="channels_first") ** 2,
        [("n", 1, 2, 5)],
    ),
    "image.resize": (
        lambda x: ops.image.resize(x, (3, 5), interpolation="bicubic") ** 2,
        [("n", 1, 4, 3, 1)],
    ),
    "image.resize_aa": (
        lambda x: ops.image.resize(x, (2, 2), antialias=True) ** 2,
        [("n", 1, 4, 3, 1)],
    ),
    "image.resize_nearest": (
        lambda x: ops.image.resize(x, (5, 2), interpolation="nearest") ** 2,
        [("n", 1, 3, 3, 1)],
    ),
    "image.scale_and_translate": (
        lambda x: (
            ops.image.scale_and_translate(x, (3, 4), [1.2, 0.8], [0.3, 0.0], (0, 1), "lanczos3")
            ** 2
        ),
        [("n", 3, 4)],
    ),
    "image.gaussian_blur": (
        lambda x: ops.image.gaussian_blur(x, data_format="channels_last") ** 2,
        [("n", 1, 3, 4, 1)],
    ),
    "image.sobel_edges": (lambda x: ops.image.sobel_edges(x) ** 2, [("n", 1, 3, 4, 1)]),
    "image.ssim": (
        lambda a, b: ops.image.ssim(a, b, filter_size=3),
        [("pos", 1, 4, 4, 1), ("pos", 1, 4, 4, 1)],
    ),
    "image.extract_patches": (
        lambda x: ops.image.extract_patches(x, 2, strides=1) * ops.arange(4.0, dtype="float64"),
        [("n", 1, 3, 3, 1)],
    ),
    "image.map_coordinates": (
        lambda x: (
            ops.image.map_coordinates(x, np.array([[0.3, 1.7, -0.4], [2.2, 0.5, 1.1]]), 1, "mirror")
            ** 2
        ),
        [("n", 3, 3)],
    ),
    "image.affine_transform": (
        lambda x: ops.image.affine_transform(x, [0.9, 0.2, 0.3, -0.1, 1.1, 0.4, 0, 0]) ** 2,
        [("n", 3, 4, 1)],
    ),
    "image.perspective_transform": (
        lambda x: (
            ops.image.perspective_transform(
                x,
                np.array([[0, 0], [3, 0], [0, 2], [3, 2]]),
                np.array([[0.2, 0], [3, 0.3], [0, 2], [2.8, 2]]),
            )
            ** 2
        ),
        [("n", 3, 4, 1)],
    ),
    "image.rgb_to_grayscale": (lambda x: ops.image.rgb_to_grayscale(x) ** 2, [("n", 2, 2, 3)]),
    "image.hsv_to_rgb": (lambda x: ops.image.hsv_to_rgb(x) ** 2, [("pos", 2, 2, 3)]),
    "image.pad_crop": (
        lambda x: (
            ops.image.crop_images(
                ops.image.pad_images(x, 1, 1, target_height=4, target_width=5),
                1,
                0,
                target_height=3,
                target_width=3,
            )
            ** 2
        ),
        [("n", 2, 3, 1)],
    ),
    "custom_gradient": (
        lambda x: ops.custom_gradient(lambda t: (t * t, lambda g: g * 2.0 * t))(x),
        [N23],
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_gradient(case_id, xp):
    fn, specs = CASES[case_id]
    rng = np.random.default_rng(zlib.crc32(case_id.encode()))
    arrays = [_draw(spec, rng) for spec in specs]
    assert_gradients_match(fn, arrays, xp, rtol=1e-5, atol=1e-6)
