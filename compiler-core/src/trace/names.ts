// Public names of JAX's modules, to tell "not supported by JIT Lens yet" from "no such name".
const words = (s: string) => new Set(s.trim().split(/\s+/));

export const JAX_NAMES: Record<string, Set<string>> = {
  "jax.numpy": words(`
    abs absolute add all allclose amax amin angle any append arange arccos arccosh arcsin arcsinh arctan arctan2
    arctanh argmax argmin argpartition argsort argwhere around array array_equal array_split asarray atleast_1d
    atleast_2d atleast_3d average bincount bitwise_and bitwise_not bitwise_or bitwise_xor block broadcast_arrays
    broadcast_shapes broadcast_to cbrt ceil choose clip column_stack concatenate conj conjugate convolve copy
    copysign corrcoef correlate cos cosh count_nonzero cov cross cumprod cumsum deg2rad degrees delete diag
    diag_indices diagflat diagonal diff digitize divide divmod dot dsplit dstack dtype einsum empty empty_like
    equal exp exp2 expand_dims expm1 eye fabs fill_diagonal flatnonzero flip fliplr flipud float_power floor
    floor_divide fmax fmin fmod frexp full full_like gcd geomspace gradient greater greater_equal heaviside
    histogram hsplit hstack hypot identity imag indices inner insert interp intersect1d invert isclose iscomplex
    isfinite isin isinf isnan isneginf isposinf isreal isscalar kron lcm ldexp left_shift less less_equal
    lexsort linspace log log10 log1p log2 logaddexp logaddexp2 logical_and logical_not logical_or logical_xor
    logspace matmul matrix_transpose max maximum mean median meshgrid min minimum mod moveaxis multiply nan_to_num
    nanargmax nanargmin nancumsum nanmax nanmean nanmin nanprod nanstd nansum nanvar ndim negative nextafter
    nonzero not_equal ones ones_like outer packbits pad partition percentile permute_dims piecewise place
    polyfit polyval positive pow power prod ptp put quantile rad2deg radians ravel ravel_multi_index real
    reciprocal remainder repeat reshape resize right_shift rint roll rollaxis rot90 round searchsorted select
    shape sign signbit sin sinc sinh size sort sort_complex split sqrt square squeeze stack std subtract sum
    swapaxes take take_along_axis tan tanh tensordot tile trace transpose trapezoid tri tril tril_indices triu
    triu_indices true_divide trunc union1d unique unravel_index unwrap vander var vdot vectorize vsplit vstack
    where zeros zeros_like linalg fft float32 float64 float16 bfloat16 int8 int16 int32 int64 uint8 uint32 bool_
    complex64 iinfo finfo issubdtype result_type promote_types astype cumulative_sum isdtype
  `),
  "jax.nn": words(`
    celu elu gelu glu hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu log_sigmoid log_softmax logsumexp
    one_hot relu relu6 selu sigmoid silu soft_sign softmax softplus sparse_plus squareplus standardize swish
    initializers dot_product_attention mish
  `),
  "jax.lax": words(`
    abs acos acosh add argmax argmin asin asinh atan atan2 atanh batch_matmul bitcast_convert_type broadcast
    broadcast_in_dim cbrt ceil clamp collapse concatenate cond conv conv_general_dilated convert_element_type cos
    cosh cummax cummin cumprod cumsum div dot dot_general dynamic_index_in_dim dynamic_slice
    dynamic_slice_in_dim dynamic_update_slice erf erf_inv erfc exp exp2 expand_dims expm1 floor fori_loop gather
    ge gt imag index_in_dim integer_pow iota is_finite le log log1p logistic lt map max min mul ne neg
    nextafter pad population_count pow reduce reduce_max reduce_min reduce_precision reduce_sum rem reshape rev
    round rsqrt scan scatter scatter_add select select_n sign sin sinh slice slice_in_dim sort sqrt square
    squeeze stop_gradient sub switch tan tanh top_k transpose while_loop
  `),
  jax: words(`
    grad value_and_grad vmap jit pmap jacfwd jacrev hessian jvp vjp lax nn numpy random tree_util tree
    checkpoint remat custom_jvp custom_vjp device_put devices make_jaxpr eval_shape ShapeDtypeStruct Array
    disable_jit debug named_call block_until_ready config
  `),
};
