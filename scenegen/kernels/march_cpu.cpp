// Ray marching through the occupancy bitfield, CPU kernel (packed samples).
//
// Hand-written because marching is the sampler at the product's core: the pure-PyTorch reference
// (scenegen.kernels._torch_impl.march) materialises every candidate step of every ray as a
// dense (rays, steps) tensor and gathers the grid for all of them, which costs as much as the field itself on
// CPU. Here each ray walks its own step sequence, looks its cells up in the bitfield and emits only the
// occupied samples. Blocks of rays are walked in parallel, each into its own buffer, and copied out in ray
// order: the output is packed and ray-sorted with no locks.
//
// The step sequence and the jitter follow the reference exactly:
//   bounded:   t0_k = t_start + seq[k] + (u - 0.5) * step (clamped to t_start), t1_k = t_start + seq[k+1] + ...
//   unbounded: t0_k = seq[k] + (u - 0.5) * (seq[k+1] - seq[k]),               t1_k = seq[k+1] + ...
// a sample is kept when t_start < tm < t_end (tm the midpoint) and its cell is occupied.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

struct Grid {
  const bool* bits;  // nullptr: no grid, every step is a candidate
  const bool* mips;  // coarser bitfields (res/2)^3, (res/4)^3, ... concatenated (OR of their children)
  int64_t n_mips;
  int64_t res;
  float extent;       // domain [-extent, extent]^3 (of contracted space when unbounded)
  float scale;        // res / (2 * extent)
  bool contract;
};

inline bool occupied(const Grid& g, float x, float y, float z) {
  if (g.bits == nullptr) return true;
  if (g.contract) {
    float m = std::max(std::fabs(x), std::max(std::fabs(y), std::fabs(z)));
    if (m > 1.f) {
      float s = (2.f - 1.f / m) / m;
      x *= s; y *= s; z *= s;
    }
  }
  float gx = (x + g.extent) * g.scale, gy = (y + g.extent) * g.scale, gz = (z + g.extent) * g.scale;
  const float r = (float)g.res;
  if (!(gx >= 0.f && gx < r && gy >= 0.f && gy < r && gz >= 0.f && gz < r)) return false;
  int64_t ix = std::min<int64_t>((int64_t)gx, g.res - 1), iy = std::min<int64_t>((int64_t)gy, g.res - 1),
          iz = std::min<int64_t>((int64_t)gz, g.res - 1);
  return g.bits[(ix * g.res + iy) * g.res + iz];
}

// Distance along the ray at which it leaves the (uncontracted) cell of grid level `level` (cells 2^level
// times the finest) containing the point p = o + d * t.
inline float cell_exit(const Grid& g, int level, float px, float py, float pz, float dx, float dy, float dz,
                       float t) {
  const float sc = g.scale / (float)(1 << level);
  const float cell = 1.f / sc;
  float best = 3.4e38f;
  const float p[3] = {px, py, pz}, d[3] = {dx, dy, dz};
  for (int a = 0; a < 3; ++a) {
    if (std::fabs(d[a]) < 1e-12f) continue;
    const float gi = std::floor((p[a] + g.extent) * sc);
    const float bound = (d[a] > 0.f ? gi + 1.f : gi) * cell - g.extent;
    best = std::min(best, t + (bound - p[a]) / d[a]);
  }
  return best;
}

// The coarsest level (0 = the bitfield itself) whose cell containing p is empty, given p's finest cell is.
inline int empty_level(const Grid& g, float px, float py, float pz) {
  int level = 0;
  const bool* m = g.mips;
  int64_t r = g.res;
  for (int64_t l = 1; l <= g.n_mips; ++l) {
    r /= 2;
    const float sc = g.scale / (float)(1 << l);
    int64_t ix = std::min<int64_t>(std::max<int64_t>((int64_t)((px + g.extent) * sc), 0), r - 1);
    int64_t iy = std::min<int64_t>(std::max<int64_t>((int64_t)((py + g.extent) * sc), 0), r - 1);
    int64_t iz = std::min<int64_t>(std::max<int64_t>((int64_t)((pz + g.extent) * sc), 0), r - 1);
    if (m[(ix * r + iy) * r + iz]) break;
    level = (int)l;
    m += r * r * r;
  }
  return level;
}

struct Ray {
  float ox, oy, oz, dx, dy, dz, ts, te, u;
  int64_t k0;
};

// Walks one ray from step k0, calling emit(k, t0, t1) for up to `limit` occupied samples (limit < 0: all).
// Returns the step index after the last one examined.
template <typename Emit>
inline int64_t walk(const Ray& r, const Grid& g, const float* seq, int64_t n_steps, bool bounded, float step,
                    int64_t limit, Emit emit) {
  int64_t count = 0;
  int64_t k = r.k0;
  for (; k < n_steps; ++k) {
    float t0, t1;
    if (bounded) {
      const float off = (r.u - 0.5f) * step;
      t0 = r.ts + seq[k] + off;
      t1 = r.ts + seq[k + 1] + off;
      t0 = std::max(t0, r.ts);
    } else {
      const float span = seq[k + 1] - seq[k];
      t0 = seq[k] + (r.u - 0.5f) * span;
      t1 = seq[k + 1] + (r.u - 0.5f) * span;
    }
    const float tm = 0.5f * (t0 + t1);
    if (tm >= r.te) return n_steps;  // t grows with k: nothing further along this ray
    if (!(tm > r.ts)) continue;
    const float px = r.ox + r.dx * tm, py = r.oy + r.dy * tm, pz = r.oz + r.dz * tm;
    if (!occupied(g, px, py, pz)) {
      if (bounded && g.bits != nullptr) {
        // Empty-space skipping proper: jump to the first step whose midpoint lies past the exit of the
        // largest empty cell around the point (a slab test on a cell of the bitfield's mip pyramid), instead
        // of visiting every step inside it. A small margin
        // keeps a step that lands exactly on the boundary; it is simply checked again.
        const int level = empty_level(g, px, py, pz);
        const float t_exit = cell_exit(g, level, px, py, pz, r.dx, r.dy, r.dz, tm);
        const float off = (r.u - 0.5f) * step;
        const int64_t kk = (int64_t)std::floor((t_exit - r.ts - off) / step - 0.5f - 1e-3f) + 1;
        if (kk > k + 1) k = kk - 1;  // the loop's ++k lands on kk
      }
      continue;
    }
    emit(count, t0, t1);
    ++count;
    if (limit >= 0 && count >= limit) return k + 1;
  }
  return n_steps;
}

}  // namespace

// origins, dirs (R, 3); t_start, t_end, jitter (R,) float; k_start (R,) int64 first step per ray; bits: bool
// bitfield (res^3) or an empty tensor; mips: n_mips coarser levels of it, concatenated (see
// scenegen.kernels.bitfield_mips); seq (M+1,) step sequence. limit: max occupied samples per ray (-1 all).
// Returns ray_idx (S,) int64, t0 (S,), t1 (S,), next_k (R,) int64.
std::vector<torch::Tensor> march(torch::Tensor origins, torch::Tensor dirs, torch::Tensor t_start,
                                 torch::Tensor t_end, torch::Tensor jitter, torch::Tensor k_start,
                                 torch::Tensor bits, torch::Tensor mips, int64_t n_mips, int64_t res,
                                 double extent, bool contract, torch::Tensor seq, bool bounded, double step,
                                 int64_t limit) {
  origins = origins.contiguous().to(torch::kFloat32);
  dirs = dirs.contiguous().to(torch::kFloat32);
  t_start = t_start.contiguous().to(torch::kFloat32);
  t_end = t_end.contiguous().to(torch::kFloat32);
  jitter = jitter.contiguous().to(torch::kFloat32);
  k_start = k_start.contiguous().to(torch::kInt64);
  seq = seq.contiguous().to(torch::kFloat32);
  const int64_t R = origins.size(0);
  const int64_t n_steps = seq.size(0) - 1;
  Grid g{nullptr, nullptr, 0, res, (float)extent, (float)(res / (2.0 * extent)), contract};
  if (bits.numel() > 0) {
    bits = bits.contiguous().to(torch::kBool);
    TORCH_CHECK(bits.numel() == res * res * res, "bitfield size must be res^3");
    g.bits = bits.data_ptr<bool>();
    mips = mips.contiguous().to(torch::kBool);
    int64_t need = 0, r = res;
    for (int64_t l = 0; l < n_mips; ++l) {
      TORCH_CHECK(r % 2 == 0, "mip levels need an even resolution");
      r /= 2;
      need += r * r * r;
    }
    TORCH_CHECK(mips.numel() == need, "mip pyramid size mismatch");
    g.mips = mips.data_ptr<bool>();
    g.n_mips = n_mips;
  }
  const float* o = origins.data_ptr<float>();
  const float* d = dirs.data_ptr<float>();
  const float* ts = t_start.data_ptr<float>();
  const float* te = t_end.data_ptr<float>();
  const float* ju = jitter.data_ptr<float>();
  const int64_t* ks = k_start.data_ptr<int64_t>();
  const float* sq = seq.data_ptr<float>();
  const float stp = (float)step;
  auto ray = [&](int64_t i) {
    return Ray{o[i * 3], o[i * 3 + 1], o[i * 3 + 2], d[i * 3], d[i * 3 + 1], d[i * 3 + 2], ts[i], te[i], ju[i], ks[i]};
  };
  auto next_k = torch::empty({R}, torch::kInt64);
  int64_t* nk = next_k.data_ptr<int64_t>();
  // One walk per ray: each block of rays keeps its samples in its own buffer, then the blocks are copied out
  // in ray order (walking twice, to count and then to fill, cost as much as the walk itself).
  struct Sample {
    int64_t i;
    float t0, t1;
  };
  const int64_t n_blocks = std::max<int64_t>(1, std::min<int64_t>((R + 255) / 256, 8 * at::get_num_threads()));
  std::vector<std::vector<Sample>> bufs((size_t)n_blocks);
  at::parallel_for(0, n_blocks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      auto& buf = bufs[(size_t)c];
      const int64_t lo = R * c / n_blocks, hi = R * (c + 1) / n_blocks;
      buf.reserve((size_t)(hi - lo) * (limit > 0 ? std::min<int64_t>(limit, 16) : 16));
      for (int64_t i = lo; i < hi; ++i)
        nk[i] = walk(ray(i), g, sq, n_steps, bounded, stp, limit,
                     [&](int64_t, float x0, float x1) { buf.push_back(Sample{i, x0, x1}); });
    }
  });
  std::vector<int64_t> start((size_t)n_blocks + 1, 0);
  for (int64_t c = 0; c < n_blocks; ++c) start[c + 1] = start[c] + (int64_t)bufs[(size_t)c].size();
  const int64_t S = start[n_blocks];
  auto ray_idx = torch::empty({S}, torch::kInt64);
  auto t0 = torch::empty({S}, torch::kFloat32);
  auto t1 = torch::empty({S}, torch::kFloat32);
  int64_t* ri = ray_idx.data_ptr<int64_t>();
  float* a = t0.data_ptr<float>();
  float* bb = t1.data_ptr<float>();
  at::parallel_for(0, n_blocks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) {
      const auto& buf = bufs[(size_t)c];
      const int64_t base = start[c];
      for (size_t j = 0; j < buf.size(); ++j) {
        ri[base + j] = buf[j].i;
        a[base + j] = buf[j].t0;
        bb[base + j] = buf[j].t1;
      }
    }
  });
  return {ray_idx, t0, t1, next_k};
}
