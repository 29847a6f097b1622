// Multiresolution hash encoding, CPU kernels (forward and table gradient).
//
// Hand-written because the encoding is where CPU training time goes and neither eager PyTorch
// (gathers + index_put backward) nor torch.compile fuse it well on CPU. The maths is identical to
// scenegen.kernels._torch_impl.hash_encode (the pure-PyTorch reference the tests compare against).
//
// Forward is parallel over points. Backward is parallel over levels: each level owns a disjoint slice
// of the table, so threads never write the same entry and no atomics are needed.
#include <torch/extension.h>
#include <ATen/Parallel.h>
#include <cmath>
#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

constexpr int64_t kBlock = 16;

struct Level {
  float res;
  int64_t res1;
  int64_t offset;
  int64_t size;
  bool dense;
};

inline void corners(const Level& lv, const float* p, int64_t idx[8], float w[8]) {
  float fx = p[0] * lv.res, fy = p[1] * lv.res, fz = p[2] * lv.res;
  float flx = std::floor(fx), fly = std::floor(fy), flz = std::floor(fz);
  float rx = fx - flx, ry = fy - fly, rz = fz - flz;
  // 32-bit index arithmetic (vectorises; the int64 multiplies of the reference do not): the hashed levels keep
  // the low bits of the products, which are the same modulo 2^32, and dense levels are far below 2^32 entries.
  const uint32_t x0 = (uint32_t)flx, y0 = (uint32_t)fly, z0 = (uint32_t)flz;
  const uint32_t mask = (uint32_t)(lv.size - 1);
  const uint32_t r1 = (uint32_t)lv.res1, m = r1 - 1;
  const float wx[2] = {1.f - rx, rx}, wy[2] = {1.f - ry, ry}, wz[2] = {1.f - rz, rz};
  for (int c = 0; c < 8; ++c) {
    uint32_t ix = x0 + (c & 1), iy = y0 + ((c >> 1) & 1), iz = z0 + ((c >> 2) & 1);
    uint32_t h;
    if (lv.dense) {
      // Points are in [0, 1]^3: a corner past the last vertex (x == 1) has weight 0; clamping keeps it in range.
      ix = ix > m ? m : ix;
      iy = iy > m ? m : iy;
      iz = iz > m ? m : iz;
      h = ix + iy * r1 + iz * r1 * r1;
    } else {  // power-of-two sizes: the reference's modulo is a mask
      h = (ix ^ (iy * 2654435761u) ^ (iz * 805459861u)) & mask;
    }
    idx[c] = (int64_t)h + lv.offset;
    w[c] = wx[c & 1] * wy[(c >> 1) & 1] * wz[(c >> 2) & 1];
  }
}

std::vector<Level> levels(const torch::Tensor& res, const torch::Tensor& offsets, const torch::Tensor& sizes,
                          const torch::Tensor& dense) {
  auto r = res.contiguous().to(torch::kFloat32);
  auto o = offsets.contiguous().to(torch::kInt64);
  auto s = sizes.contiguous().to(torch::kInt64);
  auto d = dense.contiguous().to(torch::kBool);
  std::vector<Level> out(r.size(0));
  for (int64_t l = 0; l < r.size(0); ++l) {
    float rl = r.data_ptr<float>()[l];
    out[l] = Level{rl, (int64_t)rl + 1, o.data_ptr<int64_t>()[l], s.data_ptr<int64_t>()[l], d.data_ptr<bool>()[l]};
  }
  return out;
}

}  // namespace

torch::Tensor hash_forward(torch::Tensor x, torch::Tensor table, torch::Tensor res, torch::Tensor offsets,
                           torch::Tensor sizes, torch::Tensor dense) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == 3, "x must be (N, 3)");
  x = x.contiguous().to(torch::kFloat32);
  table = table.contiguous();
  TORCH_CHECK(table.scalar_type() == torch::kFloat32, "table must be float32");
  auto lv = levels(res, offsets, sizes, dense);
  const int64_t n = x.size(0), L = (int64_t)lv.size(), F = table.size(1);
  auto out = torch::empty({n, L * F}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* tp = table.data_ptr<float>();
  float* op = out.data_ptr<float>();
  // Blocks of kBlock points: first every corner index of the block is computed and prefetched, then the
  // features are gathered. Hashed levels miss the cache on almost every corner, so issuing all loads of a
  // block before using any of them overlaps the memory latency (about 2x over the straightforward loop).
  at::parallel_for(0, n, 256, [&](int64_t b, int64_t e) {
    std::vector<int64_t> idx((size_t)kBlock * L * 8);
    std::vector<float> w((size_t)kBlock * L * 8);
    for (int64_t i0 = b; i0 < e; i0 += kBlock) {
      const int64_t m = std::min<int64_t>(kBlock, e - i0);
      for (int64_t j = 0; j < m; ++j)
        for (int64_t l = 0; l < L; ++l) {
          int64_t* ix = idx.data() + (j * L + l) * 8;
          corners(lv[l], xp + (i0 + j) * 3, ix, w.data() + (j * L + l) * 8);
          for (int c = 0; c < 8; ++c) __builtin_prefetch(tp + ix[c] * F);
        }
      for (int64_t j = 0; j < m; ++j) {
        float* o = op + (i0 + j) * L * F;
        for (int64_t l = 0; l < L; ++l) {
          const int64_t* ix = idx.data() + (j * L + l) * 8;
          const float* wc = w.data() + (j * L + l) * 8;
          if (F == 2) {
            float a0 = 0.f, a1 = 0.f;
            for (int c = 0; c < 8; ++c) {
              const float* t = tp + ix[c] * 2;
              a0 += wc[c] * t[0];
              a1 += wc[c] * t[1];
            }
            o[l * 2] = a0;
            o[l * 2 + 1] = a1;
          } else {
            for (int64_t f = 0; f < F; ++f) o[l * F + f] = 0.f;
            for (int c = 0; c < 8; ++c)
              for (int64_t f = 0; f < F; ++f) o[l * F + f] += wc[c] * tp[ix[c] * F + f];
          }
        }
      }
    }
  });
  return out;
}

torch::Tensor hash_backward(torch::Tensor grad_out, torch::Tensor x, int64_t table_rows, int64_t F,
                            torch::Tensor res, torch::Tensor offsets, torch::Tensor sizes, torch::Tensor dense) {
  x = x.contiguous().to(torch::kFloat32);
  grad_out = grad_out.contiguous().to(torch::kFloat32);
  auto lv = levels(res, offsets, sizes, dense);
  const int64_t n = x.size(0), L = (int64_t)lv.size();
  auto grad = torch::zeros({table_rows, F}, x.options());
  const float* xp = x.data_ptr<float>();
  const float* gp = grad_out.data_ptr<float>();
  float* gt = grad.data_ptr<float>();
  at::parallel_for(0, L, 1, [&](int64_t b, int64_t e) {
    int64_t idx[kBlock][8];
    float w[kBlock][8];
    for (int64_t l = b; l < e; ++l) {
      for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
        const int64_t m = std::min<int64_t>(kBlock, n - i0);
        for (int64_t j = 0; j < m; ++j) {
          corners(lv[l], xp + (i0 + j) * 3, idx[j], w[j]);
          for (int c = 0; c < 8; ++c) __builtin_prefetch(gt + idx[j][c] * F, 1);
        }
        for (int64_t j = 0; j < m; ++j) {
          const float* g = gp + (i0 + j) * L * F + l * F;
          for (int c = 0; c < 8; ++c)
            for (int64_t f = 0; f < F; ++f) gt[idx[j][c] * F + f] += w[j][c] * g[f];
        }
      }
    }
  });
  return grad;
}

// Defined in march_cpu.cpp (one extension module holds all of scenegen's CPU kernels).
std::vector<torch::Tensor> march(torch::Tensor origins, torch::Tensor dirs, torch::Tensor t_start,
                                 torch::Tensor t_end, torch::Tensor jitter, torch::Tensor k_start,
                                 torch::Tensor bits, torch::Tensor mips, int64_t n_mips, int64_t res,
                                 double extent, bool contract, torch::Tensor seq, bool bounded, double step,
                                 int64_t limit);

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &hash_forward, "hash encoding forward (CPU)");
  m.def("backward", &hash_backward, "hash encoding table gradient (CPU)");
  m.def("march", &march, "ray marching through the occupancy bitfield, packed samples (CPU)");
}
