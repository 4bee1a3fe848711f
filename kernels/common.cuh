// gpuk kernels: helpers shared by every .cu file (no entry points).
//
// Included by kernels/*.cu. The loader (gpuk/_array/kernels.py) inlines it for NVRTC; the CPU
// emulator of the tests compiles it with GPUK_EMULATOR defined, after tests/cuda_emulator's
// cuda_emulator.h. Activation codes match gpuk/ops/fused/launch.py ACTIVATIONS.
#ifndef GPUK_COMMON_CUH
#define GPUK_COMMON_CUH

// Dynamic shared memory as a typed pointer. A plain `extern __shared__` array cannot be
// declared twice with different element types in one module, so every kernel takes bytes.
#ifdef GPUK_EMULATOR
#define GPUK_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(gpuk_emu::dynamic_shared())
#else
#define GPUK_DYNAMIC_SHARED(T, name)                             \
  extern __shared__ __align__(16) unsigned char name##_bytes[]; \
  T* name = reinterpret_cast<T*>(name##_bytes)
#endif

#define GPUK_FULL_MASK 0xffffffffu

__device__ __forceinline__ float gpuk_exp(float x) { return expf(x); }
__device__ __forceinline__ double gpuk_exp(double x) { return exp(x); }
__device__ __forceinline__ float gpuk_log(float x) { return logf(x); }
__device__ __forceinline__ double gpuk_log(double x) { return log(x); }
__device__ __forceinline__ float gpuk_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double gpuk_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float gpuk_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double gpuk_sqrt(double x) { return sqrt(x); }

template <typename T>
__device__ __forceinline__ T gpuk_max(T a, T b) { return a > b ? a : b; }
template <typename T>
__device__ __forceinline__ T gpuk_min(T a, T b) { return a < b ? a : b; }

template <typename T>
__device__ __forceinline__ T gpuk_neg_inf();
template <>
__device__ __forceinline__ float gpuk_neg_inf<float>() { return __int_as_float(0xff800000); }
template <>
__device__ __forceinline__ double gpuk_neg_inf<double>() {
  return __longlong_as_double(0xfff0000000000000ULL);
}

enum GpukActivation {
  GPUK_LINEAR = 0,
  GPUK_TANH = 1,
  GPUK_SIGMOID = 2,
  GPUK_RELU = 3,
  GPUK_HARD_SIGMOID = 4,         // Keras 3: relu6(x + 3) / 6
  GPUK_HARD_SIGMOID_LEGACY = 5,  // Keras 2, tf.keras: clip(0.2 x + 0.5, 0, 1)
};

template <typename T>
__device__ __forceinline__ T gpuk_activate(T x, int code) {
  switch (code) {
    case GPUK_TANH: return gpuk_tanh(x);
    case GPUK_SIGMOID: return T(1) / (T(1) + gpuk_exp(-x));
    case GPUK_RELU: return x > T(0) ? x : T(0);
    case GPUK_HARD_SIGMOID: return gpuk_min(gpuk_max(x + T(3), T(0)), T(6)) / T(6);
    case GPUK_HARD_SIGMOID_LEGACY: return gpuk_min(gpuk_max(T(0.2) * x + T(0.5), T(0)), T(1));
    default: return x;
  }
}

// Derivative expressed through the activation's output y, so backward needs no pre-activation.
template <typename T>
__device__ __forceinline__ T gpuk_activate_grad(T y, int code) {
  switch (code) {
    case GPUK_TANH: return T(1) - y * y;
    case GPUK_SIGMOID: return y * (T(1) - y);
    case GPUK_RELU: return y > T(0) ? T(1) : T(0);
    case GPUK_HARD_SIGMOID: return (y > T(0) && y < T(1)) ? T(1) / T(6) : T(0);
    case GPUK_HARD_SIGMOID_LEGACY: return (y > T(0) && y < T(1)) ? T(0.2) : T(0);
    default: return T(1);
  }
}

template <typename T>
__device__ __forceinline__ T gpuk_warp_sum(T value) {
  for (int offset = 16; offset > 0; offset >>= 1)
    value += __shfl_xor_sync(GPUK_FULL_MASK, value, offset);
  return value;
}

#endif  // GPUK_COMMON_CUH
