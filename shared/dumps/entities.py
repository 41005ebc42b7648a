"""The four dump entities and the byte patterns that delimit their top-level records."""

from __future__ import annotations

from dataclasses import dataclass

ENTITIES: tuple[str, ...] = ("artists", "labels", "masters", "releases")


@dataclass(frozen=True)
class EntityTags:
    """Names and byte markers of one entity's dump file."""

    entity: str
    root: bytes  # b"releases"
    record: bytes  # b"release"

    @property
    def root_open(self) -> bytes:
        return b"<" + self.root + b">"

    @property
    def root_close(self) -> bytes:
        return b"</" + self.root + b">"

    @property
    def record_close(self) -> bytes:
        return b"</" + self.record + b">"

    @property
    def nests(self) -> bool:
        """Whether the record tag also occurs nested inside records of this file (only labels:
        `<sublabels><label>`). Other files never nest their record tag, so their record starts
        need no line-start check (re-serialised samples join some records on one line)."""
        return self.entity == "labels"

    @property
    def record_starts(self) -> tuple[bytes, ...]:
        """How a top-level record begins. Artist and label records never carry attributes, which
        tells a top-level `<label>` apart from a nested `<sublabels><label id="…">`."""
        if self.entity in ("artists", "labels"):
            return (b"<" + self.record + b">",)
        return (b"<" + self.record + b" ", b"<" + self.record + b">")


TAGS: dict[str, EntityTags] = {
    entity: EntityTags(entity, entity.encode(), entity[:-1].encode()) for entity in ENTITIES
}


def entity_tags(entity: str) -> EntityTags:
    try:
        return TAGS[entity]
    except KeyError:
        expected = ", ".join(ENTITIES)
        raise ValueError(f"unknown entity {entity!r}; expected one of {expected}") from None
