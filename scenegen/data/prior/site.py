"""The building in a user's model, apart from its site geometry, and the model's units judged from the building.

Architects' exports carry more than the building: a ground plane or terrain under it, sometimes a sky dome around
it, neighbouring blocks far away. Judged on the whole bounding box, a 12 m flat on a 200 m ground plane looks like
a 2 m model in centimetres. So, in the model's own units (+Z up already):

1. **Site geometry** (:func:`split_site`), per connected piece of each part: a piece that encloses all the others
   and is twice as wide (a sky dome, a surrounding box) is left out (the synthesiser draws its own sky). The
   building is the most detailed cluster of upright pieces (walls, furniture: not wide flat ones) whose
   footprints touch, the one nearest the site's middle among comparable ones (massing blocks around a building
   are simple). Mostly horizontal pieces at least twice as wide as the building, under it, are ground planes or
   terrain; pieces with a gap to the building wider than half of it are far-away context. Ground and context
   stay in the pictures.
2. **Units** (:func:`judge_units`): vertical probes through the building list every surface they cross; the gaps
   between a surface facing up (a floor) and the next one facing down (a ceiling) are clear storey heights. Their
   median, read as metres / centimetres / millimetres (or feet / inches when no metric reading fits), must be a
   storey height (2.1-6 m) and the whole building a building (1.5-2000 m across). Without ceilings (a model
   open at the top, a facade) the building's size decides: over 2000 units is millimetres, over 200 centimetres.
"""

from __future__ import annotations

import numpy as np
import trimesh
from scipy import ndimage

from scenegen.data.synth.o3d import import_open3d

__all__ = ["Probe", "judge_units", "probe_storeys", "raycaster", "split_site"]

UNIT_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001, "ft": 0.3048, "in": 0.0254}
STOREY_M = (2.1, 6.0)  # plausible clear storey heights, metres


def raycaster(V: np.ndarray, F: np.ndarray):
    """An Open3D ray caster over vertices V (N, 3) and faces F (M, 3)."""
    o3d = import_open3d()
    tm = o3d.t.geometry.TriangleMesh()
    tm.vertex.positions = o3d.core.Tensor(np.ascontiguousarray(V, dtype=np.float32))
    tm.triangle.indices = o3d.core.Tensor(np.ascontiguousarray(F, dtype=np.int32))
    rc = o3d.t.geometry.RaycastingScene()
    rc.add_triangles(tm)
    return rc


def _pieces(V: np.ndarray, F: np.ndarray, FP: np.ndarray) -> np.ndarray:
    """(F,) label of the connected piece (vertices welded, within one part) of every face."""
    m = trimesh.Trimesh(V, F, process=False)
    m.merge_vertices()
    comp = trimesh.graph.connected_component_labels(m.face_adjacency, node_count=len(m.faces))
    _, lab = np.unique(np.stack([FP.astype(np.int64), comp.astype(np.int64)], 1), axis=0, return_inverse=True)
    return lab.ravel()


def split_site(V: np.ndarray, F: np.ndarray, FP: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray, list[dict]]:
    """Faces of site geometry. Returns ``site`` (F,) bool (ground, terrain, context: kept in the pictures),
    ``drop`` (F,) bool (sky domes and enclosing shells: left out) and a list of what was found (part, kind,
    size in model units)."""
    lab = _pieces(V, F, FP)
    k = int(lab.max()) + 1
    tri = V[F]
    lo = np.full((k, 3), np.inf)
    hi = np.full((k, 3), -np.inf)
    np.minimum.at(lo, lab, tri.min(1))
    np.maximum.at(hi, lab, tri.max(1))
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area2 = np.linalg.norm(cross, axis=1)
    area = np.bincount(lab, area2, k)
    nfaces = np.bincount(lab, minlength=k).astype(np.float64)
    flat = np.bincount(lab, np.abs(cross[:, 2]), k) / np.maximum(area, 1e-30)  # area-weighted |n_z|
    piece_part = np.zeros(k, dtype=np.int64)
    piece_part[lab] = FP
    kind = np.array([""] * k, dtype=object)
    alive = np.ones(k, dtype=bool)
    xy = lambda a, b: float(np.max(b[:2] - a[:2]))  # noqa: E731  (footprint width)
    for _ in range(4):  # sky domes and shells around everything: the largest piece, enclosing all the others
        idx = np.nonzero(alive)[0]
        if len(idx) < 2:
            break
        big = idx[np.argmax([xy(lo[i], hi[i]) for i in idx])]
        rest = idx[idx != big]
        rlo, rhi = lo[rest].min(0), hi[rest].max(0)
        if not (np.all(lo[big] <= rlo) and np.all(hi[big] >= rhi) and xy(lo[big], hi[big]) >= 2.0 * xy(rlo, rhi)
                and (hi[big][2] - lo[big][2]) >= 1.5 * (rhi[2] - rlo[2])):
            break
        kind[big] = "sky dome or enclosing shell"
        alive[big] = False
    # the building: the main cluster of the upright geometry (walls, furniture; not wide flat pieces)
    flatish = alive & (flat > 0.6)
    upright = np.nonzero(alive & ~flatish)[0]
    if len(upright):
        flat_idx = np.nonzero(flatish)[0]
        if len(flat_idx):  # the middle of the widest flat piece (the site), else of everything
            w = flat_idx[np.argmax([xy(lo[i], hi[i]) for i in flat_idx])]
            centre = (lo[w] + hi[w]) / 2
        else:
            centre = (lo[alive].min(0) + hi[alive].max(0)) / 2
        main, size = _main_cluster(lo[upright], hi[upright], nfaces[upright], centre)
        mlo, mhi = lo[upright[main]].min(0), hi[upright[main]].max(0)
        c = (mlo + mhi) / 2
        for i in np.nonzero(flatish)[0]:  # ground planes and terrain: much wider than the building, under it
            if xy(lo[i], hi[i]) >= 2.0 * size and np.all((lo[i][:2] <= c[:2]) & (c[:2] <= hi[i][:2])) \
                    and lo[i][2] <= mlo[2] + 0.1 * (mhi[2] - mlo[2]):
                kind[i] = "ground plane" if flat[i] > 0.9 else "terrain"
        # far-away context: anything else with a gap to the building wider than half the building
        cand = np.nonzero(alive & (kind == ""))[0]
        gap = np.maximum(np.maximum(mlo[:2] - hi[cand, :2], lo[cand, :2] - mhi[:2]), 0).max(1)
        kind[cand[gap > 0.5 * size]] = "far-away context"
    site_piece = kind != ""
    drop_piece = kind == "sky dome or enclosing shell"
    found: dict[tuple[str, str], list] = {}
    for i in np.nonzero(site_piece)[0]:
        key = (names[piece_part[i]], str(kind[i]))
        box = found.setdefault(key, [lo[i].copy(), hi[i].copy()])
        box[0], box[1] = np.minimum(box[0], lo[i]), np.maximum(box[1], hi[i])
    report = [{"part": p, "kind": kd, "size": (b[1] - b[0]).tolist()} for (p, kd), b in found.items()]
    return site_piece[lab], drop_piece[lab], report


def _main_cluster(lo: np.ndarray, hi: np.ndarray, detail: np.ndarray, centre: np.ndarray,
                  n: int = 128) -> tuple[np.ndarray, float]:
    """Pieces (bounds lo/hi (K, 3)) of the building: clusters of footprints that touch or nearly touch (on a
    128-cell grid over them all); the building is the most detailed (``detail``: faces per piece) of them, or of
    those at least half as detailed, the one nearest ``centre`` (the middle of the site: massing blocks around a
    building are simple). Returns (mask (K,), the cluster's footprint width)."""
    blo, bhi = lo.min(0), hi.max(0)
    cell = max(float(np.max(bhi[:2] - blo[:2])), 1e-12) / n
    ij_lo = np.clip(((lo[:, :2] - blo[:2]) / cell).astype(int), 0, n)
    ij_hi = np.clip(((hi[:, :2] - blo[:2]) / cell).astype(int), 0, n)
    occ = np.zeros((n + 1, n + 1), dtype=bool)
    for a, b in zip(ij_lo, ij_hi):
        occ[a[0]:b[0] + 1, a[1]:b[1] + 1] = True
    labels, nl = ndimage.label(ndimage.binary_dilation(occ, iterations=2))
    lab = labels[ij_lo[:, 0], ij_lo[:, 1]]
    weight = np.bincount(lab, detail, nl + 1)
    best, main = np.inf, 0
    for c in range(1, nl + 1):
        if weight[c] >= 0.5 * weight[1:].max():
            cc = (lo[lab == c].min(0) + hi[lab == c].max(0)) / 2
            d = float(np.linalg.norm(cc[:2] - centre[:2]))
            if d < best:
                best, main = d, c
    m = lab == main
    return m, float(np.max(hi[m, :2].max(0) - lo[m, :2].min(0)))


class Probe:
    """Vertical probes through a mesh: for a grid of columns over a footprint, the free gaps (z0, z1) between a
    surface the probe leaves upwards and the next one it meets, that are not the inside of a solid (entered
    through a face looking down, left through one looking up)."""

    def __init__(self, V: np.ndarray, F: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int = 48):
        o3d = import_open3d()
        rc = raycaster(V, F)
        fn = np.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]])
        nz = fn[:, 2] / np.maximum(np.linalg.norm(fn, axis=1), 1e-30)
        span = hi - lo
        xs = lo[0] + span[0] * (np.arange(n) + 0.5) / n
        ys = lo[1] + span[1] * (np.arange(n) + 0.5) / n
        gx, gy = np.meshgrid(xs, ys)
        z0 = lo[2] - 0.01 * max(span[2], 1e-9) - 1e-6
        rays = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, z0), np.zeros(gx.size), np.zeros(gx.size),
                         np.ones(gx.size)], 1).astype(np.float32)
        res = rc.list_intersections(o3d.core.Tensor(rays))
        split = res["ray_splits"].numpy()
        t = res["t_hit"].numpy().astype(np.float64)
        prim = res["primitive_ids"].numpy().astype(np.int64)
        eps = 1e-4 * max(float(np.max(span)), 1e-9)
        self.columns_hit = 0
        gaps = []
        for r in range(len(rays)):
            a, b = split[r], split[r + 1]
            if b - a < 1:
                continue
            self.columns_hit += 1
            order = np.argsort(t[a:b])
            tt, nn = t[a:b][order], nz[prim[a:b][order]]
            # coincident hits (double-sided surfaces, shared edges) count as one surface: it may face both ways
            new = np.concatenate([[True], np.diff(tt) > eps])
            grp = np.cumsum(new) - 1
            ts = tt[new]
            up = np.full(len(ts), -np.inf)
            down = np.full(len(ts), np.inf)
            np.maximum.at(up, grp, nn)
            np.minimum.at(down, grp, nn)
            for i in range(len(ts) - 1):
                # a floor (or an edge-on surface) below, a ceiling above; else the inside of a solid or a
                # surface seen from its back
                if up[i] >= -0.3 and down[i + 1] <= 0.3:
                    gaps.append((r, z0 + ts[i], z0 + ts[i + 1]))
        self.gaps = np.array(gaps, dtype=np.float64).reshape(-1, 3)

    def storey_height(self) -> tuple[float, float]:
        """(median of each column's tallest free gap, share of the hit columns that have one)."""
        if len(self.gaps) == 0 or self.columns_hit == 0:
            return 0.0, 0.0
        cols = self.gaps[:, 0].astype(int)
        tall = np.zeros(cols.max() + 1)
        np.maximum.at(tall, cols, self.gaps[:, 2] - self.gaps[:, 1])
        tall = tall[np.unique(cols)]
        return float(np.median(tall)), len(tall) / self.columns_hit

    def levels(self, scale: float, min_share: float = 0.08) -> list[tuple[float, float]]:
        """Floors (z, clear height) in metres (``scale`` converts model units): starts of free gaps of 1.8 m or
        more, grouped in 0.3 m bins, kept when at least ``min_share`` of the columns with such a gap have one."""
        g = self.gaps[(self.gaps[:, 2] - self.gaps[:, 1]) * scale >= 1.8]
        if len(g) == 0:
            return []
        z = g[:, 1] * scale
        h = (g[:, 2] - g[:, 1]) * scale
        bins = np.round(z / 0.3).astype(np.int64)
        ncol = len(np.unique(g[:, 0]))
        out = []
        for b in np.unique(bins):
            sel = bins == b
            if len(np.unique(g[sel, 0])) >= min_share * ncol:
                out.append((float(np.median(z[sel])), float(np.median(h[sel]))))
        merged: list[tuple[float, float]] = []
        for z_, h_ in sorted(out):
            if merged and z_ - merged[-1][0] < 0.6:
                continue
            merged.append((z_, h_))
        return merged


def probe_storeys(V, F, lo, hi) -> Probe:
    return Probe(V, F, lo, hi)


def judge_units(probe: Probe, lo: np.ndarray, hi: np.ndarray) -> tuple[str, str]:
    """(units, reason) of a building with bounds lo/hi (model units) and its vertical probes."""
    size = float(np.max(hi - lo))
    h, share = probe.storey_height()
    if h > 0 and share >= 0.25:
        for u in ("m", "cm", "mm", "ft", "in"):  # metric first: the ranges of m/cm/mm never overlap
            s = UNIT_SCALE[u]
            if STOREY_M[0] <= h * s <= STOREY_M[1] and 1.5 <= size * s <= 2000:
                name = {"m": "metres", "cm": "centimetres", "mm": "millimetres", "ft": "feet", "in": "inches"}[u]
                return u, (f"clear storey height {h:.4g} units (floor to ceiling, median over {share:.0%} of the "
                           f"building's footprint) is {h * s:.2f} m in {name}")
    if size > 2000:
        return "mm", f"building {size:.4g} units across (site geometry left out), no storey height found: millimetres"
    if size > 200:
        return "cm", f"building {size:.4g} units across (site geometry left out), no storey height found: centimetres"
    return "m", f"building {size:.4g} units across (site geometry left out), no storey height found: read as metres"
