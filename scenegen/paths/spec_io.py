"""A :class:`~scenegen.paths.model.PathSpec` as a nerfstudio viewer ``camera_path.json`` (keyframes + the
rendered ``camera_path``), and any supported camera-path file read into one.

nerfstudio file layouts read by :func:`spec_from_nerfstudio` (both written by the viewer's render panel):

* **v1** (nerfstudio >= 0.3, viser): ``keyframes[i].matrix`` is a list of 16 numbers, a ROW-major 4x4
  camera-to-world; ``fov`` (degrees), ``aspect``, ``override_transition_enabled``, ``override_transition_sec``;
  top level ``default_fov``, ``default_transition_sec``, ``smoothness_value``, ``is_cycle``, ``fps``, ``seconds``,
  ``render_width``/``render_height``, ``camera_type``, ``camera_path`` (the rendered frames). nerfstudio's
  ``override_transition_sec`` of keyframe ``i`` is the time of the transition INTO keyframe ``i`` (from
  ``i - 1``; keyframe 0's closes a loop: ``CameraPath.compute_transition_times_cumsum``), so it is stored here as
  ``keyframes[i - 1].transition``. ``smoothness_value`` is what the viewer uses as Kochanek-Bartels tension
  (its slider is labelled "Spline tension"): :attr:`PathSpec.smoothness` is that value unchanged.
* **older** (nerfstudio < 0.3, three.js): ``keyframes[i].matrix`` is a JSON *string* of three.js
  ``Matrix4.elements``, i.e. a COLUMN-major 4x4 (the translation is elements 12..14; the same file's
  ``camera_path`` stores the transposes, row-major); ``fov``, ``aspect`` and ``properties``, a JSON string of
  ``[["FOV", deg], ["NAME", str], ["TIME", 0..1]]``. That viewer spread the keyframes evenly over ``seconds``
  (``THREE.CatmullRomCurve3.getPoints(fps * seconds)``: uniform in the curve parameter, ignoring ``TIME``, which
  only drove its preview slider), so every transition is ``seconds / (K - 1)`` (``seconds / K`` for a loop).
  Its ``smoothness_value`` was the three.js Catmull-Rom tension ``tau`` (tangent ``tau * (p[i+1] - p[i-1])``);
  the Kochanek-Bartels tension with the same tangents is ``1 - 2 tau``, clipped to [0, 1].
* **frames only** (no ``keyframes``): one keyframe per rendered camera, transitions ``1 / fps``; an open path
  holds its last camera for ``1 / fps`` so that every camera is a rendered frame.

:func:`spec_to_nerfstudio` writes the v1 layout, the rendered ``camera_path`` and every top-level key nerfstudio
writes, so the file loads in nerfstudio's viewer and renders with ``ns-render``; what nerfstudio has no notion of
is written under ``scenegen_*`` keys only when used (``scenegen_constant_speed``, ``scenegen_ease``, keyframe
``scenegen_hold`` and ``scenegen_name``).

Supported by :func:`read_any_path`: nerfstudio viewer exports in both keyframe layouts, files with only a
rendered ``camera_path`` list (each camera becomes a keyframe, one frame apart), and scenegen's own output
(nerfstudio's v1 layout plus ``scenegen_*`` keys). A path authored in nerfstudio's dataparser frame is mapped
into the dataset's world with ``dataparser_transforms.json`` (and the dataset's ``transforms.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import numpy as np

from scenegen.core.errors import InputError
from scenegen.core.io import atomic_write_text
from scenegen.core.validate import (
    boolean,
    describe,
    matrix,
    non_negative,
    number,
    positive,
    positive_int,
    read_json,
    unit_interval,
)
from scenegen.paths.camera_path import (
    BOTTOM_ROW_TOL,
    CameraPath,
    camera_path_from_dict,
    check_fov,
    load_dataparser_transforms,
    nearest_rotation,
    parse_crop,
)
from scenegen.paths.interpolate import sample_path
from scenegen.paths.model import PATH_CAMERA_TYPES, Keyframe, PathSpec, quat_from_matrix

__all__ = [
    "cameras_from_spec",
    "load_path_spec",
    "read_any_path",
    "save_path_spec",
    "spec_from_nerfstudio",
    "spec_to_nerfstudio",
]

# top-level keys this module reads; every other key goes to PathSpec.extra verbatim
_KNOWN_TOP = {
    "default_fov",
    "default_transition_sec",
    "keyframes",
    "camera_type",
    "render_height",
    "render_width",
    "fps",
    "seconds",
    "is_cycle",
    "smoothness_value",
    "camera_path",
    "scenegen_constant_speed",
    "scenegen_ease",
}
_KNOWN_KF_V1 = {
    "matrix",
    "fov",
    "aspect",
    "override_transition_enabled",
    "override_transition_sec",
    "scenegen_hold",
    "scenegen_name",
}
_KNOWN_KF_OLD = {"matrix", "fov", "aspect", "properties"}


# ----------------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------------


def _c2w(value: Any, file: Any, fld: str, column_major: bool) -> np.ndarray:
    """(4, 4) row-major camera-to-world with a proper rotation block, from a keyframe's ``matrix``."""
    m = matrix(value, (4,), file, fld)
    if column_major:
        m = m.T
    if np.abs(m[3] - [0, 0, 0, 1]).max() > BOTTOM_ROW_TOL:
        other = "row" if column_major else "column"
        raise InputError(
            f"last row must be [0, 0, 0, 1], got {m[3].tolist()} (is the matrix {other}-major?)", file, fld
        )
    r, _ = nearest_rotation(m[:3, :3], file, fld)
    m[:3, :3] = r
    return m


# ----------------------------------------------------------------------------------------------------------
# nerfstudio dict <-> PathSpec
# ----------------------------------------------------------------------------------------------------------


def _old_properties(kf: dict, file: Any, base: str) -> dict:
    """The older layout's ``properties`` (a JSON string of [key, value] pairs) as a dict."""
    props = kf.get("properties")
    if props is None:
        return {}
    fld = f"{base}.properties"
    if isinstance(props, str):
        try:
            props = json.loads(props)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON: {e.msg}", file=file, field=fld) from None
    if isinstance(props, dict):
        return props
    if not isinstance(props, list) or not all(isinstance(p, list) and len(p) == 2 for p in props):
        raise InputError(f"must be a list of [key, value] pairs, got {describe(props)}", file=file, field=fld)
    return {str(k): v for k, v in props}


def _frames_only_spec(d: dict, file: Any, common: dict) -> PathSpec:
    """One keyframe per rendered camera (a file with ``camera_path`` but no keyframes)."""
    frames = d.get("camera_path")
    if not isinstance(frames, list):
        raise InputError(f"must be a list of cameras, got {describe(frames)}", file=file, field="camera_path")
    if not frames:
        raise InputError("is empty, and there are no keyframes: nothing to render", file=file, field="camera_path")
    fps = common["fps"]
    if fps is None:
        seconds = positive(d["seconds"], file, "seconds") if "seconds" in d else None
        fps = len(frames) / seconds if seconds else 30.0
    aspect = common["width"] / common["height"]
    kfs = []
    for i, cam in enumerate(frames):
        base = f"camera_path[{i}]"
        if not isinstance(cam, dict):
            raise InputError(f"must be an object, got {describe(cam)}", file=file, field=base)
        if "camera_to_world" not in cam:
            raise InputError("missing (16 numbers, a row-major 4x4 matrix)", file, f"{base}.camera_to_world")
        m = _c2w(cam["camera_to_world"], file, f"{base}.camera_to_world", column_major=False)
        fov = check_fov(cam["fov"], file, f"{base}.fov") if "fov" in cam else common["default_fov"]
        a = positive(cam["aspect"], file, f"{base}.aspect") if "aspect" in cam else aspect
        extra = {k: v for k, v in cam.items() if k not in ("camera_to_world", "fov", "aspect")}
        kfs.append(Keyframe(m[:3, 3], quat_from_matrix(m[:3, :3]), fov, a, extra=extra))
    if not common["loop"]:
        kfs[-1].hold = 1.0 / fps  # so that the last camera is a rendered frame too
    spec = PathSpec(
        keyframes=kfs,
        width=common["width"],
        height=common["height"],
        fps=fps,
        camera_type=common["camera_type"],
        smoothness=common["smoothness"],
        loop=common["loop"],
        default_fov=common["default_fov"],
        default_transition=1.0 / fps,
        constant_speed=common["constant_speed"],
        ease=common["ease"],
        extra=common["extra"],
    )
    spec.validate(file)
    return spec


def spec_from_nerfstudio(d: Any, file: str | Path | None = None, *, allow_empty: bool = False) -> PathSpec:
    """Read a parsed nerfstudio ``camera_path.json`` object (v1 or older keyframe layout, or frames only).

    See the module docstring for the layouts and how they map onto :class:`PathSpec`.

    Args:
        d: the JSON object.
        file: the file it came from (error messages only).
        allow_empty: accept ``"keyframes": []`` (with no or an empty ``camera_path``): a draft path with
            settings but no keyframes yet, as :func:`save_path_spec` writes one.
    Raises:
        InputError: naming ``file`` and the field at fault (``keyframes[3].matrix``, ``fps``...).
    """
    src = file if file is not None else "<camera path>"
    if not isinstance(d, dict):
        raise InputError(f"must be a JSON object (a nerfstudio camera path), got {type(d).__name__}", src)

    ctype = d.get("camera_type", "perspective")
    if not isinstance(ctype, str):
        raise InputError(f"must be a string, got {describe(ctype)}", file=src, field="camera_type")
    if ctype.lower() not in PATH_CAMERA_TYPES:
        raise InputError(
            f"unknown camera type {ctype!r} (expected one of: {', '.join(PATH_CAMERA_TYPES)})",
            file=src,
            field="camera_type",
        )
    width = positive_int(d["render_width"], src, "render_width") if "render_width" in d else 1920
    height = positive_int(d["render_height"], src, "render_height") if "render_height" in d else 1080
    fps = positive(d["fps"], src, "fps") if "fps" in d else None
    loop = boolean(d["is_cycle"], src, "is_cycle") if "is_cycle" in d else False
    smooth = unit_interval(d["smoothness_value"], src, "smoothness_value") if "smoothness_value" in d else 0.5
    default_fov = check_fov(d["default_fov"], src, "default_fov") if "default_fov" in d else None
    default_tr = (
        positive(d["default_transition_sec"], src, "default_transition_sec")
        if d.get("default_transition_sec") is not None
        else None
    )
    if d.get("seconds") is not None:
        non_negative(d["seconds"], src, "seconds")
    constant_speed = boolean(d.get("scenegen_constant_speed", False), src, "scenegen_constant_speed")
    ease = boolean(d.get("scenegen_ease", False), src, "scenegen_ease")
    parse_crop(d.get("crop"), src)  # validated here, kept verbatim in extra
    extra = {k: v for k, v in d.items() if k not in _KNOWN_TOP}
    common = dict(
        camera_type=ctype.lower(),
        width=width,
        height=height,
        fps=fps,
        loop=loop,
        smoothness=smooth,
        default_fov=50.0 if default_fov is None else default_fov,
        constant_speed=constant_speed,
        ease=ease,
        extra=extra,
    )

    raw_kfs = d.get("keyframes")
    if raw_kfs is None or (isinstance(raw_kfs, list) and not raw_kfs and d.get("camera_path")):
        if "camera_path" not in d:
            raise InputError("missing: a path needs keyframes (or a camera_path)", file=src, field="keyframes")
        return _frames_only_spec(d, src, common)
    if not isinstance(raw_kfs, list):
        raise InputError(f"must be a list of keyframes, got {describe(raw_kfs)}", file=src, field="keyframes")
    if not raw_kfs:
        if allow_empty:
            spec = PathSpec(
                keyframes=[],
                width=width,
                height=height,
                fps=30.0 if fps is None else fps,
                camera_type=common["camera_type"],
                smoothness=smooth,
                loop=loop,
                default_fov=common["default_fov"],
                default_transition=2.0 if default_tr is None else default_tr,
                constant_speed=constant_speed,
                ease=ease,
                extra=extra,
            )
            spec.validate(src, allow_empty=True)
            return spec
        raise InputError("is empty: a path needs at least one keyframe", file=src, field="keyframes")
    for i, kf in enumerate(raw_kfs):
        if not isinstance(kf, dict):
            raise InputError(f"must be an object, got {describe(kf)}", file=src, field=f"keyframes[{i}]")
        if "matrix" not in kf:
            raise InputError("missing (a 4x4 camera-to-world matrix)", file=src, field=f"keyframes[{i}].matrix")
    old = isinstance(raw_kfs[0]["matrix"], str)
    fps = 30.0 if fps is None else fps
    n = len(raw_kfs)

    kfs: list[Keyframe] = []
    override: list[Optional[float]] = []
    for i, kf in enumerate(raw_kfs):
        base = f"keyframes[{i}]"
        mfld = f"{base}.matrix"
        mval = kf["matrix"]
        column_major = isinstance(mval, str)
        if column_major:
            try:
                mval = json.loads(mval)
            except json.JSONDecodeError as e:
                raise InputError(f"not a valid JSON string of 16 numbers: {e.msg}", file=src, field=mfld) from None
        m = _c2w(mval, src, mfld, column_major=column_major)
        props = _old_properties(kf, src, base) if old else {}
        if "fov" in kf:
            fov = check_fov(kf["fov"], src, f"{base}.fov")
        elif "FOV" in props:
            fov = check_fov(props["FOV"], src, f"{base}.properties.FOV")
        else:
            fov = common["default_fov"]
        aspect = positive(kf["aspect"], src, f"{base}.aspect") if "aspect" in kf else width / height
        name = props.get("NAME") if old else kf.get("scenegen_name")
        if name is not None and not isinstance(name, str):
            raise InputError(f"must be a string, got {describe(name)}", file=src, field=f"{base}.scenegen_name")
        hold = non_negative(kf.get("scenegen_hold", 0.0), src, f"{base}.scenegen_hold")
        tr: Optional[float] = None
        if not old:
            enabled = kf.get("override_transition_enabled")
            if enabled is not None:
                boolean(enabled, src, f"{base}.override_transition_enabled")
            sec = kf.get("override_transition_sec")
            if sec is not None:
                sec = positive(sec, src, f"{base}.override_transition_sec")
            if enabled and sec is not None:
                tr = sec
        override.append(tr)
        known = _KNOWN_KF_OLD if old else _KNOWN_KF_V1
        kf_extra = {k: v for k, v in kf.items() if k not in known}
        kfs.append(Keyframe(m[:3, 3], quat_from_matrix(m[:3, :3]), fov, aspect, None, hold, name, kf_extra))
    # nerfstudio's override of keyframe i times the transition INTO i: ours is keyframe i-1's "to the next".
    for i in range(n):
        kfs[i - 1].transition = override[i]

    if old:
        segments = n if loop else n - 1
        seconds = number(d["seconds"], src, "seconds") if d.get("seconds") is not None else None
        default_tr = seconds / segments if (seconds and segments) else 2.0
        smooth = float(np.clip(1.0 - 2.0 * smooth, 0.0, 1.0))
        if default_fov is None:
            common["default_fov"] = kfs[0].fov
    spec = PathSpec(
        keyframes=kfs,
        width=width,
        height=height,
        fps=fps,
        camera_type=common["camera_type"],
        smoothness=smooth,
        loop=loop,
        default_fov=common["default_fov"],
        default_transition=2.0 if default_tr is None else default_tr,
        constant_speed=constant_speed,
        ease=ease,
        extra=extra,
    )
    spec.validate(src)
    return spec


def _num(x: float) -> Any:
    """A float as JSON: integral values stay floats (nerfstudio writes floats)."""
    return float(x)


def spec_to_nerfstudio(spec: PathSpec) -> dict:
    """The nerfstudio v1 ``camera_path.json`` object of a path, with its rendered ``camera_path``.

    Keys, in nerfstudio's order: ``default_fov``, ``default_transition_sec``, ``keyframes`` (``matrix``: 16
    numbers, row-major camera-to-world; ``fov``; ``aspect``; ``override_transition_enabled``;
    ``override_transition_sec``; plus ``scenegen_hold`` / ``scenegen_name`` when set and the keyframe's
    ``extra``), ``camera_type``, ``render_height``, ``render_width``, ``fps``, ``seconds`` (= ``duration``),
    ``is_cycle``, ``smoothness_value``, ``camera_path`` (``num_frames`` entries: ``camera_to_world`` 16
    numbers row-major, ``fov``, ``aspect``), then ``spec.extra`` (e.g. ``crop``) and ``scenegen_constant_speed``
    / ``scenegen_ease`` when true.

    A spec without keyframes (a draft) is written with empty ``keyframes`` and ``camera_path``.

    Raises:
        InputError: a value of the spec is out of range (field named as in the file).
    """
    spec.validate(allow_empty=True)
    kfs = spec.keyframes
    n = len(kfs)
    out_kfs = []
    for i, k in enumerate(kfs):
        incoming = kfs[i - 1].transition  # nerfstudio: keyframe i's override times the transition into i
        e: dict = {
            "matrix": [float(x) for x in k.c2w().reshape(-1)],
            "fov": _num(k.fov),
            "aspect": _num(k.aspect),
            "override_transition_enabled": incoming is not None,
            "override_transition_sec": None if incoming is None else _num(incoming),
        }
        if k.hold > 0:
            e["scenegen_hold"] = _num(k.hold)
        if k.name is not None:
            e["scenegen_name"] = k.name
        for key, v in k.extra.items():
            e.setdefault(key, v)
        out_kfs.append(e)
    if kfs:
        c2w, fov, _ = sample_path(spec)
    else:
        c2w, fov = np.zeros((0, 4, 4)), np.zeros(0)
    aspect = spec.width / spec.height
    frames = [
        {"camera_to_world": [float(x) for x in c2w[j].reshape(-1)], "fov": float(fov[j]), "aspect": aspect}
        for j in range(len(c2w))
    ]
    out: dict = {
        "default_fov": _num(spec.default_fov),
        "default_transition_sec": _num(spec.default_transition),
        "keyframes": out_kfs,
        "camera_type": spec.camera_type,
        "render_height": int(spec.height),
        "render_width": int(spec.width),
        "fps": _num(spec.fps),
        "seconds": spec.duration,
        "is_cycle": bool(spec.loop),
        "smoothness_value": _num(spec.smoothness),
        "camera_path": frames,
    }
    for key, v in spec.extra.items():
        out.setdefault(key, v)
    if spec.constant_speed:
        out["scenegen_constant_speed"] = True
    if spec.ease:
        out["scenegen_ease"] = True
    return out


def load_path_spec(path: str | Path, allow_empty: bool = False) -> PathSpec:
    """Read a camera path file into a :class:`PathSpec` (see :func:`spec_from_nerfstudio`).

    Args:
        allow_empty: accept a draft file with ``"keyframes": []``.
    Raises:
        InputError: the file is missing, not JSON, or malformed (message names the file and field).
    """
    file = Path(path)
    data = read_json(file, "camera path")
    return spec_from_nerfstudio(data, file=file, allow_empty=allow_empty)


def save_path_spec(spec: PathSpec, path: str | Path) -> Path:
    """Write ``spec`` as a nerfstudio v1 camera_path.json (:func:`spec_to_nerfstudio`), atomically: a temp file
    in the same folder, then ``os.replace``.

    Returns:
        The file written.
    """
    out = Path(path)
    text = json.dumps(spec_to_nerfstudio(spec), allow_nan=False)
    atomic_write_text(out, text + "\n", "camera path")
    return out


def cameras_from_spec(spec: PathSpec) -> CameraPath:
    """The :class:`~scenegen.paths.CameraPath` the renderer uses, through the same reader as files
    (``spec_to_nerfstudio`` then ``camera_path_from_dict``); its ``raw`` is the v1 dict.

    Raises:
        InputError: e.g. a stereo ``camera_type`` (not rendered yet).
    """
    return camera_path_from_dict(spec_to_nerfstudio(spec))


def read_any_path(file: str | Path, dataparser_transforms: str | Path | None = None,
                  dataset_transforms: str | Path | None = None) -> PathSpec:
    """Load any supported path file as a PathSpec (world units of the dataset); InputError naming file and field
    on bad input.

    Args:
        dataparser_transforms: nerfstudio's ``dataparser_transforms.json``: map a path authored in nerfstudio's
            dataparser frame into the dataset's world.
        dataset_transforms: the dataset's ``transforms.json`` (only with ``dataparser_transforms``).
    """
    file = Path(file)
    spec = load_path_spec(file, allow_empty=True)
    if dataparser_transforms is not None:
        t = load_dataparser_transforms(dataparser_transforms, dataset_transforms)
        m = t.world_from_path()
        s = float(np.cbrt(np.linalg.det(m[:3, :3])))
        r = m[:3, :3] / s
        for kf in spec.keyframes:
            c2w = kf.c2w()
            new = np.eye(4)
            new[:3, :3] = r @ c2w[:3, :3]
            new[:3, 3] = m[:3, :3] @ c2w[:3, 3] + m[:3, 3]
            kf.set_c2w(new)
    elif dataset_transforms is not None:
        raise InputError("needs --dataparser-transforms", field="--dataset-transforms")
    return spec
