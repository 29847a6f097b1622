"""Field components: the C++ CPU kernel against the pure-PyTorch reference, contraction, SH, occupancy grid."""

import math
from pathlib import Path

import pytest
import torch

from scenegen.field.encoding import HashEncoding, HashGridConfig
from scenegen.field.field import FieldConfig, RadianceField, bucket_rows, run_mlp, sh_encode
from scenegen.kernels import contract, cpu_kernels_available
from scenegen.kernels import hash_encode as hash_encode_any
from scenegen.kernels._backend import EXTENSION_NAME
from scenegen.kernels._torch_impl import hash_encode
from scenegen.render.estimator import OccupancyGrid, uncontract


def _ref(enc, x):
    return hash_encode(x, enc.table, enc.resolutions, enc.offsets, enc.sizes, enc.dense)


@pytest.mark.parametrize("features", [2, 4])
def test_cpu_kernel_matches_reference(features):
    if not cpu_kernels_available():
        pytest.skip("C++ kernel could not be built on this machine")
    enc = HashEncoding(HashGridConfig(levels=8, features_per_level=features, log2_hashmap_size=12, max_resolution=256))
    enc.table.data.normal_()
    x = torch.rand(3000, 3)
    x[:10] = 1.0  # the upper boundary, where corners fall past the last vertex
    x[10:20] = 0.0
    assert enc.backend(x.device) == "cpu"
    a = enc(x)
    b = _ref(enc, x)
    assert a.shape == (3000, 8 * features)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    g = torch.randn_like(a)
    (a * g).sum().backward()
    ga = enc.table.grad.clone()
    enc.table.grad = None
    (_ref(enc, x) * g).sum().backward()
    torch.testing.assert_close(ga, enc.table.grad, atol=1e-4, rtol=1e-4)


def test_hash_encode_wrapper_falls_back_to_the_reference():
    enc = HashEncoding(HashGridConfig(levels=4, log2_hashmap_size=10, max_resolution=64), implementation="torch")
    enc.table.data.normal_()
    x = torch.rand(200, 3)
    assert enc.backend(x.device) == "torch"
    out = hash_encode_any(x=x, table=enc.table, resolutions=enc.resolutions, offsets=enc.offsets, sizes=enc.sizes,
                          dense=enc.dense, implementation="torch")
    assert torch.equal(out, _ref(enc, x))
    assert torch.equal(enc(x), out)


def test_hash_encoding_interpolates_trilinearly():
    # One dense level: the encoding of a vertex is that vertex's table entry; between vertices it is linear.
    cfg = HashGridConfig(levels=1, features_per_level=1, log2_hashmap_size=10, base_resolution=4, max_resolution=4)
    enc = HashEncoding(cfg, implementation="torch")
    enc.table.data = torch.arange(enc.table.shape[0], dtype=torch.float32)[:, None]
    r = 4
    v = lambda i, j, k: float(i + j * (r + 1) + k * (r + 1) ** 2)
    x = torch.tensor([[1 / 4, 2 / 4, 3 / 4], [1.5 / 4, 2 / 4, 3 / 4]])
    out = enc(x)[:, 0]
    assert out[0].item() == pytest.approx(v(1, 2, 3))
    assert out[1].item() == pytest.approx(0.5 * (v(1, 2, 3) + v(2, 2, 3)))


def test_contraction_roundtrip_and_range():
    x = torch.randn(1000, 3) * 10
    y = contract(x)
    assert y.abs().max() <= 2.0
    torch.testing.assert_close(uncontract(y), x, atol=1e-3, rtol=1e-3)
    inside = torch.rand(100, 3) * 2 - 1
    torch.testing.assert_close(contract(inside), inside)


def test_sh_basis_is_orthonormal():
    # Monte Carlo: integral of Y_i Y_j over the sphere = delta_ij.
    d = torch.nn.functional.normalize(torch.randn(400_000, 3, dtype=torch.float64), dim=-1)
    y = sh_encode(d, 4)
    gram = (y.T @ y) * (4 * math.pi / d.shape[0])
    torch.testing.assert_close(gram, torch.eye(16, dtype=torch.float64), atol=0.02, rtol=0)


def test_field_outputs_and_gradients():
    f = RadianceField(FieldConfig(grid=HashGridConfig(log2_hashmap_size=12, levels=4)), bounded=False, num_images=3,)
    x = torch.randn(500, 3) * 3
    d = torch.nn.functional.normalize(torch.randn(500, 3), dim=-1)
    sigma, rgb = f(x, d)
    assert sigma.shape == (500,) and rgb.shape == (500, 3)
    assert (sigma >= 0).all() and ((rgb >= 0) & (rgb <= 1)).all()
    (sigma.sum() + rgb.sum()).backward()
    assert f.encoding.table.grad.abs().sum() > 0


def test_mlp_row_buckets_are_few_and_tight():
    sizes = {bucket_rows(n) for n in range(9000, 18000)}
    assert len(sizes) <= 10  # a step's sample count wanders over this range: a handful of matrix shapes
    for n in [1, 63, 64, 65, 129, 1000, 12001, 16385, 10**6 + 3]:
        b = bucket_rows(n)
        assert n <= b and (b <= 1.125 * n or b == 64)
        assert bucket_rows(b) == b


def test_bucketed_bfloat16_mlp_equals_the_unpadded_one_rows_and_gradients():
    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(38, 64, bias=False), torch.nn.ReLU(), torch.nn.Linear(64, 16, bias=False))
    x = torch.randn(1001, 38, requires_grad=True)
    outs, grads = [], []
    for bucket in (False, True):
        x.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = run_mlp(mlp, x, bucket)
        assert y.shape == (1001, 16)
        (y.float() ** 2).sum().backward()
        outs.append(y.float().detach())
        grads.append(x.grad.clone())
    assert torch.allclose(outs[0], outs[1], rtol=2e-2, atol=2e-2)
    assert torch.allclose(grads[0], grads[1], rtol=5e-2, atol=5e-2)


def test_nearest_code_interpolates_the_codes_of_the_photos_taken_beside_a_view():
    import numpy as np

    from scenegen.field.appearance import nearest_code

    def pose(x):  # cameras on a line, all looking down -z
        m = np.eye(4)
        m[0, 3] = x
        return m

    train_frames = [0, 2, 4, 6]  # dataset frames 1, 3, 5 held out (their rows stay zero)
    train_c2w = np.stack([pose(x) for x in (0.0, 1.0, 2.0, 3.0)])
    table = torch.zeros(7, 2)
    table[0], table[2], table[4], table[6] = torch.tensor([[0.0, 1], [1.0, 1], [2.0, 1], [3.0, 1]])
    assert torch.allclose(nearest_code(table, train_frames, train_c2w, pose(2.0)), torch.tensor([2.0, 1]))
    halfway = nearest_code(table, train_frames, train_c2w, pose(1.5))
    assert torch.allclose(halfway, torch.tensor([1.5, 1]), atol=1e-5)
    near_one = nearest_code(table, train_frames, train_c2w, pose(1.2))  # mostly photo 2's look, no far photo's
    assert 1.0 < float(near_one[0]) < 1.5


def test_novel_views_use_the_mean_of_the_trained_appearance_codes():
    cfg = FieldConfig(grid=HashGridConfig(log2_hashmap_size=12, levels=4), look="codes", appearance_dim=4)
    f = RadianceField(cfg, bounded=False, num_images=5)
    with torch.no_grad():  # images 0-2 trained, 3-4 held out (rows still at their zero initialisation)
        f.appearance.weight[:3] = torch.tensor([[1.0, 0, 0, 2], [2.0, 0, 0, 2], [3.0, 0, 0, 2]])
    code = f.appearance_codes(None, 2, "cpu")
    assert torch.allclose(code, torch.tensor([[2.0, 0, 0, 2]] * 2))
    given = torch.tensor([5.0, 6, 7, 8])  # an explicit look for a novel view (e.g. the nearest photos')
    assert torch.equal(f.appearance_codes(None, 3, "cpu", given), given.expand(3, -1))
    assert torch.equal(f.appearance_codes(torch.tensor([1]), 1, "cpu"), f.appearance.weight[1:2])


def test_exposure_look_is_a_gain_and_offset_per_photo_on_one_colour():
    """--field.look exposure: each photo's row is (log gain, offset) per channel applied to the field's colour,
    which is the same for every photo (the codes do not reach the colour network); a zero row changes nothing.
    codes: the colour network takes the photo's code; off (the default): no table."""
    grid = HashGridConfig(log2_hashmap_size=12, levels=4)
    f = RadianceField(FieldConfig(grid=grid, look="exposure"), bounded=False, num_images=3)
    assert f.appearance.weight.shape == (3, 6) and not f.appearance.weight.any()
    x, d = torch.rand(5, 3) - 0.5, torch.nn.functional.normalize(torch.randn(5, 3), dim=-1)
    with torch.no_grad():
        f.appearance.weight[1] = torch.tensor([math.log(2.0), 0.0, math.log(0.5), 0.1, 0.0, -0.1])
        _, base = f(x, d, torch.zeros(5, dtype=torch.long))
        _, lit = f(x, d, torch.ones(5, dtype=torch.long))
        _, novel = f(x, d)  # a novel view: the mean of the trained rows (only row 1 here)
    assert torch.allclose(lit, base * torch.tensor([2.0, 1.0, 0.5]) + torch.tensor([0.1, 0.0, -0.1]), atol=1e-5)
    assert torch.allclose(novel, lit)
    codes = RadianceField(FieldConfig(grid=grid, look="codes", appearance_dim=4), bounded=False, num_images=3)
    assert codes.appearance.weight.shape == (3, 4) and codes.color_mlp[0].in_features == 15 + 16 + 4
    f = RadianceField(FieldConfig(grid=grid), bounded=False, num_images=3)  # default: one look for every photo
    assert FieldConfig().look == "off" and f.appearance is None and f.color_mlp[0].in_features == 15 + 16


def test_occupancy_grid_marks_dense_region():
    grid = OccupancyGrid(resolution=16, bounded=True, step_size=0.01)
    assert grid.occupancy_fraction == 1.0  # unseen cells count as occupied

    def density(p):  # a solid ball of radius 0.5
        return (p.norm(dim=-1) < 0.5).float() * 100.0

    grid.update(density, n_cells=None)
    inside = grid.occupied(torch.tensor([[0.0, 0.0, 0.0], [0.2, 0.1, 0.0]]))
    outside = grid.occupied(torch.tensor([[0.9, 0.9, 0.9], [-0.9, 0.0, 0.8]]))
    assert inside.all() and not outside.any()
    assert 0.02 < grid.occupancy_fraction < 0.2


def test_occupancy_restricted_to_box_stays_empty_outside():
    g = OccupancyGrid(resolution=16, bounded=True)
    g.restrict_to_box(torch.tensor([-1.0, -1.0, -0.25]), torch.tensor([1.0, 1.0, 0.25]))
    inside = torch.tensor([[0.0, 0.0, 0.0], [0.9, -0.9, 0.2]])
    outside = torch.tensor([[0.0, 0.0, 0.6], [0.5, 0.5, -0.9]])
    assert g.occupied(inside).all() and not g.occupied(outside).any()
    # Even a dense field leaves the cells outside the box empty after updates.
    g.update(lambda x: torch.full((x.shape[0],), 100.0), n_cells=None)
    assert g.occupied(inside).all() and not g.occupied(outside).any()
    assert g.occupancy_fraction == pytest.approx(6 / 16)  # the 4 z-cells inside plus the 2 touching the box


def test_a_stale_build_lock_does_not_hang_the_kernel_load(tmp_path):
    """A scenegen process killed while building leaves torch's ``lock`` file behind: the next one must not wait."""
    import subprocess
    import sys

    pytest.importorskip("fcntl")
    from torch.utils.cpp_extension import _get_build_directory

    if not cpu_kernels_available():
        pytest.skip("no C++ toolchain here")
    lock = Path(_get_build_directory(EXTENSION_NAME, verbose=False)) / "lock"
    lock.touch()
    code = "from scenegen.kernels import cpu_kernels_available; assert cpu_kernels_available()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
    assert not lock.exists()


def test_without_a_compiler_the_encoding_runs_on_the_reference(monkeypatch):
    from scenegen.kernels import _backend

    monkeypatch.setattr(_backend, "load", lambda: None)  # as when the C++ kernels cannot be built
    enc = HashEncoding(HashGridConfig(levels=4, log2_hashmap_size=10, max_resolution=64))
    enc.table.data.normal_()
    x = torch.rand(100, 3)
    assert not cpu_kernels_available() and enc.backend(x.device) == "torch"
    assert torch.equal(enc(x), _ref(enc, x))
