// gpuk fused LSTM kernels (Keras LSTM math, gates i, f, c, o).
//
// Generic twin: gpuk.ops.recurrent.LSTMSequence; caller: gpuk/ops/fused/lstm.py (LSTMFused).
// Templated on T = float, double; name expressions "lstm_sequence_forward<float>" etc.
// The caller computes xproj = x @ kernel + bias for all steps (one matrix product per call, or
// one per gate with per-gate input dropout masks), in processed time order (go_backwards
// reverses x and the mask before), and the weight gradients after, from gxproj.
//
//   i = ract(x_i + hd_i @ U_i)   f = ract(x_f + hd_f @ U_f)   g = act(x_c + hd_c @ U_c)
//   o = ract(x_o + hd_o @ U_o)   c = f * c_prev + i * g        h = o * act(c)
// with hd_q = h_prev * hmask_q, Keras's per-gate recurrent dropout masks (hmask (B, 4U), the
// same at every step; has_hmask = 0 means no dropout: hd_q = h_prev).
// mask (B, T) uint8: a masked step keeps the previous h and c; hs / cs hold the carried states.
// cache (B, T, 5U): i, f, g, o, act(c) of each live step (backward reads them).
//
// Entry points (persistent: one block owns `rows` batch rows for all time steps, so blocks
// never synchronise with each other; launch.recurrent_sequence_config):
//   lstm_sequence_forward   block = min(1024, roundup32(4U)) threads, loops stride over columns
//                           and units; dynamic shared = rows*(2U + 4U) (+ 4U*U when
//                           weights_shared: the recurrent kernel U x 4U, else read from global).
//   lstm_sequence_backward  backward through time, block = min(1024, roundup32(U)); shared =
//                           rows*(2U + 4U) (+ 4U*U: the recurrent kernel transposed, 4U x U).
#include "common.cuh"

template <typename T>
__global__ void lstm_sequence_forward(const T* __restrict__ xproj, const T* __restrict__ wrec,
                                      const T* __restrict__ h0, const T* __restrict__ c0,
                                      const unsigned char* __restrict__ mask,
                                      const T* __restrict__ hmask, T* __restrict__ hs,
                                      T* __restrict__ cs, T* __restrict__ cache, int batch,
                                      int steps, int units, int rows, int weights_shared, int act,
                                      int ract, int has_mask, int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units, G = 4 * units;
  T* h = smem;            // rows x U: the state h
  T* c = h + rows * U;    // rows x U: the cell state c
  T* rec = c + rows * U;  // rows x 4U: recurrent products
  T* wsh = rec + rows * G;
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * G; i += nthreads) wsh[i] = wrec[i];
  const T* w = weights_shared ? wsh : wrec;  // U x 4U, row-major as the recurrent kernel
  for (int i = tid; i < nrows * U; i += nthreads) {
    h[i] = h0[(size_t)row0 * U + i];
    c[i] = c0[(size_t)row0 * U + i];
  }
  __syncthreads();
  for (int t = 0; t < steps; ++t) {
    for (int col = tid; col < G; col += nthreads) {
      const int gate = col / U;
      for (int r = 0; r < nrows; ++r) {
        const T* hr = h + r * U;
        T acc = T(0);
        if (has_hmask) {
          const T* m = hmask + (size_t)(row0 + r) * G + gate * U;
          for (int k = 0; k < U; ++k) acc += hr[k] * m[k] * w[(size_t)k * G + col];
        } else {
          for (int k = 0; k < U; ++k) acc += hr[k] * w[(size_t)k * G + col];
        }
        rec[r * G + col] = acc;
      }
    }
    __syncthreads();
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const size_t bt = (size_t)(row0 + r) * steps + t;
        T* cc = cache + bt * 5 * U;
        if (has_mask && !mask[bt]) {
          cc[j] = cc[U + j] = cc[2 * U + j] = cc[3 * U + j] = cc[4 * U + j] = T(0);
          hs[bt * U + j] = h[r * U + j];
          cs[bt * U + j] = c[r * U + j];
          continue;
        }
        const T* xr = xproj + bt * G;
        const T* pr = rec + r * G;
        const T i = gpuk_activate(xr[j] + pr[j], ract);
        const T f = gpuk_activate(xr[U + j] + pr[U + j], ract);
        const T g = gpuk_activate(xr[2 * U + j] + pr[2 * U + j], act);
        const T o = gpuk_activate(xr[3 * U + j] + pr[3 * U + j], ract);
        const T cnew = f * c[r * U + j] + i * g;
        const T tc = gpuk_activate(cnew, act);
        const T hnew = o * tc;
        cc[j] = i;
        cc[U + j] = f;
        cc[2 * U + j] = g;
        cc[3 * U + j] = o;
        cc[4 * U + j] = tc;
        h[r * U + j] = hnew;  // only this thread touches h[r][j] in this phase
        c[r * U + j] = cnew;
        hs[bt * U + j] = hnew;
        cs[bt * U + j] = cnew;
      }
    }
    __syncthreads();
  }
}

template <typename T>
__global__ void lstm_sequence_backward(const T* __restrict__ wt, const T* __restrict__ c0,
                                       const T* __restrict__ cs, const T* __restrict__ cache,
                                       const unsigned char* __restrict__ mask,
                                       const T* __restrict__ hmask, const T* __restrict__ gseq,
                                       const T* __restrict__ glast_h,
                                       const T* __restrict__ glast_c, T* __restrict__ gxproj,
                                       T* __restrict__ gh0, T* __restrict__ gc0, int batch,
                                       int steps, int units, int rows, int weights_shared,
                                       int act, int ract, int has_mask, int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units, G = 4 * units;
  T* dh = smem;           // rows x U: gradient of h (its direct part during phase 1)
  T* dc = dh + rows * U;  // rows x U: gradient of c
  T* d = dc + rows * U;   // rows x 4U: gradients of the gate pre-activations
  T* wsh = d + rows * G;
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * G; i += nthreads) wsh[i] = wt[i];
  const T* w = weights_shared ? wsh : wt;  // 4U x U: the recurrent kernel transposed
  for (int i = tid; i < nrows * U; i += nthreads) {
    dh[i] = glast_h[(size_t)row0 * U + i];
    dc[i] = glast_c[(size_t)row0 * U + i];
  }
  __syncthreads();
  for (int t = steps - 1; t >= 0; --t) {
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const int b = row0 + r;
        const size_t bt = (size_t)b * steps + t;
        const T g = dh[r * U + j] + gseq[bt * U + j];
        T* gx = gxproj + bt * G;
        T* dr = d + r * G;
        if (has_mask && !mask[bt]) {  // the states pass through unchanged
          gx[j] = gx[U + j] = gx[2 * U + j] = gx[3 * U + j] = T(0);
          dr[j] = dr[U + j] = dr[2 * U + j] = dr[3 * U + j] = T(0);
          dh[r * U + j] = g;
          continue;
        }
        const T* cc = cache + bt * 5 * U;
        const T i = cc[j], f = cc[U + j], gg = cc[2 * U + j], o = cc[3 * U + j];
        const T tc = cc[4 * U + j];
        const T cprev = t > 0 ? cs[(bt - 1) * U + j] : c0[(size_t)b * U + j];
        const T dcn = dc[r * U + j] + g * o * gpuk_activate_grad(tc, act);
        const T di = dcn * gg * gpuk_activate_grad(i, ract);
        const T df = dcn * cprev * gpuk_activate_grad(f, ract);
        const T dg = dcn * i * gpuk_activate_grad(gg, act);
        const T dout = g * tc * gpuk_activate_grad(o, ract);
        gx[j] = dr[j] = di;
        gx[U + j] = dr[U + j] = df;
        gx[2 * U + j] = dr[2 * U + j] = dg;
        gx[3 * U + j] = dr[3 * U + j] = dout;
        dc[r * U + j] = dcn * f;
        dh[r * U + j] = T(0);
      }
    }
    __syncthreads();
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const T* dr = d + r * G;
        const T* m = hmask + (size_t)(row0 + r) * G;
        T acc = T(0);
        for (int gate = 0; gate < 4; ++gate) {
          T part = T(0);
          for (int k = gate * U; k < (gate + 1) * U; ++k) part += dr[k] * w[(size_t)k * U + j];
          acc += has_hmask ? part * m[gate * U + j] : part;
        }
        dh[r * U + j] += acc;
      }
    }
    __syncthreads();
  }
  for (int i = tid; i < nrows * U; i += nthreads) {
    gh0[(size_t)row0 * U + i] = dh[i];
    gc0[(size_t)row0 * U + i] = dc[i];
  }
}

// Instantiated through NVRTC name expressions; the emulator instantiates them itself.
