// A small CPU emulation of the CUDA execution model, for testing gpuk's kernels without a GPU.
//
// Compiled by g++ (C++20) in front of a kernels/*.cu file (see tests/cuda_emulator/__init__.py).
// Model: the blocks of a grid run one after another; the threads of a block are real
// std::threads that meet at __syncthreads (a std::barrier). Warp shuffles go through a per-warp
// exchange buffer with a warp barrier, so every lane of a warp must call them together (as
// the *_sync intrinsics require). __shared__ variables are function-local statics (one copy,
// which is right because only one block runs at a time); dynamic shared memory is a per-launch
// buffer reached through GPUK_DYNAMIC_SHARED. atomicAdd uses std::atomic_ref.
// Not modelled: memory-ordering bugs between warps, bank conflicts, timing.
#pragma once
#include <math.h>

#include <atomic>
#include <barrier>
#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define GPUK_EMULATOR 1
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define __align__(n) alignas(n)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

inline thread_local dim3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

namespace gpuk_emu {

struct Warp {
  explicit Warp(int lanes) : barrier(lanes) {}
  std::barrier<> barrier;
  uint64_t slot[32];
};

struct Block {
  explicit Block(int threads) : barrier(threads) {}
  std::barrier<> barrier;
  std::vector<std::unique_ptr<Warp>> warps;
  unsigned char* shared = nullptr;
};

inline thread_local Block* current = nullptr;

inline unsigned char* dynamic_shared() { return current->shared; }

template <typename T>
T shuffle(T value, int source_lane) {
  static_assert(sizeof(T) <= 8, "shuffle of at most 8 bytes");
  Warp& warp = *current->warps[threadIdx.x / 32];
  const int lane = threadIdx.x % 32;
  std::memcpy(&warp.slot[lane], &value, sizeof(T));
  warp.barrier.arrive_and_wait();
  T out;
  std::memcpy(&out, &warp.slot[source_lane], sizeof(T));
  warp.barrier.arrive_and_wait();  // nobody overwrites a slot before every lane has read
  return out;
}

template <typename... A, std::size_t... I>
void call(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<std::remove_cv_t<A>*>(args[I])...);
}

// Runs kernel<<<grid, block, shared>>>(args...) where args[i] points at the i-th argument,
// as cuLaunchKernel's kernelParams do.
template <typename... A>
void launch(void (*kernel)(A...), dim3 grid, dim3 block, std::size_t shared, void** args) {
  const int threads = block.x * block.y * block.z;
  if (threads < 1 || threads > 1024) throw std::invalid_argument("block of 1..1024 threads");
  blockDim = block;
  gridDim = grid;
  std::vector<uint64_t> memory(shared / 8 + 2);  // 8-byte aligned
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        // Every block starts with dynamic shared memory full of NaN (all bits set), so a
        // read before the first write shows in the results instead of reading zeros.
        std::memset(memory.data(), 0xFF, memory.size() * sizeof(uint64_t));
        Block state(threads);
        state.shared = reinterpret_cast<unsigned char*>(memory.data());
        for (int w = 0; w < threads; w += 32)
          state.warps.emplace_back(new Warp(threads - w < 32 ? threads - w : 32));
        std::vector<std::thread> pool;
        pool.reserve(threads);
        for (int t = 0; t < threads; ++t)
          pool.emplace_back([&, t] {
            current = &state;
            blockIdx = dim3{bx, by, bz};
            threadIdx = dim3{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
            call(kernel, args, std::index_sequence_for<A...>{});
          });
        for (auto& thread : pool) thread.join();
      }
}

template <typename... A>
constexpr int arity(void (*)(A...)) {
  return sizeof...(A);
}

template <typename... A>
void argument_sizes(void (*)(A...), int* out) {
  int sizes[] = {static_cast<int>(sizeof(A))..., 0};
  for (std::size_t i = 0; i < sizeof...(A); ++i) out[i] = sizes[i];
}

}  // namespace gpuk_emu

inline void __syncthreads() { gpuk_emu::current->barrier.arrive_and_wait(); }

template <typename T>
T __shfl_xor_sync(unsigned, T value, int lane_mask) {
  return gpuk_emu::shuffle(value, (threadIdx.x % 32) ^ lane_mask);
}

template <typename T>
T __shfl_down_sync(unsigned, T value, unsigned delta) {
  const unsigned lane = threadIdx.x % 32;
  const T other = gpuk_emu::shuffle(value, lane + delta < 32 ? lane + delta : lane);
  return lane + delta < 32 ? other : value;
}

template <typename T>
T atomicAdd(T* address, T value) {
  return std::atomic_ref<T>(*address).fetch_add(value);
}

inline float __int_as_float(int bits) {
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline double __longlong_as_double(long long bits) {
  double out;
  std::memcpy(&out, &bits, 8);
  return out;
}
