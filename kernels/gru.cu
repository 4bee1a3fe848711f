// gpuk fused GRU kernels (Keras GRU math, gates z, r, h; keras-formats.md section 4).
//
// Generic twin: gpuk.ops.recurrent.gru; caller: gpuk/ops/fused/gru.py (GRUFused).
// Templated on T = float, double; name expressions "gru_sequence_forward<float>" etc.
// The caller computes xproj = x @ kernel + input bias for all steps (one matmul), in processed
// time order (go_backwards reverses x and the mask before), and the weight gradients after.
// cache (B, T, 4U) keeps per step z, r, candidate hc and (reset_after) h @ U_h + b_rh.
// mask (B, T) uint8: a masked step keeps the previous state, its output is that state.
// hmask (B, 3U): Keras's per-gate recurrent dropout masks (z, r, h), the same at every step;
// gate q's recurrent product reads h_prev * hmask_q (has_hmask = 0: no dropout; the persistent
// kernels only). The z * h_prev term of the new state uses the undropped h_prev, as in Keras.
//
// Entry points and launch configuration (gpuk/ops/fused/launch.py gru_sequence_config):
//   gru_sequence_forward   persistent: grid = ceil(B / rows), block = min(1024, roundup32(3U))
//                          threads striding over columns and units, dynamic shared =
//                          rows*4U (+ 3U*U when weights_shared: the recurrent weights U x 3U on
//                          chip, else read from global memory) elements; one block owns `rows`
//                          batch rows for all steps, so blocks never synchronise.
//   gru_sequence_backward  persistent backward through time: block = min(1024, roundup32(U)),
//                          shared = rows*5U (+ 3U*U: the transposed weights 3U x U).
//   gru_step_forward       one step after the recurrent matmul: grid = ceil(B*U/256), 256
//                          threads, one per (row, unit); phase 0/1 for reset_after=False.
//   gru_step_backward      one step of backward, same launch.
#include "common.cuh"

template <typename T>
__global__ void gru_sequence_forward(const T* __restrict__ xproj, const T* __restrict__ wrec,
                                     const T* __restrict__ brec, const T* __restrict__ h0,
                                     const unsigned char* __restrict__ mask,
                                     const T* __restrict__ hmask, T* __restrict__ hs,
                                     T* __restrict__ cache, int batch, int steps, int units,
                                     int rows, int weights_shared, int reset_after, int act,
                                     int ract, int has_mask, int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units, G = 3 * units;
  T* h = smem;             // rows x U: the state
  T* rec = h + rows * U;   // rows x 3U: recurrent products, then gate scratch
  T* wsh = rec + rows * G;  // U x 3U when weights_shared
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * G; i += nthreads) wsh[i] = wrec[i];
  const T* w = weights_shared ? wsh : wrec;  // U x 3U, row-major as the recurrent kernel
  for (int i = tid; i < nrows * U; i += nthreads) h[i] = h0[(size_t)row0 * U + i];
  __syncthreads();
  // reset_after=False needs r before the candidate product: z and r columns first.
  const int ncols = reset_after ? G : 2 * U;
  for (int t = 0; t < steps; ++t) {
    for (int col = tid; col < ncols; col += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const T* hr = h + r * U;
        T acc = reset_after ? brec[col] : T(0);
        if (has_hmask) {
          const T* m = hmask + (size_t)(row0 + r) * G + (col / U) * U;
          for (int k = 0; k < U; ++k) acc += hr[k] * m[k] * w[(size_t)k * G + col];
        } else {
          for (int k = 0; k < U; ++k) acc += hr[k] * w[(size_t)k * G + col];
        }
        rec[r * G + col] = acc;
      }
    }
    __syncthreads();
    // Unit j reads and writes only its own columns j, U + j, 2U + j of rec and h[r][j].
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const size_t bt = (size_t)(row0 + r) * steps + t;
        const T* xr = xproj + bt * G;
        T* c = cache + bt * 4 * U;
        const bool live = !has_mask || mask[bt];
        const T hprev = h[r * U + j];
        if (!live) {
          c[j] = c[U + j] = c[2 * U + j] = c[3 * U + j] = T(0);
          if (reset_after) hs[bt * U + j] = hprev;
          else rec[r * G + 2 * U + j] = T(0);
          continue;
        }
        const T z = gpuk_activate(xr[j] + rec[r * G + j], ract);
        const T rr = gpuk_activate(xr[U + j] + rec[r * G + U + j], ract);
        c[j] = z;
        c[U + j] = rr;
        if (reset_after) {
          const T rh = rec[r * G + 2 * U + j];
          const T hc = gpuk_activate(xr[2 * U + j] + rr * rh, act);
          const T hnew = z * hprev + (T(1) - z) * hc;
          c[2 * U + j] = hc;
          c[3 * U + j] = rh;
          h[r * U + j] = hnew;
          hs[bt * U + j] = hnew;
        } else {
          rec[r * G + j] = z;
          const T mh = has_hmask ? hmask[(size_t)(row0 + r) * G + 2 * U + j] : T(1);
          rec[r * G + 2 * U + j] = rr * hprev * mh;
          c[3 * U + j] = T(0);
        }
      }
    }
    __syncthreads();
    if (!reset_after) {
      for (int j = tid; j < U; j += nthreads) {
        for (int r = 0; r < nrows; ++r) {
          const size_t bt = (size_t)(row0 + r) * steps + t;
          const bool live = !has_mask || mask[bt];
          const T hprev = h[r * U + j];
          if (!live) {
            hs[bt * U + j] = hprev;
            continue;
          }
          const T* rh = rec + r * G + 2 * U;
          T acc = T(0);
          for (int k = 0; k < U; ++k) acc += rh[k] * w[(size_t)k * G + 2 * U + j];
          const T z = rec[r * G + j];
          const T hc = gpuk_activate(xproj[bt * G + 2 * U + j] + acc, act);
          const T hnew = z * hprev + (T(1) - z) * hc;
          cache[bt * 4 * U + 2 * U + j] = hc;
          h[r * U + j] = hnew;
          hs[bt * U + j] = hnew;
        }
      }
      __syncthreads();
    }
  }
}

// Gate gradients of one live step for unit j. Writes gx (pre-activation gradients of the input
// projection, z r h) and d (gradients of the recurrent pre-activations) for the z and r blocks
// when reset_after; for reset_after=False only the h block (r needs d(r*h) first).
template <typename T>
__device__ __forceinline__ void gru_gate_grads(const T* c, T g, T hprev, int U, int j,
                                               int reset_after, int act, int ract, T* gx, T* d,
                                               T* ghd) {
  const T z = c[j], rr = c[U + j], hc = c[2 * U + j];
  const T dpre_h = g * (T(1) - z) * gpuk_activate_grad(hc, act);
  const T dpre_z = g * (hprev - hc) * gpuk_activate_grad(z, ract);
  gx[2 * U + j] = dpre_h;
  gx[j] = dpre_z;
  d[j] = dpre_z;
  *ghd = g * z;
  if (reset_after) {
    const T dpre_r = dpre_h * c[3 * U + j] * gpuk_activate_grad(rr, ract);
    gx[U + j] = dpre_r;
    d[U + j] = dpre_r;
    d[2 * U + j] = dpre_h * rr;
  } else {
    d[2 * U + j] = dpre_h;
  }
}

// reset_after=False, second half: drh = d(r*h) for unit j, already reduced by the caller.
template <typename T>
__device__ __forceinline__ void gru_reset_grads(const T* c, T drh, T hprev, int U, int j,
                                                int ract, T* gx, T* d, T* ghd) {
  const T rr = c[U + j];
  const T dpre_r = drh * hprev * gpuk_activate_grad(rr, ract);
  gx[U + j] = dpre_r;
  d[U + j] = dpre_r;
  *ghd += drh * rr;
}

template <typename T>
__global__ void gru_sequence_backward(const T* __restrict__ wt, const T* __restrict__ h0,
                                      const T* __restrict__ hs, const T* __restrict__ cache,
                                      const unsigned char* __restrict__ mask,
                                      const T* __restrict__ hmask, const T* __restrict__ gseq,
                                      const T* __restrict__ glast, T* __restrict__ gxproj,
                                      T* __restrict__ gh0, int batch, int steps, int units,
                                      int rows, int weights_shared, int reset_after, int act,
                                      int ract, int has_mask, int has_hmask) {
  GPUK_DYNAMIC_SHARED(T, smem);
  const int U = units, G = 3 * units;
  T* dh = smem;            // rows x U: gradient of the state
  T* d = dh + rows * U;    // rows x 3U: gradients of the recurrent pre-activations
  T* ghd = d + rows * G;   // rows x U: direct part of the previous state's gradient
  T* wsh = ghd + rows * U;  // 3U x U when weights_shared
  const int tid = threadIdx.x, nthreads = blockDim.x;
  const int row0 = blockIdx.x * rows;
  const int nrows = batch - row0 < rows ? batch - row0 : rows;
  if (weights_shared)
    for (int i = tid; i < U * G; i += nthreads) wsh[i] = wt[i];
  const T* w = weights_shared ? wsh : wt;  // 3U x U: the recurrent kernel transposed
  for (int i = tid; i < nrows * U; i += nthreads) dh[i] = glast[(size_t)row0 * U + i];
  __syncthreads();
  for (int t = steps - 1; t >= 0; --t) {
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const int b = row0 + r;
        const size_t bt = (size_t)b * steps + t;
        const T g = dh[r * U + j] + gseq[bt * U + j];
        T* gx = gxproj + bt * G;
        T* dr = d + r * G;
        if (has_mask && !mask[bt]) {
          gx[j] = gx[U + j] = gx[2 * U + j] = T(0);
          dr[j] = dr[U + j] = dr[2 * U + j] = T(0);
          ghd[r * U + j] = g;
          continue;
        }
        const T hprev = t > 0 ? hs[(bt - 1) * U + j] : h0[(size_t)b * U + j];
        gru_gate_grads(cache + bt * 4 * U, g, hprev, U, j, reset_after, act, ract, gx, dr,
                       ghd + r * U + j);
      }
    }
    __syncthreads();
    if (!reset_after) {
      for (int j = tid; j < U; j += nthreads) {
        for (int r = 0; r < nrows; ++r) {
          const int b = row0 + r;
          const size_t bt = (size_t)b * steps + t;
          if (has_mask && !mask[bt]) continue;
          const T* dhc = d + r * G + 2 * U;
          T drh = T(0);
          for (int k = 0; k < U; ++k) drh += dhc[k] * w[(size_t)(2 * U + k) * U + j];
          // gradient of r * hd_h with hd_h = h_prev * mask_h: scale once, both uses need it
          if (has_hmask) drh *= hmask[(size_t)b * G + 2 * U + j];
          const T hprev = t > 0 ? hs[(bt - 1) * U + j] : h0[(size_t)b * U + j];
          gru_reset_grads(cache + bt * 4 * U, drh, hprev, U, j, ract, gxproj + bt * G,
                          d + r * G, ghd + r * U + j);
        }
      }
      __syncthreads();
    }
    const int gates = reset_after ? 3 : 2;
    for (int j = tid; j < U; j += nthreads) {
      for (int r = 0; r < nrows; ++r) {
        const T* dr = d + r * G;
        const T* m = hmask + (size_t)(row0 + r) * G;
        T acc = ghd[r * U + j];
        for (int q = 0; q < gates; ++q) {
          T part = T(0);
          for (int k = q * U; k < (q + 1) * U; ++k) part += dr[k] * w[(size_t)k * U + j];
          acc += has_hmask ? part * m[q * U + j] : part;
        }
        dh[r * U + j] = acc;
      }
    }
    __syncthreads();
  }
  for (int i = tid; i < nrows * U; i += nthreads) gh0[(size_t)row0 * U + i] = dh[i];
}

// One step, one thread per (row b, unit j). xproj_t, hs_t and cache_t point at step t of
// (B, T, ...) arrays (row strides steps*3U, steps*U, steps*4U); rec, hprev and rh are (B, .)
// contiguous. reset_after: rec = hprev @ U + b_rec (B, 3U), phase 1 only. reset_after=False:
// phase 0 with rec = hprev @ U[:, :2U] (B, 2U) writes z, r and rh = r * hprev; phase 1 with
// rec = rh @ U[:, 2U:] (B, U) finishes the candidate and the state.
template <typename T>
__global__ void gru_step_forward(const T* __restrict__ xproj_t, const T* __restrict__ rec,
                                 const T* __restrict__ hprev, const unsigned char* __restrict__ mask,
                                 T* __restrict__ hs_t, T* __restrict__ cache_t, T* __restrict__ rh,
                                 int batch, int steps, int units, int t, int phase, int reset_after,
                                 int act, int ract, int has_mask) {
  const int U = units, G = 3 * units;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)batch * U) return;
  const int b = (int)(i / U), j = (int)(i % U);
  const T* xr = xproj_t + (size_t)b * steps * G;
  T* c = cache_t + (size_t)b * steps * 4 * U;
  const T hp = hprev[i];
  if (has_mask && !mask[(size_t)b * steps + t]) {
    c[j] = c[U + j] = c[2 * U + j] = c[3 * U + j] = T(0);
    if (phase == 0) rh[i] = T(0);
    else hs_t[(size_t)b * steps * U + j] = hp;
    return;
  }
  if (reset_after) {
    const T* rr_ = rec + (size_t)b * G;
    const T z = gpuk_activate(xr[j] + rr_[j], ract);
    const T r = gpuk_activate(xr[U + j] + rr_[U + j], ract);
    const T hc = gpuk_activate(xr[2 * U + j] + r * rr_[2 * U + j], act);
    c[j] = z;
    c[U + j] = r;
    c[2 * U + j] = hc;
    c[3 * U + j] = rr_[2 * U + j];
    hs_t[(size_t)b * steps * U + j] = z * hp + (T(1) - z) * hc;
  } else if (phase == 0) {
    const T* rr_ = rec + (size_t)b * 2 * U;
    const T z = gpuk_activate(xr[j] + rr_[j], ract);
    const T r = gpuk_activate(xr[U + j] + rr_[U + j], ract);
    c[j] = z;
    c[U + j] = r;
    c[3 * U + j] = T(0);
    rh[i] = r * hp;
  } else {
    const T z = c[j];
    const T hc = gpuk_activate(xr[2 * U + j] + rec[i], act);
    c[2 * U + j] = hc;
    hs_t[(size_t)b * steps * U + j] = z * hp + (T(1) - z) * hc;
  }
}

// One step of backward through time, one thread per (row, unit). gh (B, U) is the state
// gradient including this step's output gradient. Writes gx_t (row stride steps*3U), grec
// (B, 3U, recurrent pre-activation gradients) and ghd (B, U, the direct part of the previous
// state's gradient); the caller adds grec @ U^T. reset_after=False: phase 0 writes the h block;
// the caller computes drh = grec[:, 2U:] @ U_h^T; phase 1 finishes z and r.
template <typename T>
__global__ void gru_step_backward(const T* __restrict__ cache_t, const T* __restrict__ hprev,
                                  const unsigned char* __restrict__ mask, const T* __restrict__ gh,
                                  const T* __restrict__ drh, T* __restrict__ gx_t,
                                  T* __restrict__ grec, T* __restrict__ ghd, int batch, int steps,
                                  int units, int t, int phase, int reset_after, int act, int ract,
                                  int has_mask) {
  const int U = units, G = 3 * units;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)batch * U) return;
  const int b = (int)(i / U), j = (int)(i % U);
  const T* c = cache_t + (size_t)b * steps * 4 * U;
  T* gx = gx_t + (size_t)b * steps * G;
  T* d = grec + (size_t)b * G;
  if (has_mask && !mask[(size_t)b * steps + t]) {
    gx[j] = gx[U + j] = gx[2 * U + j] = T(0);
    d[j] = d[U + j] = d[2 * U + j] = T(0);
    ghd[i] = gh[i];
    return;
  }
  if (phase == 0 || reset_after) {
    gru_gate_grads(c, gh[i], hprev[i], U, j, reset_after, act, ract, gx, d, ghd + i);
  } else {
    gru_reset_grads(c, drh[i], hprev[i], U, j, ract, gx, d, ghd + i);
  }
}

// Instantiated through NVRTC name expressions; the emulator instantiates them itself.
