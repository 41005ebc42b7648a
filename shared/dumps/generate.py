"""Seeded synthetic dumps in the current (2026) format, for benchmarks and scale tests.

2026 format: no `status` on releases, no images, empty elements omitted, `<series>`, unlinked
credits without `<id>`, companies without `resource_url`, headings without position/duration,
`master_id` 0 for no master, members as `<name id>` only. Quirks from the reference appear at
realistic rates: `-00` and odd dates, every duration form, index tracks with sub-tracks, repeated
labels, entities and raw newlines, CR characters, very long titles; XML-invalid control characters
only when asked (real old dumps had them; other parsers cannot read such files).
Average release size is about 2.6 KB, like the real 2026 releases file (58 GB / 19 M).
"""

from __future__ import annotations

import random
from collections.abc import Iterator

_WORDS = [
    "love",
    "night",
    "dance",
    "blue",
    "city",
    "dream",
    "fire",
    "heart",
    "time",
    "light",
    "world",
    "music",
    "soul",
    "rain",
    "star",
    "house",
    "deep",
    "space",
    "echo",
    "gold",
    "river",
    "summer",
    "winter",
    "shadow",
    "electric",
    "moon",
    "sun",
    "wave",
    "acid",
    "machine",
    "garden",
    "street",
    "road",
    "paradise",
    "velvet",
    "silver",
    "midnight",
    "fever",
    "jungle",
    "disco",
    "rhythm",
]
_NAMES = [
    "Anna",
    "Björn",
    "Carl",
    "Dana",
    "Erik",
    "Fatou",
    "Gustavo",
    "Hana",
    "Igor",
    "Jesper",
    "Kemal",
    "Lena",
    "Miguel",
    "Nora",
]
_SURNAMES = [
    "Dahlbäck",
    "Smith",
    "Müller",
    "García",
    "Tanaka",
    "O'Brien",
    "Novák",
    "Rossi",
    "Kim",
    "Dubois",
    "Björk",
]
_GENRES = ["Electronic", "Rock", "Jazz", "Funk / Soul", "Hip Hop", "Pop", "Classical", "Latin"]
_STYLES = ["Techno", "House", "Deep House", "Ambient", "Punk", "Soul", "Bop", "Disco", "Dub"]
_COUNTRIES = ["US", "UK", "Germany", "France", "Japan", "Sweden", "Netherlands", "Brazil"]
_QUALITY = ["Needs Vote", "Correct", "Complete and Correct", "Needs Minor Changes"]
_ROLES = ["Producer", "Written-By", "Mastered By", "Music By [All Tracks By]", "Design [Logo]"]
_JOINS = [",", "&", "Feat.", "vs.", "/", "And"]
_FORMATS = [("Vinyl", ['12"', "33 ⅓ RPM", "LP", "Album"]), ("CD", ["Album"]), ("File", ["MP3"])]
_COMPANY_TYPES = [
    ("13", "Phonographic Copyright (p)"),
    ("21", "Published By"),
    ("17", "Pressed By"),
]
_IDENTIFIERS = ["Barcode", "Matrix / Runout", "Rights Society", "Label Code"]
_DURATIONS = ["{m}:{s:02d}", "{m}:{s:02d}", "{mm}:{s:02d}", "1:{m:02d}:{s:02d}", ""]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attr(text: str) -> str:
    return _escape(text).replace('"', "&quot;")


class _Generator:
    def __init__(self, seed: int, control_chars: bool) -> None:
        self.rng = random.Random(seed)
        self.control_chars = control_chars

    def words(self, low: int, high: int) -> str:
        rng = self.rng
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(low, high))).title()

    def person(self) -> str:
        return f"{self.rng.choice(_NAMES)} {self.rng.choice(_SURNAMES)}"

    def notes(self) -> str:
        """Multi-line text with entities, a numeric CR reference and Discogs markup."""
        rng = self.rng
        lines = [self.words(4, 14) for _ in range(rng.randint(1, 5))]
        text = _escape("\n".join(lines).replace("Love", "Love & Peace"))
        if rng.random() < 0.3:
            text += "&#13;\nRecorded at [l=Studio &amp; Co]"
        if self.control_chars and rng.random() < 0.01:
            text += "\x07\x03"
        return text

    def credit(self, extra: bool, on_track: bool = False) -> str:
        rng = self.rng
        parts = []
        if rng.random() < 0.93:  # 2026: unlinked credits have no <id>
            parts.append(f"<id>{rng.randint(1, 12_000_000)}</id>")
        parts.append(f"<name>{_escape(self.person())}</name>")
        if rng.random() < 0.1:
            parts.append(f"<anv>{_escape(self.person())}</anv>")
        if not extra and rng.random() < 0.3:
            parts.append(f"<join>{_escape(rng.choice(_JOINS))}</join>")
        if extra:
            parts.append(f"<role>{_escape(rng.choice(_ROLES))}</role>")
            if not on_track and rng.random() < 0.2:  # track scope: release credits only
                parts.append("<tracks>A1 to B2</tracks>")
        return "<artist>" + "".join(parts) + "</artist>"

    def released(self) -> str:
        rng = self.rng
        year = rng.randint(1950, 2026)
        kind = rng.random()
        if kind < 0.12:
            return ""
        if kind < 0.6:
            value = str(year)
        elif kind < 0.68:
            value = f"{year}-{rng.randint(1, 12):02d}-00"
        elif kind < 0.7:
            value = rng.choice(["197", "0400-01-01", f"{year}-00-00"])
        else:
            value = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return f"<released>{value}</released>"

    def duration(self) -> str:
        rng = self.rng
        form = rng.choice(_DURATIONS)
        if not form or rng.random() < 0.4:
            return ""
        value = form.format(m=rng.randint(1, 9), mm=rng.randint(10, 99), s=rng.randint(0, 59))
        return f"<duration>{value}</duration>"

    def track(self, position: str) -> str:
        rng = self.rng
        title = self.words(1, 5)
        if rng.random() < 0.0005:
            title = (title + " ") * 400  # longer than the b-tree limit
        parts = [f"<position>{position}</position>", f"<title>{_escape(title)}</title>"]
        parts.append(self.duration())
        if rng.random() < 0.12:
            parts.append("<artists>" + self.credit(False, True) + "</artists>")
        if rng.random() < 0.25:
            credits = "".join(self.credit(True, True) for _ in range(rng.randint(1, 2)))
            parts.append("<extraartists>" + credits + "</extraartists>")
        return "<track>" + "".join(parts) + "</track>"

    def tracklist(self) -> str:
        rng = self.rng
        tracks = []
        count = max(1, int(rng.expovariate(1 / 9)))
        number = 0
        for index in range(count):
            roll = rng.random()
            if roll < 0.02:  # 2026 heading: no position, no duration
                tracks.append(f"<track><title>{_escape(self.words(1, 3))}</title></track>")
                continue
            number += 1
            if roll < 0.04:  # index track with sub-tracks
                subs = "".join(self.track(f"{number}.{sub}") for sub in range(1, 4))
                tracks.append(
                    f"<track><title>{_escape(self.words(2, 4))}</title>"
                    f"<sub_tracks>{subs}</sub_tracks></track>"
                )
                continue
            side = "AB"[index * 2 // count] if count > 1 else "A"
            tracks.append(self.track(f"{side}{number}"))
        return "<tracklist>" + "".join(tracks) + "</tracklist>"

    def release(self, release_id: int) -> str:
        rng = self.rng
        parts = [f'<release id="{release_id}">']
        main = "".join(self.credit(False) for _ in range(rng.choice((1, 1, 1, 2, 3))))
        parts.append(f"<artists>{main}</artists>")
        parts.append(f"<title>{_escape(self.words(1, 6))}</title>")
        label_id = rng.randint(1, 2_000_000)
        label_name = _attr(self.words(1, 3)) + " Records"
        labels = [f'<label name="{label_name}" catno="LBL {rng.randint(1, 999)}" id="{label_id}"/>']
        if rng.random() < 0.1:  # the same label again, with another catno (or none)
            labels.append(f'<label name="{label_name}" id="{label_id}"/>')
        parts.append("<labels>" + "".join(labels) + "</labels>")
        if rng.random() < 0.05:
            parts.append(
                f'<series><series name="{_attr(self.words(1, 3))} Series" '
                f'catno="Vol. {rng.randint(1, 40)}" id="{rng.randint(1, 2_000_000)}"/></series>'
            )
        extras = "".join(self.credit(True) for _ in range(rng.randint(0, 6)))
        if extras:
            parts.append(f"<extraartists>{extras}</extraartists>")
        name, descriptions = rng.choice(_FORMATS)
        chosen = "".join(
            f"<description>{_escape(d)}</description>"
            for d in rng.sample(descriptions, rng.randint(1, len(descriptions)))
        )
        qty = "168" if rng.random() < 0.001 else str(rng.choice((1, 1, 1, 2)))
        text = ' text="Red"' if rng.random() < 0.1 else ""
        parts.append(
            f'<formats><format name="{name}" qty="{qty}"{text}>'
            f"<descriptions>{chosen}</descriptions></format></formats>"
        )
        genres = rng.sample(_GENRES, rng.randint(1, 2))
        parts.append(
            "<genres>" + "".join(f"<genre>{_escape(g)}</genre>" for g in genres) + "</genres>"
        )
        if rng.random() < 0.85:
            styles = rng.sample(_STYLES, rng.randint(1, 3))
            parts.append("<styles>" + "".join(f"<style>{s}</style>" for s in styles) + "</styles>")
        if rng.random() < 0.97:
            parts.append(f"<country>{rng.choice(_COUNTRIES)}</country>")
        parts.append(self.released())
        if rng.random() < 0.6:
            parts.append(f"<notes>{self.notes()}</notes>")
        parts.append(f"<data_quality>{rng.choice(_QUALITY)}</data_quality>")
        if rng.random() < 0.6:
            main_flag = "true" if rng.random() < 0.4 else "false"
            master = rng.randint(1, 3_000_000)
            parts.append(f'<master_id is_main_release="{main_flag}">{master}</master_id>')
        elif rng.random() < 0.5:
            parts.append('<master_id is_main_release="false">0</master_id>')
        parts.append(self.tracklist())
        identifiers = []
        for _ in range(rng.randint(0, 4)):
            description = f' description="Side {rng.choice("AB")}"' if rng.random() < 0.5 else ""
            identifiers.append(
                f'<identifier type="{rng.choice(_IDENTIFIERS)}"{description} '
                f'value="{rng.randint(10**9, 10**12)}"/>'
            )
        if identifiers:
            parts.append("<identifiers>" + "".join(identifiers) + "</identifiers>")
        videos = [self.video() for _ in range(rng.choice((0, 0, 1, 2, 3)))]
        if videos:
            parts.append("<videos>" + "".join(videos) + "</videos>")
        companies = []
        for _ in range(rng.choice((0, 1, 2, 3))):
            entity_type, type_name = rng.choice(_COMPANY_TYPES)
            company_id = f"<id>{rng.randint(1, 2_000_000)}</id>" if rng.random() < 0.98 else ""
            catno = f"<catno>C-{rng.randint(1, 99)}</catno>" if rng.random() < 0.2 else ""
            companies.append(
                f"<company>{company_id}<name>{_escape(self.words(1, 3))} Ltd.</name>{catno}"
                f"<entity_type>{entity_type}</entity_type>"
                f"<entity_type_name>{_escape(type_name)}</entity_type_name></company>"
            )
        if companies:
            parts.append("<companies>" + "".join(companies) + "</companies>")
        parts.append("</release>\n")
        return "".join(parts)

    def video(self) -> str:
        rng = self.rng
        return (
            f'<video src="https://www.youtube.com/watch?v={rng.getrandbits(40):x}" '
            f'duration="{rng.randint(60, 600)}" embed="true">'
            f"<title>{_escape(self.words(2, 6))}</title>"
            f"<description>{_escape(self.words(3, 12))}</description></video>"
        )

    def artist(self, artist_id: int) -> str:
        rng = self.rng
        parts = [f"<artist><id>{artist_id}</id><name>{_escape(self.person())}</name>"]
        if rng.random() < 0.15:
            parts.append(f"<realname>{_escape(self.person())}\r</realname>")
        if rng.random() < 0.3:
            parts.append(f"<profile>{self.notes()}</profile>")
        parts.append(f"<data_quality>{rng.choice(_QUALITY)}</data_quality>")
        if rng.random() < 0.4:
            urls = "".join(
                f"<url>https://example.com/{rng.getrandbits(32):x}</url>"
                for _ in range(rng.randint(1, 3))
            )
            parts.append(f"<urls>{urls}</urls>")
        if rng.random() < 0.5:
            names = "".join(
                f"<name>{_escape(self.person())}</name>" for _ in range(rng.randint(1, 3))
            )
            parts.append(f"<namevariations>{names}</namevariations>")
        if rng.random() < 0.3:
            aliases = "".join(
                f'<name id="{rng.randint(1, 12_000_000)}">{_escape(self.person())}</name>'
                for _ in range(rng.randint(1, 3))
            )
            parts.append(f"<aliases>{aliases}</aliases>")
        if rng.random() < 0.1:  # 2025+: members only as <name id>
            members = "".join(
                f'<name id="{rng.randint(1, 12_000_000)}">{_escape(self.person())}</name>'
                for _ in range(rng.randint(2, 4))
            )
            parts.append(f"<members>{members}</members>")
        elif rng.random() < 0.2:
            groups = f'<name id="{rng.randint(1, 12_000_000)}">{_escape(self.words(1, 3))}</name>'
            parts.append(f"<groups>{groups}</groups>")
        parts.append("</artist>\n")
        return "".join(parts)

    def label(self, label_id: int) -> str:
        rng = self.rng
        parts = [f"<label><id>{label_id}</id><name>{_escape(self.words(1, 3))}</name>"]
        if rng.random() < 0.3:
            parts.append(f"<contactinfo>{self.notes()}</contactinfo>")
        if rng.random() < 0.4:
            parts.append(f"<profile>{self.notes()}</profile>")
        parts.append(f"<data_quality>{rng.choice(_QUALITY)}</data_quality>")
        if rng.random() < 0.08:
            parent = rng.randint(1, 2_000_000)
            if rng.random() < 0.2:  # 2026: an empty element with only @id
                parts.append(f'<parentLabel id="{parent}"/>')
            else:
                parts.append(
                    f'<parentLabel id="{parent}">{_escape(self.words(1, 2))}</parentLabel>'
                )
        urls = "".join(
            f"<url>https://label.example/{rng.getrandbits(32):x}</url>"
            for _ in range(rng.choice((0, 0, 1, 2)))
        )
        parts.append(f"<urls>{urls}</urls>" if urls else "<urls/>")  # 2026 keeps empty <urls/>
        if rng.random() < 0.1:
            subs = "".join(
                f'<label id="{rng.randint(1, 2_000_000)}">{_escape(self.words(1, 3))}</label>'
                for _ in range(rng.randint(1, 4))
            )
            parts.append(f"<sublabels>{subs}</sublabels>")
        parts.append("</label>\n")
        return "".join(parts)

    def master(self, master_id: int) -> str:
        rng = self.rng
        parts = [
            f'<master id="{master_id}"><main_release>{rng.randint(1, 30_000_000)}</main_release>'
        ]
        artists = "".join(
            f"<artist><id>{rng.randint(1, 12_000_000)}</id><name>{_escape(self.person())}</name>"
            + (f"<join>{_escape(rng.choice(_JOINS))}</join>" if rng.random() < 0.2 else "")
            + "</artist>"
            for _ in range(rng.choice((1, 1, 2)))
        )
        parts.append(f"<artists>{artists}</artists>")
        genres = "".join(f"<genre>{_escape(g)}</genre>" for g in rng.sample(_GENRES, 1))
        parts.append(f"<genres>{genres}</genres>")
        if rng.random() < 0.8:
            parts.append(f"<styles><style>{rng.choice(_STYLES)}</style></styles>")
        parts.append(f"<year>{rng.choice((0, rng.randint(1950, 2026)))}</year>")
        parts.append(f"<title>{_escape(self.words(1, 5))}</title>")
        parts.append(f"<data_quality>{rng.choice(_QUALITY)}</data_quality>")
        if rng.random() < 0.05:
            parts.append(f"<notes>{self.notes()}</notes>")
        videos = "".join(self.video() for _ in range(rng.choice((0, 1, 2, 3))))
        if videos:
            parts.append(f"<videos>{videos}</videos>")
        parts.append("</master>\n")
        return "".join(parts)


def generate_dump(
    entity: str, records: int, *, seed: int = 1, control_chars: bool = False
) -> Iterator[bytes]:
    """The bytes of a synthetic `entity` dump with `records` records, in pieces (stream them)."""
    generator = _Generator(seed, control_chars)
    make = {
        "releases": generator.release,
        "artists": generator.artist,
        "labels": generator.label,
        "masters": generator.master,
    }[entity]
    yield f"<{entity}>\n".encode()
    record_id = 0
    batch: list[str] = []
    for _ in range(records):
        record_id += generator.rng.randint(1, 3)  # sparse ascending ids, like the dumps
        batch.append(make(record_id))
        if len(batch) >= 1000:
            yield "".join(batch).encode()
            batch = []
    if batch:
        yield "".join(batch).encode()
    yield f"</{entity}>\n".encode()
