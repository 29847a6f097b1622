"""COLMAP models (``sparse/0`` in .bin or .txt, read with pycolmap) and LLFF ``poses_bounds.npy`` ->
nerfstudio ``transforms.json`` (the one dataset layout the rest of scenegen trains on).

Conventions. COLMAP stores world-to-camera poses with OpenCV camera axes (+X right, +Y down, +Z forward); we
write camera-to-world in OpenGL axes (+X right, +Y up, -Z forward): ``c2w = inv(w2c) @ diag(1, -1, -1, 1)``.
Camera models map to nerfstudio's: SIMPLE_PINHOLE/PINHOLE -> PINHOLE; SIMPLE_RADIAL/RADIAL/OPENCV -> OPENCV
(k1, k2, p1, p2); SIMPLE_RADIAL_FISHEYE/RADIAL_FISHEYE/OPENCV_FISHEYE -> OPENCV_FISHEYE (k1..k4). Other models
(FULL_OPENCV, FOV, THIN_PRISM_FISHEYE...) are refused with a message naming the camera.

The orientation step (:func:`orient`) then makes +Z up (gravity estimated from the cameras, people hold them
level), centres the scene on the sparse points and, given one known distance, scales it to metres; the matrix
applied is stored as ``applied_transform`` (nerfstudio's key), so nothing is lost.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from scenegen.cameras.poses import rotation_between
from scenegen.core.errors import InputError, MissingDependencyError
from scenegen.core.io import atomic_write_bytes, atomic_write_text
from scenegen.data.formats.llff import parse_llff

_OPENCV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def import_pycolmap():
    try:
        import pycolmap
    except ImportError:
        raise MissingDependencyError(
            "pycolmap is not installed: pip install pycolmap (structure from motion and COLMAP models need it)"
        ) from None
    return pycolmap


@dataclass
class PosedImages:
    """Registered images of a reconstruction, in the reconstruction's world frame.

    Attributes:
        names: image file names (relative to the image folder).
        c2w: (N, 4, 4) OpenGL camera-to-world.
        intrinsics: per image dict with camera_model, w, h, fl_x, fl_y, cx, cy and distortion (k1 k2 k3 k4 p1 p2).
        points: (P, 3) sparse points; colors: (P, 3) uint8; point_errors: (P,) reprojection errors (pixels).
        reprojection_error: mean reprojection error in pixels (nan when unknown).
    """

    names: list[str]
    c2w: np.ndarray
    intrinsics: list[dict]
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    point_errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    reprojection_error: float = float("nan")
    observations: list[np.ndarray] | None = None
    """Per image (K, 3) float: pixel u, v (pixel centres at +0.5) and the index into ``points`` it observes."""


def camera_intrinsics(cam, where: str = "camera") -> dict:
    """nerfstudio intrinsics dict of a pycolmap Camera."""
    model = cam.model.name if hasattr(cam.model, "name") else str(cam.model)
    p = [float(x) for x in cam.params]
    d = {"w": int(cam.width), "h": int(cam.height)}
    if model == "SIMPLE_PINHOLE":
        f, cx, cy = p
        d.update(camera_model="PINHOLE", fl_x=f, fl_y=f, cx=cx, cy=cy)
    elif model == "PINHOLE":
        fx, fy, cx, cy = p
        d.update(camera_model="PINHOLE", fl_x=fx, fl_y=fy, cx=cx, cy=cy)
    elif model == "SIMPLE_RADIAL":
        f, cx, cy, k1 = p
        d.update(camera_model="OPENCV", fl_x=f, fl_y=f, cx=cx, cy=cy, k1=k1, k2=0.0, p1=0.0, p2=0.0)
    elif model == "RADIAL":
        f, cx, cy, k1, k2 = p
        d.update(camera_model="OPENCV", fl_x=f, fl_y=f, cx=cx, cy=cy, k1=k1, k2=k2, p1=0.0, p2=0.0)
    elif model == "OPENCV":
        fx, fy, cx, cy, k1, k2, p1, p2 = p
        d.update(camera_model="OPENCV", fl_x=fx, fl_y=fy, cx=cx, cy=cy, k1=k1, k2=k2, p1=p1, p2=p2)
    elif model == "SIMPLE_RADIAL_FISHEYE":
        f, cx, cy, k1 = p
        d.update(camera_model="OPENCV_FISHEYE", fl_x=f, fl_y=f, cx=cx, cy=cy, k1=k1, k2=0.0, k3=0.0, k4=0.0)
    elif model == "RADIAL_FISHEYE":
        f, cx, cy, k1, k2 = p
        d.update(camera_model="OPENCV_FISHEYE", fl_x=f, fl_y=f, cx=cx, cy=cy, k1=k1, k2=k2, k3=0.0, k4=0.0)
    elif model == "OPENCV_FISHEYE":
        fx, fy, cx, cy, k1, k2, k3, k4 = p
        d.update(camera_model="OPENCV_FISHEYE", fl_x=fx, fl_y=fy, cx=cx, cy=cy, k1=k1, k2=k2, k3=k3, k4=k4)
    else:
        raise InputError(f"COLMAP camera model {model} is not supported (use PINHOLE, SIMPLE_RADIAL, OPENCV or a "
                         "fisheye model)", field=where)
    return d


def _c2w_from_image(img) -> np.ndarray:
    pose = img.cam_from_world() if callable(getattr(img, "cam_from_world", None)) else img.cam_from_world
    w2c = np.eye(4)
    w2c[:3, :4] = np.asarray(pose.matrix(), dtype=np.float64)
    return np.linalg.inv(w2c) @ _OPENCV_TO_GL


def from_reconstruction(rec) -> PosedImages:
    """Registered images and sparse points of a ``pycolmap.Reconstruction``."""
    ids = sorted(rec.reg_image_ids(), key=lambda i: rec.images[i].name)
    names, c2w, intr = [], [], []
    for i in ids:
        img = rec.images[i]
        names.append(img.name)
        c2w.append(_c2w_from_image(img))
        intr.append(camera_intrinsics(rec.cameras[img.camera_id], f"cameras[{img.camera_id}]"))
    pts = rec.points3D
    if len(pts):
        pid = list(pts.keys())
        xyz = np.array([p.xyz for p in pts.values()], dtype=np.float64)
        rgb = np.array([p.color for p in pts.values()], dtype=np.uint8)
        err = np.array([p.error for p in pts.values()], dtype=np.float64)
    else:
        pid, xyz, rgb, err = [], np.zeros((0, 3)), np.zeros((0, 3), np.uint8), np.zeros(0)
    index = {k: n for n, k in enumerate(pid)}
    obs = []
    for i in ids:
        rows = [(p.xy[0], p.xy[1], index[p.point3D_id]) for p in rec.images[i].points2D
                if p.has_point3D() and p.point3D_id in index]
        obs.append(np.asarray(rows, dtype=np.float64).reshape(-1, 3))
    try:
        reproj = float(rec.compute_mean_reprojection_error())
    except Exception:  # older pycolmap
        reproj = float(err.mean()) if len(err) else float("nan")
    return PosedImages(names, np.stack(c2w) if c2w else np.zeros((0, 4, 4)), intr, xyz, rgb, err, reproj, obs)


def read_colmap_model(model_dir: str | Path) -> PosedImages:
    """A COLMAP model folder (cameras/images/points3D as .bin or .txt)."""
    pycolmap = import_pycolmap()
    d = Path(model_dir)
    has = [n for n in ("cameras", "images", "points3D") if (d / f"{n}.bin").is_file() or (d / f"{n}.txt").is_file()]
    if len(has) < 3:
        missing = sorted({"cameras", "images", "points3D"} - set(has))
        raise InputError(f"not a COLMAP model: {', '.join(m + '.bin/.txt' for m in missing)} missing", file=d, field="--input")
    try:
        rec = pycolmap.Reconstruction(str(d))
    except Exception as e:
        raise InputError(f"cannot read the COLMAP model: {str(e).strip().splitlines()[0][:160]}", file=d, field="--input") from None
    posed = from_reconstruction(rec)
    if not posed.names:
        raise InputError("the COLMAP model has no registered images", file=d, field="images")
    return posed


def read_llff(root: str | Path) -> tuple[PosedImages, Path]:
    """``poses_bounds.npy`` + images folder -> posed images (through the LLFF parser) and the image folder."""
    ds = parse_llff(Path(root))
    cams = ds.cameras
    c2w = np.tile(np.eye(4), (len(ds), 1, 1))
    c2w[:, :3, :4] = cams.c2w.double().numpy()
    intr = []
    for i in range(len(ds)):
        intr.append({"camera_model": "PINHOLE", "w": int(cams.width[i]), "h": int(cams.height[i]),
                     "fl_x": float(cams.fx[i]), "fl_y": float(cams.fy[i]), "cx": float(cams.cx[i]),
                     "cy": float(cams.cy[i])})
    paths = [Path(p) for p in ds.image_paths]
    return PosedImages([p.name for p in paths], c2w, intr), paths[0].parent


# ---------------------------------------------------------------------------------------------------------------
# Orientation and scale
# ---------------------------------------------------------------------------------------------------------------


def orient(posed: PosedImages, up: str = "auto", center: str = "points", scale_from: tuple | None = None,
           up_vector=None) -> tuple[np.ndarray, dict]:
    """The similarity (4, 4) that puts a capture upright (+Z up), centred and, with ``scale_from``, in metres.

    Args:
        up: "auto" (gravity from the cameras' up vectors), "none" (keep the reconstruction's axes).
        center: "points" (median of the sparse points, robust to stray points), "cameras" or "none".
        scale_from: (x1, y1, z1, x2, y2, z2, metres) two points in the *oriented* frame (as written by a run
            without it, e.g. picked in the sparse PLY) and their true distance.
        up_vector: an explicit world up (3,) in the reconstruction's frame, overriding ``up``.
    Returns:
        (T, info): ``world_out = T @ world_in``; info says what was done.
    """
    info: dict = {}
    T = np.eye(4)
    if up_vector is not None or up == "auto":
        if up_vector is not None:
            u = np.asarray(up_vector, dtype=np.float64)
            info["up"] = "given"
        else:
            ups = posed.c2w[:, :3, 1]
            ups = ups / np.linalg.norm(ups, axis=1, keepdims=True)
            m = ups.mean(0)
            agreement = float(np.linalg.norm(m))
            if agreement < 0.5:  # cameras rolled every way: fit a plane to the camera centres instead
                c = posed.c2w[:, :3, 3] - posed.c2w[:, :3, 3].mean(0)
                _, _, vt = np.linalg.svd(c, full_matrices=False)
                u = vt[-1] * np.sign(vt[-1] @ m if agreement > 0 else 1.0)
                info["up"] = f"normal of the camera plane (cameras' up vectors disagree: {agreement:.2f})"
            else:
                u = m
                info["up"] = f"mean camera up (agreement {agreement:.2f})"
        R = rotation_between(u, np.array([0.0, 0.0, 1.0]))
        T[:3, :3] = R
    pts = posed.points if len(posed.points) else posed.c2w[:, :3, 3]
    if center == "points" or (center == "cameras"):
        src = pts if center == "points" else posed.c2w[:, :3, 3]
        c = np.median(src @ T[:3, :3].T, axis=0)
        T[:3, 3] = -c
        info["center"] = center
    if scale_from is not None:
        x1, y1, z1, x2, y2, z2, dist = (float(v) for v in scale_from)
        cur = float(np.linalg.norm(np.array([x2 - x1, y2 - y1, z2 - z1])))
        if not (dist > 0 and cur > 0):
            raise InputError("needs two different points and a positive distance", field="--scale-from")
        s = dist / cur
        T = np.diag([s, s, s, 1.0]) @ T
        info["scale"] = s
        info["units"] = "metres"
    return T, info


def similarity_align(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The similarity (s, R, t) minimising ``|dst - (s R src + t)|^2`` over point pairs (N, 3) (Umeyama 1991):
    how recovered camera centres are compared with known ones."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, d, vt = np.linalg.svd(b.T @ a / len(src))
    sgn = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sgn[2, 2] = -1
    r = u @ sgn @ vt
    s = float(np.trace(np.diag(d) @ sgn) / a.var(0).sum())
    return s, r, mu_d - s * r @ mu_s


def apply_transform(posed: PosedImages, T: np.ndarray) -> PosedImages:
    s = float(np.cbrt(np.linalg.det(T[:3, :3])))
    c2w = T @ posed.c2w
    c2w[:, :3, :3] /= s  # rotations stay orthonormal; the similarity's scale moves only the positions
    pts = posed.points @ T[:3, :3].T + T[:3, 3] if len(posed.points) else posed.points
    return PosedImages(posed.names, c2w, posed.intrinsics, pts, posed.colors, posed.point_errors,
                       posed.reprojection_error, posed.observations)


# ---------------------------------------------------------------------------------------------------------------
# Writing the dataset
# ---------------------------------------------------------------------------------------------------------------


def write_ply(path: Path, points: np.ndarray, colors: np.ndarray) -> None:
    """Binary little-endian PLY of coloured points (what nerfstudio's ``sparse_pc.ply`` holds)."""
    n = len(points)
    header = (f"ply\nformat binary_little_endian 1.0\nelement vertex {n}\nproperty float x\nproperty float y\n"
              "property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")
    rec = np.zeros(n, dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("r", "u1"), ("g", "u1"), ("b", "u1")])
    if n:
        rec["x"], rec["y"], rec["z"] = points[:, 0], points[:, 1], points[:, 2]
        rec["r"], rec["g"], rec["b"] = colors[:, 0], colors[:, 1], colors[:, 2]
    atomic_write_bytes(path, header.encode() + rec.tobytes())


def read_ply_points(path: Path) -> np.ndarray:
    """(P, 3) float positions of a PLY point cloud (any layout trimesh reads)."""
    try:
        pc = trimesh.load(path, process=False)
    except Exception as e:
        raise InputError(f"cannot read the point cloud: {e}", file=path, field="ply_file_path") from None
    return np.asarray(getattr(pc, "vertices", np.zeros((0, 3))), dtype=np.float64)


def write_sparse_depth(path: Path, posed: PosedImages, image_prefix: str = "images") -> None:
    """The depth prior of structure from motion: for every image, the pixels where it observed a sparse point
    and that point's z-depth (world units along the camera's -Z axis), with the point's reprojection error.

    npz arrays: ``file_paths`` (N,) str, ``offsets`` (N + 1,) int64 into ``uvz`` (M, 3) float32 (u, v pixel
    coordinates with pixel centres at +0.5, z-depth) and ``error`` (M,) float32 (pixels).
    """
    rows, errs, offsets = [], [], [0]
    for c2w, ob in zip(posed.c2w, posed.observations or []):
        if len(ob):
            x = posed.points[ob[:, 2].astype(np.int64)]
            z = (x - c2w[:3, 3]) @ -c2w[:3, 2]
            ok = z > 0
            rows.append(np.concatenate([ob[ok, :2], z[ok, None]], 1))
            errs.append(posed.point_errors[ob[ok, 2].astype(np.int64)])
        else:
            rows.append(np.zeros((0, 3)))
            errs.append(np.zeros(0))
        offsets.append(offsets[-1] + len(rows[-1]))
    buf = io.BytesIO()
    np.savez_compressed(buf, file_paths=np.array([f"{image_prefix}/{n}" for n in posed.names]),
                        offsets=np.asarray(offsets, np.int64),
                        uvz=np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, 3), np.float32),
                        error=np.concatenate(errs).astype(np.float32) if errs else np.zeros(0, np.float32))
    atomic_write_bytes(path, buf.getvalue())


def write_transforms(out: Path, posed: PosedImages, image_prefix: str = "images", applied: np.ndarray | None = None,
                     extra: dict | None = None, ply_name: str | None = "sparse_pc.ply") -> Path:
    """nerfstudio ``transforms.json`` (shared intrinsics at the top when all images share one camera)."""
    shared = all(d == posed.intrinsics[0] for d in posed.intrinsics)
    meta: dict = {}
    if shared:
        meta.update(posed.intrinsics[0])
    frames = []
    for name, c2w, intr in zip(posed.names, posed.c2w, posed.intrinsics):
        fr = {"file_path": f"{image_prefix}/{name}", "transform_matrix": np.round(c2w, 10).tolist()}
        if not shared:
            fr.update(intr)
        frames.append(fr)
    meta["frames"] = frames
    if applied is not None:
        meta["applied_transform"] = np.round(applied[:3, :4], 10).tolist()
    if ply_name is not None and len(posed.points):
        write_ply(out / ply_name, posed.points, posed.colors)
        meta["ply_file_path"] = ply_name
    if posed.observations is not None and len(posed.points):
        write_sparse_depth(out / "sparse_depth.npz", posed, image_prefix)
        meta["sparse_depth_file"] = "sparse_depth.npz"
    if extra:
        meta.update(extra)
    return atomic_write_text(out / "transforms.json", json.dumps(meta, indent=2))
