"""A small IFC house built with ifcopenshell's API for the import tests: two storeys of 8 x 6 m, each split by a
wall with a door into two named spaces, windows in the outer walls, coloured walls, slabs and a roof."""

from __future__ import annotations

import numpy as np

STOREYS = [("Ground Floor", 0.0, ("Kitchen", "Living Room")), ("First Floor", 3.0, ("Bedroom 1", "Bedroom 2"))]
WALL_RGB = (0.85, 0.35, 0.25)
SLAB_RGB = (0.55, 0.45, 0.30)


def _matrix(x=0.0, y=0.0, z=0.0, rot_deg=0.0):
    m = np.eye(4)
    c, s = np.cos(np.radians(rot_deg)), np.sin(np.radians(rot_deg))
    m[:2, :2] = [[c, -s], [s, c]]
    m[:3, 3] = (x, y, z)
    return m


def build_house(path) -> None:
    import ifcopenshell
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.feature
    import ifcopenshell.api.geometry
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.style
    import ifcopenshell.api.unit

    f = ifcopenshell.file(schema="IFC4")
    proj = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="House")
    ifcopenshell.api.unit.assign_unit(f)  # millimetres, as Revit/ArchiCAD exports usually are
    model = ifcopenshell.api.context.add_context(f, context_type="Model")
    body = ifcopenshell.api.context.add_context(f, context_type="Model", context_identifier="Body",
                                                target_view="MODEL_VIEW", parent=model)
    site = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSite", name="Site")
    bldg = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuilding", name="House")
    ifcopenshell.api.aggregate.assign_object(f, products=[site], relating_object=proj)
    ifcopenshell.api.aggregate.assign_object(f, products=[bldg], relating_object=site)

    def style(name, rgb, transparency=0.0):
        st = ifcopenshell.api.style.add_style(f, name=name)
        ifcopenshell.api.style.add_surface_style(f, style=st, ifc_class="IfcSurfaceStyleShading", attributes={
            "SurfaceColour": {"Name": None, "Red": rgb[0], "Green": rgb[1], "Blue": rgb[2]},
            "Transparency": transparency})
        return st

    wall_st, slab_st = style("Plaster", WALL_RGB), style("Oak", SLAB_RGB)
    glass_st, door_st = style("Glass", (0.6, 0.8, 0.9), 0.8), style("Door", (0.35, 0.2, 0.1))

    def place(el, m):
        ifcopenshell.api.geometry.edit_object_placement(f, product=el, matrix=m, is_si=True)

    def box_element(cls, name, storey, m, length, thickness, height, st):
        el = ifcopenshell.api.root.create_entity(f, ifc_class=cls, name=name)
        rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=length, height=height,
                                                                thickness=thickness)
        ifcopenshell.api.geometry.assign_representation(f, product=el, representation=rep)
        if st is not None:
            ifcopenshell.api.style.assign_representation_styles(f, shape_representation=rep, styles=[st])
        place(el, m)
        if storey is not None:
            ifcopenshell.api.spatial.assign_container(f, products=[el], relating_structure=storey)
        return el

    def opening(wall, m, width, height, depth, filler_cls, st):
        op = ifcopenshell.api.root.create_entity(f, ifc_class="IfcOpeningElement")
        rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=width, height=height,
                                                                thickness=depth)
        ifcopenshell.api.geometry.assign_representation(f, product=op, representation=rep)
        place(op, m)
        ifcopenshell.api.feature.add_feature(f, feature=op, element=wall)
        return op

    L, W, T, H = 8.0, 6.0, 0.2, 3.0
    for si, (sname, z, rooms) in enumerate(STOREYS):
        st = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name=sname)
        st.Elevation = z * 1000.0
        place(st, _matrix(z=z))
        ifcopenshell.api.aggregate.assign_object(f, products=[st], relating_object=bldg)
        box_element("IfcSlab", f"Floor {si}", st, _matrix(0, 0, z - 0.2), L, W, 0.2, slab_st)
        walls = [(_matrix(0, -T, z), L, "South"), (_matrix(0, W, z), L, "North"),
                 (_matrix(T, 0, z, 90), W, "West"), (_matrix(L, 0, z, 90), W, "East")]
        for m, length, wname in walls:
            w = box_element("IfcWall", f"{wname} wall {si}", st, m, length, T, H - 0.2, wall_st)
            if wname in ("South", "North"):  # a window in each half of the long walls
                for x in (1.5, 5.5):
                    mm = m @ _matrix(x - 0.6, -0.05, 0.9)
                    opening(w, mm, 1.2, 1.2, T + 0.1, "IfcWindow", glass_st)
                    box_element("IfcWindow", f"Window {wname} {x}", st, m @ _matrix(x - 0.6, 0.08, 0.9), 1.2, 0.04,
                                1.2, glass_st)
        # the dividing wall at x = 4 with a door
        div = box_element("IfcWall", f"Partition {si}", st, _matrix(4.1, 0, z, 90), W, 0.1, H - 0.2, wall_st)
        opening(div, _matrix(4.15, 2.5, z, 90), 0.9, 2.1, 0.3, "IfcDoor", door_st)
        box_element("IfcDoor", f"Door {si}", st, _matrix(4.1, 3.4, z), 0.9, 0.05, 2.1, door_st)  # open leaf
        box_element("IfcFurnishingElement", f"Table {si}", st, _matrix(1.5, 2.5, z), 1.2, 0.8, 0.75, door_st)
        for ri, rname in enumerate(rooms):
            sp = ifcopenshell.api.root.create_entity(f, ifc_class="IfcSpace", name=f"{si}.{ri + 1:02d}")
            sp.LongName = rname
            x0, x1 = (0.0, 4.0) if ri == 0 else (4.1, L)
            rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=x1 - x0, height=H - 0.2,
                                                                    thickness=W)
            ifcopenshell.api.geometry.assign_representation(f, product=sp, representation=rep)
            place(sp, _matrix(x0, 0, z))
            ifcopenshell.api.aggregate.assign_object(f, products=[sp], relating_object=st)
    roof = ifcopenshell.api.root.create_entity(f, ifc_class="IfcRoof", name="Roof")
    rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=L + 0.6, height=0.25,
                                                            thickness=W + 0.6)
    ifcopenshell.api.geometry.assign_representation(f, product=roof, representation=rep)
    ifcopenshell.api.style.assign_representation_styles(f, shape_representation=rep, styles=[slab_st])
    place(roof, _matrix(-0.3, -0.3, 2 * H - 0.2))
    ifcopenshell.api.spatial.assign_container(f, products=[roof], relating_structure=st)
    f.write(str(path))
