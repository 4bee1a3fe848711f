// gpuk fused SimpleRNN kernels (Keras SimpleRNN: h = act(x @ W + b + hd @ U)).
//
// Generic twin: gpuk.ops.recurrent.SimpleRNNSequence; caller: gpuk/ops/fused/simple_rnn.py
// (SimpleRNNFused). Templated on T = float, double: "simple_rnn_sequence_forward<float>" etc.
// The caller computes xproj = x @ kernel + bias for all steps (one matrix product), in
// processed time order (go_backwards reverses x and the mask before), and the weight gradients
// after, from gxproj. hd = h_prev * hmask, Keras's recurrent dropout mask (hmask (B, U), the
// same at every step; has_hmask = 0: no dropout). mask (B, T) uint8: a masked step keeps the
// previous state; hs holds the carried state, which for a live step is act(...) itself, so the
// backward needs no other cache.
//
// Entry points (persistent: one block owns `rows` batch rows for all time steps;
// launch.recurrent_sequence_config):
//   simple_rnn_sequence_forward   block = min(1024, roundup32(U)) threads; dynamic shared =
//                                 rows*2U (+ U*U when weights_shared, else read from global).
//   simple_rnn_sequence_backward  same block; shared = rows*2U (+ U*U: the kernel transposed).
#include "common.cuh"

template <typename T>
__global__ void simple_rnn_sequence_forward(const T* __restrict__ xproj,
                                            const T* __restrict__ wrec, const T* __restrict__ h0,
                                            const unsigned char* __restrict__ mask,
                                            const T* __restrict__ hmask, T* __restrict__ hs,
                                            int batch, int steps, int units, int rows,
                                            int weights_shared, int act, int has_mask,
                                            int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units;
  T* h = smem;            // rows x U: the state
  T* rec = h + rows * U;  // rows x U: recurrent products
  T* wsh = rec + rows * U;
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * U; i += nthreads) wsh[i] = wrec[i];
  const T* w = weights_shared ? wsh : wrec;  // U x U, row-major as the recurrent kernel
  for (int i = tid; i < nrows * U; i += nthreads) h[i] = h0[(size_t)row0 * U + i];
  __syncthreads();
  for (int t = 0; t < steps; ++t) {
    for (int col = tid; col < U; col += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const T* hr = h + r * U;
        T acc = T(0);
        if (has_hmask) {
          const T* m = hmask + (size_t)(row0 + r) * U;
          for (int k = 0; k < U; ++k) acc += hr[k] * m[k] * w[(size_t)k * U + col];
        } else {
          for (int k = 0; k < U; ++k) acc += hr[k] * w[(size_t)k * U + col];
        }
        rec[r * U + col] = acc;
      }
    }
    __syncthreads();
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const size_t bt = (size_t)(row0 + r) * steps + t;
        if (!has_mask || mask[bt])
          h[r * U + j] = gpuk_activate(xproj[bt * U + j] + rec[r * U + j], act);
        hs[bt * U + j] = h[r * U + j];
      }
    }
    __syncthreads();
  }
}

template <typename T>
__global__ void simple_rnn_sequence_backward(const T* __restrict__ wt, const T* __restrict__ hs,
                                             const unsigned char* __restrict__ mask,
                                             const T* __restrict__ hmask,
                                             const T* __restrict__ gseq,
                                             const T* __restrict__ glast, T* __restrict__ gxproj,
                                             T* __restrict__ gh0, int batch, int steps, int units,
                                             int rows, int weights_shared, int act, int has_mask,
                                             int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units;
  T* dh = smem;          // rows x U: gradient of the state (its direct part during phase 1)
  T* d = dh + rows * U;  // rows x U: gradients of the pre-activations
  T* wsh = d + rows * U;
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * U; i += nthreads) wsh[i] = wt[i];
  const T* w = weights_shared ? wsh : wt;  // U x U: the recurrent kernel transposed
  for (int i = tid; i < nrows * U; i += nthreads) dh[i] = glast[(size_t)row0 * U + i];
  __syncthreads();
  for (int t = steps - 1; t >= 0; --t) {
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const size_t bt = (size_t)(row0 + r) * steps + t;
        const T g = dh[r * U + j] + gseq[bt * U + j];
        if (has_mask && !mask[bt]) {  // the state passes through unchanged
          gxproj[bt * U + j] = d[r * U + j] = T(0);
          dh[r * U + j] = g;
          continue;
        }
        const T dpre = g * gpuk_activate_grad(hs[bt * U + j], act);
        gxproj[bt * U + j] = d[r * U + j] = dpre;
        dh[r * U + j] = T(0);
      }
    }
    __syncthreads();
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const T* dr = d + r * U;
        T acc = T(0);
        for (int k = 0; k < U; ++k) acc += dr[k] * w[(size_t)k * U + j];
        dh[r * U + j] += has_hmask ? acc * hmask[(size_t)(row0 + r) * U + j] : acc;
      }
    }
    __syncthreads();
  }
  for (int i = tid; i < nrows * U; i += nthreads) gh0[(size_t)row0 * U + i] = dh[i];
}

// Instantiated through NVRTC name expressions; the emulator instantiates them itself.
