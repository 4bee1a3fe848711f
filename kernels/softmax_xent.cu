// gpuk fused softmax + cross-entropy (Keras 3 categorical / sparse categorical cross-entropy).
//
// Generic twin: the composed losses (gpuk.losses categorical_crossentropy and
// sparse_categorical_crossentropy, from_logits True/False); caller gpuk/ops/fused/softmax_xent.py.
// Templated on T = float, double: "xent_forward<float>", "xent_backward<double>", ...
//
// Entry points; launch (gpuk/ops/fused/launch.py softmax_xent_config): one block per row,
// blockDim = roundup32(ceil(classes / 8)) clamped to [32, 1024], a multiple of 32; no dynamic
// shared memory (static per-warp partials).
//   xent_forward   loss[row], stat[row] = (logsumexp, sum y) from logits, reading each logit once
//                  (online max/sum); (sum p, sum y) for probabilities (two passes over the row:
//                  Keras normalises by the sum before clipping to [eps, 1 - eps]).
//   xent_backward  grad = gloss * (softmax * sum y - y) from logits; for probabilities the
//                  derivative through the normalisation and the clip; written once, in place of
//                  no temporary.
// Labels: dense (y, rows x classes) or sparse (int64 class per row), chosen by `sparse`.
#include "common.cuh"

template <typename T>
struct GpukMaxSum {
  T m, s;
};

template <typename T>
__device__ __forceinline__ GpukMaxSum<T> gpuk_combine(GpukMaxSum<T> a, GpukMaxSum<T> b) {
  if (b.s == T(0)) return a;  // empty partials carry m = -inf; exp(-inf - -inf) would be NaN
  if (a.s == T(0)) return b;
  const T m = gpuk_max(a.m, b.m);
  GpukMaxSum<T> out;
  out.m = m;
  out.s = a.s * gpuk_exp(a.m - m) + b.s * gpuk_exp(b.m - m);
  return out;
}

// Sum of up to two values over the block; every thread gets the totals. blockDim % 32 == 0.
template <typename T>
__device__ __forceinline__ void gpuk_block_sum2(T& a, T& b) {
  __shared__ T partial[2][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  a = gpuk_warp_sum(a);
  b = gpuk_warp_sum(b);
  if (lane == 0) {
    partial[0][warp] = a;
    partial[1][warp] = b;
  }
  __syncthreads();
  a = lane < warps ? partial[0][lane] : T(0);
  b = lane < warps ? partial[1][lane] : T(0);
  a = gpuk_warp_sum(a);
  b = gpuk_warp_sum(b);
  __syncthreads();  // partial may be reused by the next reduction
}

template <typename T>
__device__ __forceinline__ GpukMaxSum<T> gpuk_block_maxsum(GpukMaxSum<T> v) {
  __shared__ T partial[2][32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  for (int offset = 16; offset > 0; offset >>= 1) {
    GpukMaxSum<T> o;
    o.m = __shfl_xor_sync(GPUK_FULL_MASK, v.m, offset);
    o.s = __shfl_xor_sync(GPUK_FULL_MASK, v.s, offset);
    v = gpuk_combine(v, o);
  }
  if (lane == 0) {
    partial[0][warp] = v.m;
    partial[1][warp] = v.s;
  }
  __syncthreads();
  v.m = lane < warps ? partial[0][lane] : gpuk_neg_inf<T>();
  v.s = lane < warps ? partial[1][lane] : T(0);
  for (int offset = 16; offset > 0; offset >>= 1) {
    GpukMaxSum<T> o;
    o.m = __shfl_xor_sync(GPUK_FULL_MASK, v.m, offset);
    o.s = __shfl_xor_sync(GPUK_FULL_MASK, v.s, offset);
    v = gpuk_combine(v, o);
  }
  __syncthreads();
  return v;
}

template <typename T>
__device__ __forceinline__ T gpuk_clip_prob(T q, T epsilon) {
  return gpuk_min(gpuk_max(q, epsilon), T(1) - epsilon);
}

template <typename T>
__global__ void xent_forward(const T* __restrict__ x, const T* __restrict__ y,
                             const long long* __restrict__ labels, T* __restrict__ loss,
                             T* __restrict__ stat, int rows, int classes, int sparse,
                             int from_logits, T epsilon) {
  const int row = blockIdx.x;
  const T* xr = x + (size_t)row * classes;
  const T* yr = sparse ? y : y + (size_t)row * classes;
  const long long label = sparse ? labels[row] : 0;
  if (from_logits) {
    GpukMaxSum<T> ms;
    ms.m = gpuk_neg_inf<T>();
    ms.s = T(0);
    T ysum = T(0), yx = T(0);
    for (int j = threadIdx.x; j < classes; j += blockDim.x) {
      const T v = xr[j];
      GpukMaxSum<T> one;
      one.m = v;
      one.s = T(1);
      ms = gpuk_combine(ms, one);
      if (!sparse) {
        ysum += yr[j];
        yx += yr[j] * v;
      }
    }
    ms = gpuk_block_maxsum(ms);
    if (!sparse) gpuk_block_sum2(ysum, yx);
    if (threadIdx.x == 0) {
      const T lse = ms.m + gpuk_log(ms.s);
      loss[row] = sparse ? lse - xr[label] : ysum * lse - yx;
      stat[2 * row] = lse;
      stat[2 * row + 1] = sparse ? T(1) : ysum;
    }
  } else {
    T psum = T(0), ysum = T(0);
    for (int j = threadIdx.x; j < classes; j += blockDim.x) {
      psum += xr[j];
      if (!sparse) ysum += yr[j];
    }
    gpuk_block_sum2(psum, ysum);
    T total = T(0), unused = T(0);
    if (!sparse) {
      for (int j = threadIdx.x; j < classes; j += blockDim.x)
        if (yr[j] != T(0)) total -= yr[j] * gpuk_log(gpuk_clip_prob(xr[j] / psum, epsilon));
      gpuk_block_sum2(total, unused);
    } else {
      total = -gpuk_log(gpuk_clip_prob(xr[label] / psum, epsilon));
    }
    if (threadIdx.x == 0) {
      loss[row] = total;
      stat[2 * row] = psum;
      stat[2 * row + 1] = sparse ? T(1) : ysum;
    }
  }
}

template <typename T>
__global__ void xent_backward(const T* __restrict__ x, const T* __restrict__ y,
                              const long long* __restrict__ labels, const T* __restrict__ stat,
                              const T* __restrict__ gloss, T* __restrict__ grad, int rows,
                              int classes, int sparse, int from_logits, T epsilon) {
  const int row = blockIdx.x;
  const T* xr = x + (size_t)row * classes;
  const T* yr = sparse ? y : y + (size_t)row * classes;
  T* gr = grad + (size_t)row * classes;
  const long long label = sparse ? labels[row] : -1;
  const T g = gloss[row];
  if (from_logits) {
    const T lse = stat[2 * row], ysum = stat[2 * row + 1];
    for (int j = threadIdx.x; j < classes; j += blockDim.x) {
      const T target = sparse ? (j == label ? T(1) : T(0)) : yr[j];
      gr[j] = g * (gpuk_exp(xr[j] - lse) * ysum - target);
    }
    return;
  }
  // loss = -sum y log c, c = clip(q), q = p / s: dL/dp_k = (a_k - sum_i a_i q_i) / s with
  // a_i = -y_i / q_i where the clip is inactive (else 0), so sum_i a_i q_i = -sum_unclipped y.
  const T psum = stat[2 * row];
  T unclipped = T(0), unused = T(0);
  for (int j = threadIdx.x; j < classes; j += blockDim.x) {
    const T q = xr[j] / psum;
    const T target = sparse ? (j == label ? T(1) : T(0)) : yr[j];
    if (q > epsilon && q < T(1) - epsilon) unclipped += target;
  }
  gpuk_block_sum2(unclipped, unused);
  for (int j = threadIdx.x; j < classes; j += blockDim.x) {
    const T q = xr[j] / psum;
    const T target = sparse ? (j == label ? T(1) : T(0)) : yr[j];
    const T a = (q > epsilon && q < T(1) - epsilon) ? -target / q : T(0);
    gr[j] = g * (a + unclipped) / psum;
  }
}
