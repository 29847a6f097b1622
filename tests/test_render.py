"""Marching and compositing against analytic volume rendering; the occupancy grid's update schedule."""

import math

import pytest
import torch

from scenegen.kernels import _torch_impl, cpu_kernels_available, march
from scenegen.render.composite import composite, render_weights
from scenegen.render.estimator import OccupancyGrid
from scenegen.render.marching import MarchConfig, RayMarcher, ray_aabb
from scenegen.render.renderer import Renderer


class SlabField(torch.nn.Module):
    """Constant density ``s`` and colour inside |x| < 0.5 (a slab), empty elsewhere."""

    def __init__(self, s=5.0):
        super().__init__()
        self.s = s

    def forward(self, x, d, image_idx=None):
        inside = (x[:, 0].abs() < 0.5).float()
        rgb = torch.stack([torch.full_like(inside, 1.0), 0.5 * torch.ones_like(inside), torch.zeros_like(inside)], -1)
        return inside * self.s, rgb

    def density(self, x):
        return self(x, x)[0]


def test_composite_matches_closed_form():
    # One ray through a homogeneous segment of length 1 with density s: opacity 1 - exp(-s).
    s = 2.0
    t = torch.linspace(0, 1, 1001)
    t0, t1 = t[:-1], t[1:]
    ray_idx = torch.zeros(1000, dtype=torch.long)
    out = composite(torch.full((1000,), s), torch.ones(1000, 3), t0, t1, ray_idx, 1)
    assert abs(out["accumulation"].item() - (1 - math.exp(-s))) < 1e-5
    # Expected depth of an exponential distribution truncated to [0, 1].
    exp_depth = (1 - math.exp(-s) * (1 + s)) / s
    assert abs(out["depth"].item() - exp_depth) < 1e-3


def test_transmittance_restarts_per_ray():
    sigma = torch.tensor([1.0, 1.0, 1.0, 1.0])
    dt = torch.ones(4)
    w, trans = render_weights(sigma, dt, torch.tensor([0, 0, 1, 1]))
    torch.testing.assert_close(trans, torch.tensor([1.0, math.exp(-1), 1.0, math.exp(-1)]))


def test_ray_aabb():
    o = torch.tensor([[-3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 5.0, 0.0]])
    d = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
    tmin, tmax = ray_aabb(o, d)
    assert torch.allclose(tmin[:2], torch.tensor([2.0, -1.0])) and torch.allclose(tmax[:2], torch.tensor([4.0, 1.0]))
    assert tmax[2] < tmin[2]  # miss


def test_render_slab_inference_equals_analytic_and_skips_empty_space():
    field = SlabField(s=3.0)
    grid = OccupancyGrid(resolution=32, bounded=True, step_size=0.005)
    grid.update(field.density, n_cells=None)
    r = Renderer(field, grid, MarchConfig(steps_per_diagonal=1024), bounded=True)
    o = torch.tensor([[-2.0, 0.1, 0.2], [-2.0, -0.3, 0.0]])
    d = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    out = r.render_rays(o, d, background=torch.zeros(3), min_transmittance=0.0)
    alpha = 1 - math.exp(-3.0)
    torch.testing.assert_close(out["accumulation"], torch.full((2,), alpha), atol=5e-3, rtol=0)
    torch.testing.assert_close(out["rgb"][:, 1], torch.full((2,), 0.5 * alpha), atol=5e-3, rtol=0)
    # Empty-space skipping: only samples inside (or next to) the slab's cells remain.
    ray_idx, t0, t1, _ = r.marcher.march(o, d, grid)
    x = o[ray_idx] + d[ray_idx] * (0.5 * (t0 + t1))[:, None]
    assert x[:, 0].abs().max() < 0.5 + 2 * (2 / 32)
    # The training path (one differentiable pass) agrees with the windowed inference path.
    tr = r.render_rays_train(o, d, None, torch.zeros(3))
    torch.testing.assert_close(tr["accumulation"], out["accumulation"], atol=1e-2, rtol=0)


def test_early_termination_keeps_result():
    field = SlabField(s=200.0)  # opaque
    r = Renderer(field, None, MarchConfig(steps_per_diagonal=512), bounded=True)
    o = torch.tensor([[-2.0, 0.0, 0.0]])
    d = torch.tensor([[1.0, 0.0, 0.0]])
    a = r.render_rays(o, d, torch.zeros(3), min_transmittance=1e-3)
    b = r.render_rays(o, d, torch.zeros(3), min_transmittance=0.0)
    torch.testing.assert_close(a["rgb"], b["rgb"], atol=2e-3, rtol=0)
    assert abs(a["depth"].item() - 1.5) < 0.02  # the slab's face at x = -0.5 is 1.5 from the origin


def test_unbounded_marching_reaches_far():
    m = RayMarcher(MarchConfig(cone_angle=1 / 64, far=100.0), bounded=False)
    assert m.t_seq[-1] >= 100.0 and len(m.t_seq) < 2000
    steps = m.t_seq[1:] - m.t_seq[:-1]
    assert (steps > 0).all() and steps[-1] > steps[0] * 10


def _random_grid(bounded: bool, seed: int = 0, fraction: float = 0.3, resolution: int = 16) -> OccupancyGrid:
    g = OccupancyGrid(resolution=resolution, bounded=bounded)
    gen = torch.Generator().manual_seed(seed)
    g.binary.copy_(torch.rand(g.binary.shape, generator=gen) < fraction)
    return g


@pytest.mark.parametrize("bounded", [True, False])
@pytest.mark.parametrize("limit", [-1, 3])
@pytest.mark.parametrize("fraction", [0.3, 0.01])  # sparse: the kernel skips whole empty mip cells
def test_cpu_march_kernel_matches_reference(bounded, limit, fraction):
    if not cpu_kernels_available():
        pytest.skip("C++ kernels unavailable (no compiler)")
    m = RayMarcher(MarchConfig(steps_per_diagonal=64, cone_angle=1 / 16, far=20.0), bounded=bounded)
    grid = _random_grid(bounded, fraction=fraction, resolution=32)
    gen = torch.Generator().manual_seed(1)
    o = torch.randn(400, 3, generator=gen) * (2.0 if bounded else 0.5)
    d = torch.nn.functional.normalize(torch.randn(400, 3, generator=gen), dim=-1)
    ts, te = m.ray_ranges(o, d)
    u = torch.rand(400, generator=gen)
    k0 = torch.randint(0, 10, (400,), generator=gen)
    kw = dict(origins=o, dirs=d, t_start=ts, t_end=te, jitter=u, k_start=k0, t_seq=m.t_seq, bounded=m.bounded,
              step=m.step, bits=grid.binary, resolution=grid.resolution, extent=grid.extent,
              contracted=not grid.bounded, limit=limit)
    ref = _torch_impl.march(**kw, window=m.num_steps)
    out = march(**kw, mips=grid.mips(), implementation="cpu")  # the kernel, with the same per-ray jitter u
    assert out[0].numel() > 0
    assert torch.equal(out[0], ref[0])
    torch.testing.assert_close(out[1], ref[1])
    torch.testing.assert_close(out[2], ref[2])
    assert torch.equal(out[3], ref[3])


def test_rounds_of_limited_marching_cover_all_samples():
    """Marching in rounds of `limit` samples from `next_k` yields exactly the samples of one full march."""
    m = RayMarcher(MarchConfig(steps_per_diagonal=64), bounded=True)
    grid = _random_grid(True, seed=3)
    gen = torch.Generator().manual_seed(2)
    o = torch.randn(20, 3, generator=gen) * 2
    d = torch.nn.functional.normalize(torch.randn(20, 3, generator=gen), dim=-1)
    for impl in ("auto", "torch"):
        full = m.march(o, d, grid, implementation=impl)
        k = torch.zeros(20, dtype=torch.long)
        got = []
        for _ in range(200):
            idx, t0, t1, k = m.march(o, d, grid, k_start=k, limit=2, implementation=impl)
            got += list(zip(idx.tolist(), t0.tolist()))
            if bool((k >= m.num_steps).all()):
                break
        assert sorted(got) == sorted(zip(full[0].tolist(), full[1].tolist()))


class BlobField(torch.nn.Module):
    """Density from a few Gaussian blobs (semi-transparent fringes, opaque cores), grey colour."""

    def __init__(self, seed=0, scale=1.0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.c = (torch.rand(6, 3, generator=g) * 2 - 1) * 0.7 * scale
        self.w = 0.05 + 0.15 * torch.rand(6, generator=g) * scale
        self.s = 5 + 300 * torch.rand(6, generator=g)

    def density(self, x):
        d2 = ((x[:, None, :] - self.c[None]) ** 2).sum(-1)
        return (self.s * torch.exp(-d2 / (2 * self.w**2))).sum(-1)

    def forward(self, x, d, image_idx=None):
        return self.density(x), torch.full((x.shape[0], 3), 0.5)


@pytest.mark.parametrize("bounded", [True, False])
def test_visible_sample_rounds_equal_one_pass(bounded):
    """The training pre-pass marches in rounds and stops opaque rays; it keeps exactly the samples one pass over
    every sample would keep (transmittance above the threshold), in the same order."""
    field = BlobField(scale=1.0 if bounded else 2.5)
    cfg = MarchConfig(cone_angle=0.0 if bounded else 1 / 64, far=50.0, train_min_transmittance=1e-4)
    grid = OccupancyGrid(resolution=32, bounded=bounded, step_size=RayMarcher(cfg, bounded).step)
    grid.update(field.density, n_cells=None)
    r = Renderer(field, grid, cfg, bounded=bounded)
    gen = torch.Generator().manual_seed(3)
    o = torch.randn(300, 3, generator=gen) * 0.2 + torch.tensor([0.0, 0.0, -2.5 if bounded else -4.0])
    d = torch.nn.functional.normalize(torch.randn(300, 3, generator=gen) * 0.3 + torch.tensor([0.0, 0.0, 1.0]), dim=-1)
    ray_idx, t0, t1, marched = r._visible_samples(o, d, 1e-4, torch.Generator().manual_seed(7))
    u = torch.rand(300, generator=torch.Generator().manual_seed(7))
    ri, a0, a1, _ = r.marcher.march(o, d, grid, offset=u)
    _, tr = render_weights(field.density(o[ri] + d[ri] * (0.5 * (a0 + a1))[:, None]), a1 - a0, ri)
    keep = tr > 1e-4
    assert torch.equal(ray_idx, ri[keep])
    torch.testing.assert_close(t0, a0[keep])
    torch.testing.assert_close(t1, a1[keep])
    assert 0 < keep.sum() < keep.numel() and marched < ri.numel()  # opaque rays stopped early


def test_grid_update_schedule_is_instant_ngps():
    """update_every_n_steps: every n/4 steps with res^3/8 random cells while young (step < 256), then every n steps
    with res^3/16; never at step 0; the random cells come from the generator passed in."""
    grid = OccupancyGrid(resolution=8, bounded=True)
    calls = []
    grid.update = lambda density_fn, n_cells=None, generator=None: calls.append((n_cells, generator))
    gen = torch.Generator()
    done = [s for s in range(400) if grid.update_every_n_steps(s, None, every_n_steps=16, generator=gen)]
    assert done == list(range(4, 256, 4)) + list(range(256, 400, 16))
    assert [c[0] for c in calls] == [512 // 8] * 63 + [512 // 16] * 9
    assert all(c[1] is gen for c in calls)


def test_grid_updates_same_cells_as_a_direct_update():
    """The schedule's update is update(n_cells=...) with the same generator: same random cells, same state."""
    field = BlobField()
    a, b = OccupancyGrid(resolution=16, bounded=True), OccupancyGrid(resolution=16, bounded=True)
    for step in (4, 8, 256, 272):
        young = step < 256
        assert a.update_every_n_steps(step, field.density, 16, generator=torch.Generator().manual_seed(step))
        b.update(field.density, n_cells=16**3 // (8 if young else 16), generator=torch.Generator().manual_seed(step))
    assert not a.update_every_n_steps(5, field.density, 16)
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    assert set(a.state_dict()) == {"density", "binary", "updates", "allowed"}  # checkpoints' "grid" keys


def test_without_a_compiler_marching_runs_on_the_reference(monkeypatch):
    from scenegen.kernels import _backend

    m = RayMarcher(MarchConfig(steps_per_diagonal=64), bounded=True)
    grid = _random_grid(True, seed=4)
    gen = torch.Generator().manual_seed(5)
    o = torch.randn(50, 3, generator=gen) * 2
    d = torch.nn.functional.normalize(torch.randn(50, 3, generator=gen), dim=-1)
    ref = m.march(o, d, grid, implementation="torch")
    monkeypatch.setattr(_backend, "load", lambda: None)  # as when the C++ kernels cannot be built
    out = m.march(o, d, grid)
    assert out.ray_idx.numel() > 0
    for a, b in zip(out, ref):
        assert torch.equal(a, b)
