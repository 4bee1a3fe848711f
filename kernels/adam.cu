// gpuk fused multi-tensor Adam (Keras 3 Adam.update_step numerics).
//
// Generic twin: gpuk.ops.fused.adam.adam_step_reference; caller adam_step_fused.
// Templated on T = float, double: "adam_multi_tensor<float>".
//
// Entry point: adam_multi_tensor. Launch (gpuk/ops/fused/launch.py adam_config/adam_chunks):
// 256 threads per block; block i updates elements [block_start[i], block_start[i] + chunk)
// of tensor block_tensor[i] (chunk = 4096, a multiple of 4), so one launch covers every tensor
// of a model. Each thread takes 4 consecutive elements per iteration with one aligned 4-wide
// load per array when all five arrays are aligned to 4 elements (float4 / 2 x double2), else
// scalar loads. Arrays are given as tables of device pointers (uint64). With amsgrad=0 the
// vhat table is ignored.
//
//   m += (g - m) * one_minus_beta_1;  v += (g*g - v) * one_minus_beta_2
//   vhat = max(vhat, v) (amsgrad);  p -= m * alpha / (sqrt(vhat or v) + epsilon)
// where alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) and one_minus_beta_i = 1 - beta_i are
// computed by the caller on the host, as Keras computes them (1 - beta in double, then rounded
// to T): 1 - 0.999f in float would be 0.0009999871, Keras's float32(1 - 0.999) is 0.001.
#include "common.cuh"

template <typename T>
struct __align__(4 * sizeof(T)) GpukPack4 {
  T v[4];
};

template <typename T>
__device__ __forceinline__ void gpuk_adam_one(T& p, T g, T& m, T& v, T& vhat, T alpha,
                                              T one_minus_beta_1, T one_minus_beta_2, T epsilon,
                                              int amsgrad) {
  m += (g - m) * one_minus_beta_1;
  v += (g * g - v) * one_minus_beta_2;
  T denom = v;
  if (amsgrad) {
    vhat = gpuk_max(vhat, v);
    denom = vhat;
  }
  p -= (m * alpha) / (gpuk_sqrt(denom) + epsilon);
}

template <typename T>
__global__ void adam_multi_tensor(const unsigned long long* __restrict__ params,
                                  const unsigned long long* __restrict__ grads,
                                  const unsigned long long* __restrict__ ms,
                                  const unsigned long long* __restrict__ vs,
                                  const unsigned long long* __restrict__ vhats,
                                  const long long* __restrict__ sizes,
                                  const int* __restrict__ block_tensor,
                                  const long long* __restrict__ block_start, long long chunk,
                                  T alpha, T one_minus_beta_1, T one_minus_beta_2, T epsilon,
                                  int amsgrad) {
  const int tensor = block_tensor[blockIdx.x];
  const long long start = block_start[blockIdx.x];
  const long long size = sizes[tensor];
  const long long end = start + chunk < size ? start + chunk : size;
  T* p = reinterpret_cast<T*>(params[tensor]);
  const T* g = reinterpret_cast<const T*>(grads[tensor]);
  T* m = reinterpret_cast<T*>(ms[tensor]);
  T* v = reinterpret_cast<T*>(vs[tensor]);
  T* vh = reinterpret_cast<T*>(amsgrad ? vhats[tensor] : vs[tensor]);
  const unsigned long long align = 4 * sizeof(T) - 1;
  const bool aligned = ((params[tensor] | grads[tensor] | ms[tensor] | vs[tensor] |
                         (amsgrad ? vhats[tensor] : 0ULL)) & align) == 0;
  for (long long i = start + 4LL * threadIdx.x; i < end; i += 4LL * blockDim.x) {
    if (aligned && i + 4 <= end) {
      GpukPack4<T> pp = *reinterpret_cast<GpukPack4<T>*>(p + i);
      const GpukPack4<T> gg = *reinterpret_cast<const GpukPack4<T>*>(g + i);
      GpukPack4<T> mm = *reinterpret_cast<GpukPack4<T>*>(m + i);
      GpukPack4<T> vv = *reinterpret_cast<GpukPack4<T>*>(v + i);
      GpukPack4<T> hh;
      if (amsgrad) hh = *reinterpret_cast<GpukPack4<T>*>(vh + i);
#pragma unroll
      for (int e = 0; e < 4; ++e)
        gpuk_adam_one(pp.v[e], gg.v[e], mm.v[e], vv.v[e], hh.v[e], alpha, one_minus_beta_1,
                      one_minus_beta_2, epsilon, amsgrad);
      *reinterpret_cast<GpukPack4<T>*>(p + i) = pp;
      *reinterpret_cast<GpukPack4<T>*>(m + i) = mm;
      *reinterpret_cast<GpukPack4<T>*>(v + i) = vv;
      if (amsgrad) *reinterpret_cast<GpukPack4<T>*>(vh + i) = hh;
    } else {
      for (long long k = i; k < i + 4 && k < end; ++k) {
        T unused = T(0);
        gpuk_adam_one(p[k], g[k], m[k], v[k], amsgrad ? vh[k] : unused, alpha,
                      one_minus_beta_1, one_minus_beta_2, epsilon, amsgrad);
      }
    }
  }
}
