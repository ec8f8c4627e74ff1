"""Names of service points and material types for pages, read through the public role and cached briefly.

The engine speaks in codes (branch `central`, material type `book`); pages show names. The cache lives in the
process's app state and is re-read after DIRECTORY_SECONDS, so a branch added by the CLI shows within seconds.
"""

from __future__ import annotations

import time

import msgspec
from litestar.datastructures import State

from shoka.web.i18n import Language

DIRECTORY_SECONDS = 10.0


class Place(msgspec.Struct, frozen=True):
    code: str
    name_ja: str
    name_en: str
    kind: str
    is_pickup_point: bool
    is_active: bool

    def name(self, language: Language) -> str:
        return self.name_en if language == "en" else self.name_ja


class Directory(msgspec.Struct, frozen=True):
    places: dict[str, Place]
    material_types: dict[str, tuple[str, str]]
    loaded_at: float

    def place_name(self, code: str, language: Language) -> str:
        place = self.places.get(code)
        return place.name(language) if place else code

    def material_type_name(self, code: str, language: Language) -> str:
        names = self.material_types.get(code)
        if names is None:
            return code
        return names[1] if language == "en" else names[0]

    def active_places(self) -> list[Place]:
        return [place for place in self.places.values() if place.is_active]

    def pickup_points(self) -> list[Place]:
        return [place for place in self.places.values() if place.is_active and place.is_pickup_point]


async def library_directory(state: State) -> Directory:
    cached: Directory | None = state.get("opac_directory")
    if cached is not None and time.monotonic() - cached.loaded_at < DIRECTORY_SECONDS:
        return cached
    async with state.pools.public.connection() as connection:
        place_rows = await (await connection.execute(
            """SELECT code, name_ja, name_en, kind, is_pickup_point, is_active FROM service_point
               ORDER BY sort_order, id""")).fetchall()
        type_rows = await (await connection.execute(
            "SELECT code, name_ja, name_en FROM material_type ORDER BY sort_order, code")).fetchall()
    directory = Directory(places={row[0]: Place(*row) for row in place_rows},
                          material_types={row[0]: (row[1], row[2]) for row in type_rows},
                          loaded_at=time.monotonic())
    state["opac_directory"] = directory
    return directory
