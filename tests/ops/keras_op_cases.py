"""The table of ``keras.ops`` calls whose outputs Keras computed for the fixture.

Shared by ``tools/make_keras_fixtures_ops.py`` (run in the reference Keras env, writes
``tests/fixtures/keras/ops/ops_values.npz``) and ``tests/ops/test_ops_keras_values.py`` (calls
gpuk on the same stored inputs). Each case is ``(case id, op name, args, kwargs)``; an ``In``
in ``args`` (also inside a tuple or list) is an input array drawn by the tool and stored in
the fixture; anything else is passed as written.
"""


class In:
    """An input array: ``kind`` is ``'n'`` (normal), ``'u'`` (uniform in ``[lo, hi)``),
    ``'i'`` (integers in ``[lo, hi)``), ``'b'`` (booleans), ``'spd'`` (a positive-definite
    matrix of size ``shape[-1]``), ``'sort'`` (sorted normal values), ``'nan'`` (normal
    values with two NaNs) or ``'naninf'`` (with a NaN, an inf and a -inf)."""

    def __init__(self, kind, shape, lo=0.0, hi=1.0, dtype=None):
        self.kind, self.shape, self.lo, self.hi, self.dtype = kind, tuple(shape), lo, hi, dtype

    def __repr__(self):
        return f"In({self.kind!r}, {self.shape})"


def N(*shape):
    return In("n", shape)


def U(lo, hi, *shape):
    return In("u", shape, lo, hi)


def I(lo, hi, *shape):  # noqa: E743
    return In("i", shape, lo, hi)


def B(*shape):
    return In("b", shape)


def SPD(*shape):
    return In("spd", shape)


def S(*shape):
    return In("sort", shape)


def _pts(points):
    import numpy as np

    return np.array(points, dtype="float32")


X = N(3, 4)
Y = N(3, 4)
P = U(0.5, 2.0, 3, 4)
UNIT = U(-0.9, 0.9, 3, 4)
M = N(2, 3, 3)

UNARY = """abs absolute arccos:unit arccosh:big arcsin:unit arcsinh arctan arctanh:unit cbrt ceil
cos cosh deg2rad erf erfc erfinv:unit exp exp2 expm1 fabs floor i0 isfinite:nan isinf:nan isnan:nan
isneginf:nan isposinf:nan isreal log:pos log10:pos log1p:pos log2:pos logical_not negative rad2deg
reciprocal:pos rsqrt:pos sign signbit sin sinc sinh sqrt:pos square tan tanh trunc
celu elu gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu
log_sigmoid log_softmax relu relu6 selu sigmoid silu soft_shrink softmax softplus softsign
sparse_plus sparse_sigmoid sparsemax squareplus swish tanh_shrink copy ravel
nan_to_num:nan real imag conj conjugate angle""".split()

XN = In("nan", (3, 4))
_SAMPLERS = {"unit": UNIT, "pos": P, "big": U(1.1, 3.0, 3, 4), "nan": In("naninf", (3, 4))}

BINARY = """add subtract multiply divide true_divide maximum minimum arctan2 hypot logaddexp
logaddexp2 fmax fmin mod:pos fmod:pos divide_no_nan power:pos equal not_equal greater
greater_equal less less_equal logical_and logical_or logical_xor isclose heaviside
nextafter floor_divide:pos""".split()

INT_BINARY = "bitwise_and bitwise_or bitwise_xor left_shift right_shift gcd lcm".split()


def _unary_cases():
    for entry in UNARY:
        name, _, kind = entry.partition(":")
        yield (name, name, [_SAMPLERS.get(kind, X)], {})


def _binary_cases():
    for entry in BINARY:
        name, _, kind = entry.partition(":")
        a = _SAMPLERS.get(kind, X)
        yield (name, name, [a, _SAMPLERS.get(kind, Y)], {})
    for name in INT_BINARY:
        yield (name, name, [I(1, 20, 3, 4), I(1, 4, 3, 4)], {})
    yield ("bitwise_not", "bitwise_not", [I(0, 20, 3, 4)], {})
    yield ("bitwise_invert", "bitwise_invert", [I(0, 20, 3, 4)], {})
    yield ("ldexp", "ldexp", [X, I(-2, 3, 3, 4)], {})


CASES = [
    *_unary_cases(),
    *_binary_cases(),
    ("gelu_exact", "gelu", [X], {"approximate": False}),
    ("elu_alpha", "elu", [X], {"alpha": 0.5}),
    ("celu_alpha", "celu", [X], {"alpha": 2.0}),
    ("leaky_relu_slope", "leaky_relu", [X], {"negative_slope": 0.1}),
    ("softmax_axis0", "softmax", [X], {"axis": 0}),
    ("squareplus_b", "squareplus", [X], {"b": 1}),
    ("threshold", "threshold", [X, 0.1, -2.0], {}),
    ("glu_axis0", "glu", [N(4, 3)], {"axis": 0}),
    ("round", "round", [N(3, 4)], {}),
    ("round_dec", "round", [N(3, 4)], {"decimals": 2}),
    ("clip", "clip", [X, -0.5, 0.5], {}),
    ("where", "where", [B(3, 4), X, Y], {}),
    # creation
    ("arange_int", "arange", [7], {}),
    ("arange_float", "arange", [0.5, 3.0, 0.5], {}),
    ("arange_dtype", "arange", [1, 9, 2], {"dtype": "float32"}),
    ("linspace", "linspace", [0.0, 1.0, 7], {}),
    ("linspace_open", "linspace", [-1.0, 2.0, 5], {"endpoint": False}),
    ("logspace", "logspace", [0.0, 2.0, 5], {}),
    ("geomspace", "geomspace", [1.0, 100.0, 5], {}),
    ("eye", "eye", [3, 4], {"k": 1}),
    ("identity", "identity", [3], {}),
    ("tri", "tri", [3, 4], {"k": -1}),
    ("zeros", "zeros", [(2, 3)], {}),
    ("ones", "ones", [(2, 3)], {"dtype": "int32"}),
    ("full", "full", [(2, 3), 2.5], {}),
    ("full_like", "full_like", [X, 3.0], {}),
    ("zeros_like", "zeros_like", [X], {}),
    ("ones_like", "ones_like", [X], {}),
    ("bartlett", "bartlett", [6], {}),
    ("blackman", "blackman", [6], {}),
    ("hamming", "hamming", [6], {}),
    ("hanning", "hanning", [6], {}),
    ("kaiser", "kaiser", [6, 2.5], {}),
    ("vander", "vander", [N(4)], {"N": 3}),
    ("vander_inc", "vander", [N(4)], {"increasing": True}),
    ("meshgrid", "meshgrid", [N(3), N(2)], {}),
    ("meshgrid_ij", "meshgrid", [N(3), N(2)], {"indexing": "ij"}),
    # rearranging
    ("flip", "flip", [X], {"axis": 1}),
    ("flip_all", "flip", [X], {}),
    ("fliplr", "fliplr", [X], {}),
    ("flipud", "flipud", [X], {}),
    ("roll", "roll", [X, 2], {"axis": 1}),
    ("roll_flat", "roll", [X, -3], {}),
    ("rot90", "rot90", [X], {}),
    ("rot90_k2", "rot90", [N(2, 3, 4)], {"k": 2, "axes": (1, 2)}),
    ("moveaxis", "moveaxis", [N(2, 3, 4), 0, -1], {}),
    ("swapaxes", "swapaxes", [N(2, 3, 4), 0, 2], {}),
    ("broadcast_to", "broadcast_to", [N(3, 1), (2, 3, 4)], {}),
    ("diagonal", "diagonal", [N(2, 3, 4)], {"offset": 1, "axis1": 1, "axis2": 2}),
    ("diag_vec", "diag", [N(3)], {"k": 1}),
    ("diag_mat", "diag", [X], {"k": -1}),
    ("diagflat", "diagflat", [N(2, 2)], {}),
    ("trace", "trace", [N(2, 3, 3)], {"axis1": 1, "axis2": 2}),
    ("tril", "tril", [X], {}),
    ("triu", "triu", [X], {"k": 1}),
    ("take", "take", [X, I(-4, 4, 2, 2)], {"axis": 1}),
    ("take_flat", "take", [X, I(0, 12, 5)], {}),
    ("take_along_axis", "take_along_axis", [X, I(0, 3, 2, 4)], {"axis": 0}),
    ("sort", "sort", [X], {}),
    ("sort_axis0", "sort", [X], {"axis": 0}),
    ("argsort", "argsort", [X], {}),
    ("top_k", "top_k", [N(3, 6), 2], {}),
    ("append", "append", [X, Y], {}),
    ("append_axis", "append", [X, Y], {"axis": 0}),
    ("hstack", "hstack", [[X, Y]], {}),
    ("vstack", "vstack", [[N(4), N(4)]], {}),
    ("dstack", "dstack", [[X, Y]], {}),
    ("split_int", "split", [N(6, 2), 3], {}),
    ("split_idx", "split", [N(6, 2), [1, 4]], {}),
    ("array_split", "array_split", [N(7, 2), 3], {}),
    ("hsplit", "hsplit", [N(2, 4), 2], {}),
    ("vsplit", "vsplit", [N(4, 2), 2], {}),
    ("dsplit", "dsplit", [N(2, 2, 4), [1]], {}),
    ("unstack", "unstack", [N(3, 2)], {"axis": 1}),
    ("concatenate", "concatenate", [[X, Y]], {}),
    ("stack", "stack", [[X, Y]], {"axis": 1}),
    ("tile", "tile", [N(2, 3), (2, 1)], {}),
    ("repeat", "repeat", [N(2, 3), 2], {"axis": 1}),
    ("expand_dims_tuple", "expand_dims", [N(2, 3), (0, 3)], {}),
    ("pad_reflect", "pad", [X, ((1, 1), (2, 2))], {"mode": "reflect"}),
    ("pad_symmetric", "pad", [X, ((1, 0), (0, 2))], {"mode": "symmetric"}),
    ("pad_const", "pad", [X, ((1, 0), (0, 2))], {"constant_values": 1.5}),
    ("one_hot_axis0", "one_hot", [I(0, 3, 4), 3], {"axis": 0}),
    ("multi_hot", "multi_hot", [I(0, 5, 3, 2), 5], {}),
    # reductions and statistics
    ("sum", "sum", [X], {"axis": 1}),
    ("argmax_none", "argmax", [X], {}),
    ("argmin_keep", "argmin", [X], {"axis": 1, "keepdims": True}),
    ("max_initial", "max", [X], {"axis": 0, "initial": 0.5}),
    ("amax", "amax", [X], {"axis": 1}),
    ("amin", "amin", [X], {"axis": 0, "keepdims": True}),
    ("ptp", "ptp", [X], {"axis": 1}),
    ("cumsum_flat", "cumsum", [X], {}),
    ("cumprod", "cumprod", [X], {"axis": 1}),
    ("cumprod_flat", "cumprod", [X], {}),
    ("nansum", "nansum", [XN], {"axis": 1}),
    ("nanmean", "nanmean", [XN], {"axis": 0}),
    ("nanvar", "nanvar", [XN], {}),
    ("nanstd", "nanstd", [XN], {"axis": 1}),
    ("nanmax", "nanmax", [XN], {"axis": 1}),
    ("nanmin", "nanmin", [XN], {}),
    ("nanprod", "nanprod", [XN], {"axis": 1}),
    ("nanargmax", "nanargmax", [XN], {"axis": 1}),
    ("nanargmin", "nanargmin", [XN], {}),
    ("nancumsum", "nancumsum", [XN], {"axis": 1}),
    ("nancumprod", "nancumprod", [XN], {"axis": 0}),
    ("median", "median", [N(3, 5)], {"axis": 1}),
    ("median_all", "median", [X], {}),
    ("nanmedian", "nanmedian", [N(3, 5)], {"axis": 0}),
    ("quantile", "quantile", [N(3, 5), 0.3], {"axis": 1}),
    ("quantile_vec", "quantile", [N(3, 5), [0.1, 0.75]], {"axis": 0, "keepdims": True}),
    ("quantile_lower", "quantile", [N(3, 5), 0.3], {"axis": 1, "method": "lower"}),
    ("quantile_higher", "quantile", [N(3, 5), 0.3], {"axis": 1, "method": "higher"}),
    ("quantile_mid", "quantile", [N(3, 5), 0.3], {"axis": 1, "method": "midpoint"}),
    ("quantile_nearest", "quantile", [N(3, 5), 0.6], {"axis": 1, "method": "nearest"}),
    ("percentile", "percentile", [N(3, 5), 40.0], {}),
    ("nanquantile", "nanquantile", [N(3, 5), 0.5], {"axis": 1}),
    ("nanpercentile", "nanpercentile", [N(3, 5), 25.0], {"axis": 1}),
    ("average", "average", [X], {"axis": 1}),
    ("average_w", "average", [X], {"axis": 1, "weights": U(0.1, 1, 4)}),
    ("average_w_all", "average", [X], {"weights": U(0.1, 1, 3, 4)}),
    ("count_nonzero", "count_nonzero", [I(0, 2, 3, 4)], {"axis": 1}),
    ("diff", "diff", [X], {}),
    ("diff_n2", "diff", [N(3, 5)], {"n": 2, "axis": 1}),
    ("diff_axis0", "diff", [X], {"axis": 0}),
    ("trapezoid", "trapezoid", [X], {}),
    ("trapezoid_x", "trapezoid", [X], {"x": S(4)}),
    ("trapezoid_dx", "trapezoid", [X], {"dx": 0.5, "axis": 0}),
    ("searchsorted", "searchsorted", [S(6), N(4)], {}),
    ("searchsorted_right", "searchsorted", [S(6), N(4)], {"side": "right"}),
    ("digitize", "digitize", [N(5), S(4)], {}),
    ("bincount", "bincount", [I(0, 5, 8)], {}),
    ("bincount_w", "bincount", [I(0, 5, 8)], {"weights": U(0, 1, 8), "minlength": 7}),
    ("histogram", "histogram", [N(20)], {"bins": 4}),
    ("isin", "isin", [I(0, 6, 3, 4), I(0, 6, 3)], {}),
    ("nonzero", "nonzero", [I(0, 2, 3, 4)], {}),
    ("unique", "unique", [I(0, 5, 10)], {}),
    ("unique_all", "unique", [I(0, 5, 10)], {"return_inverse": True, "return_counts": True}),
    ("corrcoef", "corrcoef", [N(3, 6)], {}),
    ("mean", "mean", [X], {"axis": (0, 1)}),
    ("var", "var", [X], {"axis": 0}),
    ("std", "std", [X], {"axis": 1, "keepdims": True}),
    ("logsumexp", "logsumexp", [X], {"axis": 1}),
    ("all", "all", [B(3, 4)], {"axis": 1}),
    ("any", "any", [B(3, 4)], {}),
    ("prod", "prod", [X], {"axis": 1}),
    # products
    ("einsum_mm", "einsum", ["ij,jk->ik", N(2, 3), N(3, 4)], {}),
    ("einsum_batch", "einsum", ["...ij,...jk->...ik", N(2, 2, 3), N(3, 4)], {}),
    ("einsum_implicit", "einsum", ["ij,ij", X, Y], {}),
    ("einsum_outer", "einsum", ["i,j->ij", N(3), N(2)], {}),
    ("einsum_reduce", "einsum", ["bij->bj", N(2, 3, 4)], {}),
    ("inner", "inner", [X, Y], {}),
    ("outer", "outer", [N(3), N(2, 2)], {}),
    ("vdot", "vdot", [X, Y], {}),
    ("kron", "kron", [N(2, 2), N(2, 3)], {}),
    ("cross", "cross", [N(4, 3), N(4, 3)], {}),
    ("cross_2d", "cross", [N(4, 2), N(4, 2)], {}),
    ("cdist", "cdist", [N(2, 3, 4), N(2, 5, 4)], {}),
    ("matmul", "matmul", [N(2, 3, 4), N(4, 2)], {}),
    ("dot", "dot", [X, N(4, 2)], {}),
    ("tensordot", "tensordot", [N(2, 3, 4), N(3, 4, 2)], {}),
    ("rearrange", "rearrange", [N(2, 3, 4), "b h w -> b w h"], {}),
    ("rearrange_merge", "rearrange", [N(2, 3, 4), "b h w -> b (h w)"], {}),
    ("rearrange_split", "rearrange", [N(2, 6, 4), "b (h p) w -> b h p w"], {"p": 2}),
    # core
    ("slice", "slice", [N(4, 5), (1, 2), (2, 3)], {}),
    ("slice_update", "slice_update", [N(4, 5), (1, 2), N(2, 2)], {}),
    ("scatter", "scatter", [I(0, 3, 4, 2), N(4), (3, 3)], {}),
    ("scatter_update", "scatter_update", [N(3, 3), [[0, 1], [2, 2]], N(2)], {}),
    (
        "scatter_update_add",
        "scatter_update",
        [N(3, 3), [[0, 1], [2, 2]], N(2)],
        {"reduction": "add"},
    ),
    ("segment_sum", "segment_sum", [N(5, 2), I(0, 3, 5)], {"num_segments": 3}),
    ("segment_max", "segment_max", [N(5, 2), I(0, 3, 5)], {"num_segments": 3}),
    ("segment_min", "segment_min", [N(5, 2), I(0, 3, 5)], {"num_segments": 3}),
    ("segment_prod", "segment_prod", [N(5, 2), I(0, 3, 5)], {"num_segments": 3}),
    ("unravel_index", "unravel_index", [I(0, 12, 5), (3, 4)], {}),
    ("extract_sequences", "extract_sequences", [N(2, 10), 4, 3], {}),
    ("saturate_cast", "saturate_cast", [U(-300, 300, 3, 4), "uint8"], {}),
    ("cast", "cast", [X, "int32"], {}),
    ("convert_to_tensor", "convert_to_tensor", [[1.5, 2.0]], {}),
    ("get_item", "get_item", [X, 1], {}),
    ("select", "select", [[B(3, 4), B(3, 4)], [X, Y]], {"default": -1.0}),
    ("in_top_k", "in_top_k", [I(0, 5, 4), N(4, 5), 2], {}),
    # nn
    ("moments", "moments", [N(3, 4, 2), (0, 1)], {}),
    ("normalize", "normalize", [X], {}),
    ("normalize_l1", "normalize", [X], {"axis": 0, "order": 1}),
    ("rms_normalization", "rms_normalization", [X], {"scale": N(4)}),
    ("layer_normalization", "layer_normalization", [X], {"gamma": N(4), "beta": N(4)}),
    (
        "batch_normalization",
        "batch_normalization",
        [X, N(4), U(0.5, 2, 4), -1],
        {"offset": N(4), "scale": N(4)},
    ),  # fmt: skip
    ("psnr", "psnr", [U(0, 1, 2, 4, 4, 3), U(0, 1, 2, 4, 4, 3), 1.0], {}),
    ("depth_to_space", "depth_to_space", [N(1, 2, 2, 8), 2], {}),
    ("depth_to_space_cf", "depth_to_space", [N(1, 8, 2, 2), 2], {"data_format": "channels_first"}),
    ("space_to_depth", "space_to_depth", [N(1, 4, 4, 2), 2], {}),
    ("space_to_depth_cf", "space_to_depth", [N(1, 2, 4, 4), 2], {"data_format": "channels_first"}),
    ("unfold", "unfold", [N(2, 2, 5, 5), 3], {"padding": 1, "stride": 2}),
    ("fold", "fold", [N(2, 8, 9), (4, 4), 2], {"padding": 1, "stride": 2}),
    ("dpa", "dot_product_attention", [N(2, 3, 2, 4), N(2, 5, 2, 4), N(2, 5, 2, 4)], {}),
    (
        "dpa_causal",
        "dot_product_attention",
        [N(2, 4, 2, 4), N(2, 4, 2, 4), N(2, 4, 2, 4)],
        {"is_causal": True},
    ),  # fmt: skip
    (
        "dpa_mask_bias",
        "dot_product_attention",
        [N(2, 3, 2, 4), N(2, 5, 2, 4), N(2, 5, 2, 4)],
        {"mask": B(2, 1, 3, 5), "bias": N(1, 2, 3, 5), "scale": 0.3},
    ),  # fmt: skip
    ("dpa_gqa", "dot_product_attention", [N(1, 3, 4, 2), N(1, 3, 2, 2), N(1, 3, 2, 2)], {}),
    ("polar", "polar", [P, X], {}),
    ("binary_crossentropy", "binary_crossentropy", [U(0, 1, 3, 4), U(0.05, 0.95, 3, 4)], {}),
    (
        "categorical_crossentropy",
        "categorical_crossentropy",
        [U(0, 1, 3, 4), U(0.05, 0.95, 3, 4)],
        {},
    ),  # fmt: skip
    ("correlate", "correlate", [N(6), N(3)], {}),
    ("correlate_same", "correlate", [N(6), N(3)], {"mode": "same"}),
    ("correlate_full", "correlate", [N(3), N(5)], {"mode": "full"}),
    ("correlate_short", "correlate", [N(3), N(5)], {}),
    ("ctc_loss", "ctc_loss", [I(1, 4, 2, 3), N(2, 6, 4), [3, 2], [6, 5]], {}),
    ("ctc_loss_repeat", "ctc_loss", [[[1, 1, 2], [2, 2, 0]], N(2, 7, 3), [3, 2], [7, 7]], {}),
    ("ctc_loss_mask", "ctc_loss", [I(0, 3, 2, 2), N(2, 5, 4), [2, 1], [5, 4]], {"mask_index": 3}),
    ("ctc_decode", "ctc_decode", [N(2, 8, 4), [8, 6]], {}),
    (
        "ctc_decode_nomerge",
        "ctc_decode",
        [N(2, 8, 4), [7, 8]],
        {"merge_repeated": False, "mask_index": 2},
    ),
    ("adaptive_avg_1d", "adaptive_average_pool", [N(2, 7, 3), 3], {"data_format": "channels_last"}),
    ("adaptive_max_1d", "adaptive_max_pool", [N(2, 7, 3), 4], {"data_format": "channels_last"}),
    (
        "adaptive_avg_2d",
        "adaptive_average_pool",
        [N(2, 5, 7, 3), (2, 3)],
        {"data_format": "channels_last"},
    ),
    (
        "adaptive_max_2d_cf",
        "adaptive_max_pool",
        [N(2, 3, 5, 7), (3, 2)],
        {"data_format": "channels_first"},
    ),
    (
        "adaptive_avg_3d",
        "adaptive_average_pool",
        [N(1, 4, 5, 3, 2), 2],
        {"data_format": "channels_last"},
    ),
    (
        "adaptive_max_3d",
        "adaptive_max_pool",
        [N(1, 2, 5, 4, 3), (2, 3, 2)],
        {"data_format": "channels_first"},
    ),
    # linalg
    ("inv", "inv", [SPD(2, 3, 3)], {}),
    ("det", "det", [M], {}),
    ("slogdet", "slogdet", [M], {}),
    ("logdet", "logdet", [SPD(3, 3)], {}),
    ("solve", "solve", [SPD(2, 3, 3), N(2, 3, 2)], {}),
    ("solve_triangular", "solve_triangular", [SPD(3, 3), N(3, 2)], {"lower": True}),
    ("solve_triangular_up", "solve_triangular", [SPD(3, 3), N(3, 2)], {}),
    ("cholesky", "cholesky", [SPD(2, 3, 3)], {}),
    ("cholesky_upper", "cholesky", [SPD(3, 3)], {"upper": True}),
    ("cholesky_inverse", "cholesky_inverse", [SPD(3, 3)], {}),
    ("eigh_values", "eigh", [SPD(3, 3)], {}),
    ("norm", "norm", [X], {}),
    ("norm_axis", "norm", [X], {"axis": 1, "ord": 1}),
    ("norm_inf", "norm", [X], {"axis": 0, "ord": float("inf")}),
    ("norm_p3", "norm", [X], {"axis": 1, "ord": 3, "keepdims": True}),
    ("norm_fro", "norm", [X], {"ord": "fro"}),
    ("norm_mat1", "norm", [X], {"ord": 1}),
    ("norm_matinf", "norm", [X], {"ord": float("inf")}),
    ("norm_nuc", "norm", [X], {"ord": "nuc"}),
    ("norm_mat2", "norm", [M], {"ord": 2, "axis": (1, 2)}),
    ("svd_s", "svd", [X], {"compute_uv": False}),
    ("pinv", "pinv", [X], {}),
    ("matrix_rank", "matrix_rank", [X], {}),
    ("lstsq", "lstsq", [N(5, 3), N(5, 2)], {}),
    ("lu_factor", "lu_factor", [N(2, 3, 3)], {}),
    # signal
    ("fft", "fft", [(N(3, 8), N(3, 8))], {}),
    ("fft2", "fft2", [(N(2, 4, 4), N(2, 4, 4))], {}),
    ("ifft2", "ifft2", [(N(2, 4, 4), N(2, 4, 4))], {}),
    ("rfft", "rfft", [N(3, 8)], {}),
    ("rfft_len", "rfft", [N(3, 8)], {"fft_length": 6}),
    ("irfft", "irfft", [(N(3, 5), N(3, 5))], {}),
    ("irfft_len", "irfft", [(N(3, 5), N(3, 5))], {"fft_length": 9}),
    ("stft", "stft", [N(2, 32), 8, 4, 16], {}),
    ("stft_hamming", "stft", [N(32), 8, 4, 8], {"window": "hamming", "center": False}),
    ("stft_none", "stft", [N(32), 8, 4, 8], {"window": None}),
    ("istft", "istft", [(N(2, 9, 9), N(2, 9, 9)), 16, 4, 16], {}),
    ("istft_len", "istft", [(N(9, 5), N(9, 5)), 8, 4, 8], {"length": 30, "center": False}),
    ("istft_none", "istft", [(N(9, 5), N(9, 5)), 8, 4, 8], {"window": None}),
    # keras.ops.image
    ("img_gray", "image.rgb_to_grayscale", [U(0, 1, 2, 4, 5, 3)], {}),
    (
        "img_gray_cf",
        "image.rgb_to_grayscale",
        [U(0, 1, 3, 4, 5)],
        {"data_format": "channels_first"},
    ),
    ("img_hsv", "image.rgb_to_hsv", [U(0, 1, 2, 4, 5, 3)], {}),
    ("img_rgb", "image.hsv_to_rgb", [U(0, 1, 2, 4, 5, 3)], {}),
    ("img_resize_bilinear", "image.resize", [N(2, 5, 7, 3), (8, 4)], {}),
    ("img_resize_nearest", "image.resize", [N(2, 5, 7, 3), (8, 4)], {"interpolation": "nearest"}),
    ("img_resize_bicubic", "image.resize", [N(5, 7, 2), (3, 9)], {"interpolation": "bicubic"}),
    ("img_resize_lanczos3", "image.resize", [N(1, 6, 6, 1), (4, 9)], {"interpolation": "lanczos3"}),
    ("img_resize_lanczos5", "image.resize", [N(1, 6, 6, 1), (9, 4)], {"interpolation": "lanczos5"}),
    ("img_resize_aa", "image.resize", [N(1, 9, 8, 2), (4, 3)], {"antialias": True}),
    ("img_resize_cf", "image.resize", [N(1, 2, 5, 7), (3, 3)], {"data_format": "channels_first"}),
    ("img_resize_crop", "image.resize", [N(1, 6, 9, 2), (4, 4)], {"crop_to_aspect_ratio": True}),
    (
        "img_resize_pad",
        "image.resize",
        [N(1, 6, 9, 2), (4, 4)],
        {"pad_to_aspect_ratio": True, "fill_value": 0.5},
    ),
    ("img_resize_pad_w", "image.resize", [N(1, 9, 4, 2), (4, 4)], {"pad_to_aspect_ratio": True}),
    (
        "img_scale_translate",
        "image.scale_and_translate",
        [N(1, 5, 6, 2), (1, 7, 4, 2), [1.4, 0.7], [0.5, -0.25], (1, 2), "bilinear"],
        {},
    ),
    (
        "img_scale_translate_cubic",
        "image.scale_and_translate",
        [N(5, 6), (8, 3), [1.6, 0.5], [0.0, 1.0], (0, 1), "cubic"],
        {"antialias": False},
    ),
    ("img_pad", "image.pad_images", [N(2, 3, 4, 2), 1, 2], {"target_height": 6, "target_width": 7}),
    (
        "img_pad_cf",
        "image.pad_images",
        [N(2, 3, 4)],
        {
            "bottom_padding": 2,
            "top_padding": 1,
            "left_padding": 0,
            "right_padding": 3,
            "data_format": "channels_first",
        },
    ),
    (
        "img_crop",
        "image.crop_images",
        [N(2, 6, 7, 2), 1, 2],
        {"target_height": 3, "target_width": 4},
    ),
    (
        "img_crop_b",
        "image.crop_images",
        [N(6, 7, 2)],
        {"bottom_cropping": 2, "top_cropping": 1, "right_cropping": 3, "target_width": 2},
    ),
    ("img_patches", "image.extract_patches", [N(2, 6, 7, 3), 2], {}),
    (
        "img_patches_same",
        "image.extract_patches",
        [N(1, 5, 7, 2), (2, 3)],
        {"strides": (2, 2), "padding": "same"},
    ),
    (
        "img_patches_dil",
        "image.extract_patches",
        [N(1, 7, 7, 2), 2],
        {"strides": 1, "dilation_rate": 2},
    ),
    (
        "img_patches_cf",
        "image.extract_patches",
        [N(1, 2, 6, 6), 3],
        {"data_format": "channels_first"},
    ),
    ("img_patches_3d", "image.extract_patches_3d", [N(1, 4, 4, 6, 2), (2, 2, 3)], {}),
    ("img_blur", "image.gaussian_blur", [N(2, 6, 7, 2)], {"data_format": "channels_last"}),
    (
        "img_blur_k",
        "image.gaussian_blur",
        [N(1, 6, 7, 1)],
        {"kernel_size": (5, 3), "sigma": (2.0, 0.5), "data_format": "channels_last"},
    ),
    ("img_sobel", "image.sobel_edges", [N(2, 5, 6, 2)], {}),
    ("img_ssim", "image.ssim", [U(0, 1, 2, 16, 16, 3), U(0, 1, 2, 16, 16, 3)], {}),
    (
        "img_ssim_small",
        "image.ssim",
        [U(0, 1, 12, 12, 1), U(0, 1, 12, 12, 1)],
        {"filter_size": 5, "max_val": 2.0},
    ),
    ("img_map", "image.map_coordinates", [N(5, 6), U(-1, 6, 2, 3, 4), 1], {}),
    (
        "img_map_nearest",
        "image.map_coordinates",
        [N(5, 6), U(-1, 6, 2, 7), 0],
        {"fill_mode": "nearest"},
    ),
    ("img_map_wrap", "image.map_coordinates", [N(5, 6), U(-3, 9, 2, 7), 1], {"fill_mode": "wrap"}),
    (
        "img_map_mirror",
        "image.map_coordinates",
        [N(5, 6), U(-3, 9, 2, 7), 1],
        {"fill_mode": "mirror"},
    ),
    (
        "img_map_reflect",
        "image.map_coordinates",
        [N(5, 6), U(-3, 9, 2, 7), 1],
        {"fill_mode": "reflect", "fill_value": 0.5},
    ),
    (
        "img_map_const",
        "image.map_coordinates",
        [N(4, 5, 2), U(-1, 5, 3, 6), 1],
        {"fill_value": -2.0},
    ),
    (
        "img_affine",
        "image.affine_transform",
        [N(2, 6, 7, 2), [[0.9, 0.1, 0.5, -0.2, 1.1, 0.3, 0.0, 0.0], [1, 0, -1, 0, 1, 2, 0, 0]]],
        {},
    ),
    (
        "img_affine_nearest",
        "image.affine_transform",
        [N(6, 7, 2), [1.2, 0.2, -0.5, 0.1, 0.8, 1.0, 0.0, 0.0]],
        {"interpolation": "nearest", "fill_mode": "reflect"},
    ),
    (
        "img_affine_cf",
        "image.affine_transform",
        [N(1, 2, 6, 7), [0.9, 0.1, 0.5, -0.2, 1.1, 0.3, 0.0, 0.0]],
        {"fill_mode": "wrap", "data_format": "channels_first"},
    ),
    (
        "img_perspective",
        "image.perspective_transform",
        [
            N(1, 6, 7, 2),
            _pts([[0, 0], [6, 0], [0, 5], [6, 5]]),
            _pts([[1, 0], [5, 1], [0, 5], [6, 4]]),
        ],
        {},
    ),
    (
        "img_perspective_nearest",
        "image.perspective_transform",
        [
            N(6, 7, 1),
            _pts([[0, 0], [6, 0], [0, 5], [6, 5]]),
            _pts([[0, 1], [6, 0], [1, 5], [5, 5]]),
        ],
        {"interpolation": "nearest", "fill_value": 1.0},
    ),
]
