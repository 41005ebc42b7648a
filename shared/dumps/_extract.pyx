# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled record extractor: walks the libxml2 tree lxml built, at C level, and appends the
same marker-joined rows as `shared.dumps.records` (the reference) to the same `Output` lists.

Exactness by construction: a record is handled here only when everything in it is known and
ordinary. On anything else (an unknown element or attribute, a comment, a namespace, an id that
is not plain digits, a duplicated scalar, a value whose conversion this code does not do) the
walk stops, the rows this record appended are removed, and the caller hands the record to the
Python extractor, which does all quirk handling, unknown counting and quarantine.

Only struct fields of libxml2 are read and only lxml's public C API is called: lxml links
libxml2 statically and Python loads extensions RTLD_LOCAL, so libxml2's own functions are not
callable from here. Values are read as the UTF-8 libxml2 stores; a row is built in a C buffer
with the marker bytes of `shared.dumps.values`, escaped for COPY into a per-table buffer as it
is finished, and when the whole record succeeded each table gets one `bytes` of finished COPY
lines (`Output.flush` joins them with the Python extractor's rows, in record order). So the
Python objects made per record are one per table, not one per element, value and row.
"""

from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.list cimport PyList_Append, PyList_GET_ITEM, PyList_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.stdint cimport uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memchr, memcpy, strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree
from lxml.includes.tree cimport xmlAttr, xmlNode

cetree.import_lxml__etree()

from shared.dumps.tables import tables_for
from shared.dumps.values import duration_seconds, released_parts

# Return codes of the walkers: OK, or BAIL (hand the record to the Python extractor). Python
# errors (MemoryError only) propagate as -1.
cdef enum:
    OK = 1
    BAIL = 0

cdef enum:
    MAX_TABLES = 16
    MAX_ID_DIGITS = 18

# Table order of each entity's Output (checked against `tables_for` at construction).
_ORDER = {
    "releases": (
        "releases", "release_artists", "release_labels", "release_series", "release_formats",
        "release_identifiers", "release_videos", "release_companies", "release_tracks",
        "release_track_artists", "release_images", "unknown_fields",
    ),
    "artists": (
        "artists", "artist_aliases", "artist_name_variations", "artist_members", "artist_groups",
        "artist_urls", "artist_images", "unknown_fields",
    ),
    "labels": ("labels", "label_urls", "label_sublabels", "label_images", "unknown_fields"),
    "masters": ("masters", "master_artists", "master_videos", "master_images", "unknown_fields"),
}

# Table indexes (positions in the tuples above).
cdef enum:
    T_RELEASES = 0
    T_RELEASE_ARTISTS = 1
    T_RELEASE_LABELS = 2
    T_RELEASE_SERIES = 3
    T_RELEASE_FORMATS = 4
    T_RELEASE_IDENTIFIERS = 5
    T_RELEASE_VIDEOS = 6
    T_RELEASE_COMPANIES = 7
    T_RELEASE_TRACKS = 8
    T_RELEASE_TRACK_ARTISTS = 9
    T_RELEASE_IMAGES = 10
    T_ARTISTS = 0
    T_ARTIST_ALIASES = 1
    T_ARTIST_NAME_VARIATIONS = 2
    T_ARTIST_MEMBERS = 3
    T_ARTIST_GROUPS = 4
    T_ARTIST_URLS = 5
    T_ARTIST_IMAGES = 6
    T_LABELS = 0
    T_LABEL_URLS = 1
    T_LABEL_SUBLABELS = 2
    T_LABEL_IMAGES = 3
    T_MASTERS = 0
    T_MASTER_ARTISTS = 1
    T_MASTER_VIDEOS = 2
    T_MASTER_IMAGES = 3

cdef enum:
    E_RELEASES = 0
    E_ARTISTS = 1
    E_LABELS = 2
    E_MASTERS = 3
_ENTITY_CODES = {"releases": E_RELEASES, "artists": E_ARTISTS, "labels": E_LABELS,
                 "masters": E_MASTERS}

# Record element names by entity code.
cdef const char* _RECORD_NAMES[4]
_RECORD_NAMES[E_RELEASES] = b"release"
_RECORD_NAMES[E_ARTISTS] = b"artist"
_RECORD_NAMES[E_LABELS] = b"label"
_RECORD_NAMES[E_MASTERS] = b"master"


# --- node helpers -----------------------------------------------------------------------------

cdef inline bint is_named(xmlNode* node, const char* name) noexcept:
    return strcmp(<const char*>node.name, name) == 0


cdef inline int child_kind(xmlNode* node) noexcept:
    """1: an element to look at; 0: text between elements (ignored, as iterating lxml children
    ignores it); -1: anything else (comment, PI, entity reference, namespaced element): bail."""
    if node.type == tree.XML_ELEMENT_NODE:
        return 1 if node.ns is NULL else -1
    if node.type == tree.XML_TEXT_NODE or node.type == tree.XML_CDATA_SECTION_NODE:
        return 0
    return -1


cdef inline int leaf_text(xmlNode* element, const char** value) noexcept:
    """An element's text as `element.text or NULL` reads it: `value` NULL for none or empty.
    Bails unless the element holds nothing or exactly one text node (no child elements, no
    comments, no entity references, no text split in several nodes)."""
    cdef xmlNode* child = element.children
    value[0] = NULL
    if child is NULL:
        return OK
    if child.next is not NULL:
        return BAIL
    if child.type != tree.XML_TEXT_NODE and child.type != tree.XML_CDATA_SECTION_NODE:
        return BAIL
    if child.content is not NULL and child.content[0] != 0:
        value[0] = <const char*>child.content
    return OK


cdef inline int attribute_value(xmlAttr* attribute, const char** value) noexcept:
    """`element.get(name) or NULL`: `value` NULL for an empty value. Bails on namespaced
    attributes and on values libxml2 stores as more than one node."""
    cdef xmlNode* child = attribute.children
    value[0] = NULL
    if attribute.ns is not NULL:
        return BAIL
    if child is NULL:
        return OK
    if child.next is not NULL or child.type != tree.XML_TEXT_NODE:
        return BAIL
    if child.content is not NULL and child.content[0] != 0:
        value[0] = <const char*>child.content
    return OK


cdef inline bint ascii_digits(const char* value, Py_ssize_t max_length) noexcept:
    """Non-empty, only 0-9, at most max_length long (`isdigit() and isascii() and len <= n`)."""
    cdef Py_ssize_t n = 0
    if value is NULL or value[0] == 0:
        return False
    while value[n] != 0:
        if value[n] < 48 or value[n] > 57:
            return False
        n += 1
        if n > max_length:
            return False
    return True


cdef inline int reference(const char* value, const char** result) noexcept:
    """`reference_id`: empty -> NULL, digits -> themselves (all zeros -> NULL); else bail (the
    Python path decides between NULL for whitespace and quarantine for garbage)."""
    cdef Py_ssize_t i = 0
    result[0] = NULL
    if value is NULL:
        return OK
    if not ascii_digits(value, MAX_ID_DIGITS):
        return BAIL
    while value[i] == 48:
        i += 1
    if value[i] != 0:
        result[0] = value
    return OK


cdef inline const char* small_int(const char* value) noexcept:
    """`small_int`: up to 9 ASCII digits -> the value; anything else -> NULL."""
    return value if ascii_digits(value, 9) else NULL


cdef inline int id_attribute(xmlNode* element, const char** result) noexcept:
    """`reference_id(element.get("id"))` for an element whose only known attribute is `id`:
    `result` NULL for none; bails on any other attribute and where `reference` bails."""
    cdef xmlAttr* attribute = element.properties
    cdef const char* raw
    result[0] = NULL
    while attribute is not NULL:
        if strcmp(<const char*>attribute.name, b"id") != 0:
            return BAIL
        if attribute_value(attribute, &raw) != OK or reference(raw, result) != OK:
            return BAIL
        attribute = attribute.next
    return OK


cdef inline const char* boolean(const char* value) noexcept:
    if value is NULL:
        return NULL
    if strcmp(value, b"true") == 0:
        return b"t"
    if strcmp(value, b"false") == 0:
        return b"f"
    return NULL


cdef inline bint has_non_ascii(const char* value) noexcept:
    cdef Py_ssize_t i = 0
    while value[i] != 0:
        if <unsigned char>value[i] >= 128:
            return True
        i += 1
    return False


# --- the extractor ----------------------------------------------------------------------------

cdef class CompiledExtractor:
    """`extractor(record, out)` extracts one record like the Python extractor `fallback` does
    (same rows, same errors): at C level when it can, else by calling `fallback`.
    `extractor.fast(record, out)` alone returns False, appending nothing, where the fallback is
    needed; `fallbacks` counts the records handed over (tests and benchmarks read it)."""

    cdef int entity
    cdef char* row
    cdef Py_ssize_t length
    cdef Py_ssize_t capacity
    cdef char* copy[MAX_TABLES]  # this record's COPY lines per table
    cdef Py_ssize_t copy_length[MAX_TABLES]
    cdef Py_ssize_t copy_capacity[MAX_TABLES]
    cdef readonly str name
    cdef readonly object fallback
    cdef public Py_ssize_t fallbacks

    def __cinit__(self, str entity, object fallback):
        if entity not in _ENTITY_CODES:
            raise ValueError(f"unknown entity {entity!r}")
        if tuple(tables_for(entity)) != _ORDER[entity]:
            raise RuntimeError(f"compiled extractor: table order of {entity} changed")
        self.entity = _ENTITY_CODES[entity]
        self.name = entity
        self.fallback = fallback
        self.fallbacks = 0
        self.capacity = 4096
        self.row = <char*>malloc(self.capacity)
        if self.row is NULL:
            raise MemoryError()
        self.length = 0
        for index in range(MAX_TABLES):
            self.copy[index] = NULL
            self.copy_length[index] = 0
            self.copy_capacity[index] = 0

    def __dealloc__(self):
        free(self.row)
        for index in range(MAX_TABLES):
            free(self.copy[index])

    def __call__(self, cetree._Element record, object out):
        if not self.fast(record, out):
            self.fallbacks += 1
            self.fallback(record, out)

    def needs_sanitizing(self, bytes data):
        """(`data` holds a C0 control byte XML 1.0 forbids, `data` holds whitespace-only
        element content `>[ \\t\\r\\n]+</`): one C pass instead of `sanitize`'s translate
        and regex search, which then only run when there is something to do (real dumps:
        almost never). Exact: both functions return their input unchanged when it is False."""
        cdef const unsigned char* start = data
        cdef const unsigned char* p
        cdef const unsigned char* end
        cdef Py_ssize_t n = len(data)
        cdef Py_ssize_t i
        cdef unsigned char c
        cdef bint invalid = False
        cdef bint blank = False
        cdef uint64_t word
        i = 0
        while i < n and not invalid:
            if i + 8 <= n:
                # Eight bytes at a time: a word without any byte below 0x20 (the usual case,
                # newlines and tabs are rare) needs no further look.
                memcpy(&word, start + i, 8)
                if ((word - 0x2020202020202020ULL) & ~word & 0x8080808080808080ULL) == 0:
                    i += 8
                    continue
            c = start[i]
            if c < 32 and c != 9 and c != 10 and c != 13:
                invalid = True
            i += 1
        p = start
        end = start + n
        while p < end:
            p = <const unsigned char*>memchr(p, 62, end - p)  # '>'
            if p is NULL:
                break
            p += 1
            i = 0
            while p + i < end and (p[i] == 32 or p[i] == 9 or p[i] == 13 or p[i] == 10):
                i += 1
            if i and p + i + 1 < end and p[i] == 60 and p[i + 1] == 47:  # '</'
                blank = True
                break
            p += i
        return invalid, blank

    def extract_children(self, cetree._Element root, object out):
        """Extract every record element under a parsed batch's `root` (the fast path of
        `parser._extract_batch`): at C level, with an element proxy made only for a record
        handed to the Python extractor. Returns the number of records, or -1 without doing
        anything when a child element is not the entity's record (the caller then goes record
        by record). Exceptions of the Python extractor propagate (the caller rolls back)."""
        cdef xmlNode* child = root._c_node.children
        cdef const char* record_name = _RECORD_NAMES[self.entity]
        cdef Py_ssize_t count = 0
        while child is not NULL:  # comments, PIs and text between records are skipped
            if child.type == tree.XML_ELEMENT_NODE and (
                child.ns is not NULL or not is_named(child, record_name)
            ):
                return -1
            child = child.next
        child = root._c_node.children
        while child is not NULL:
            if child.type == tree.XML_ELEMENT_NODE:
                count += 1
                if not self.fast_node(child, out):
                    self.fallbacks += 1
                    self.fallback(cetree.elementFactory(root._doc, child), out)
            child = child.next
        return count

    cpdef bint fast(self, cetree._Element record, object out) except -1:
        return self.fast_node(record._c_node, out)

    cdef bint fast_node(self, xmlNode* record, object out) except -1:
        cdef list lists = out._lists
        cdef Py_ssize_t count = PyList_GET_SIZE(lists)
        cdef Py_ssize_t index
        cdef int status
        if count > MAX_TABLES:
            return False
        for index in range(count):
            self.copy_length[index] = 0
        self.length = 0
        if self.entity == E_RELEASES:
            status = self.release(record)
        elif self.entity == E_ARTISTS:
            status = self.artist(record)
        elif self.entity == E_LABELS:
            status = self.label(record)
        else:
            status = self.master(record)
        if status != OK:
            return False  # nothing was appended
        for index in range(count):
            if self.copy_length[index]:
                PyList_Append(
                    <list>PyList_GET_ITEM(lists, index),
                    PyBytes_FromStringAndSize(self.copy[index], self.copy_length[index]),
                )
        return True

    # --- row buffer ---------------------------------------------------------------------------

    cdef int grow(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t needed = self.length + extra
        cdef char* bigger
        if needed <= self.capacity:
            return 0
        while self.capacity < needed:
            self.capacity *= 2
        bigger = <char*>realloc(self.row, self.capacity)
        if bigger is NULL:
            raise MemoryError()
        self.row = bigger
        return 0

    cdef inline int put(self, const char* data, Py_ssize_t size) except -1:
        if self.length + size > self.capacity:
            self.grow(size)
        memcpy(self.row + self.length, data, size)
        self.length += size
        return 0

    cdef inline int put_char(self, char value) except -1:
        if self.length + 1 > self.capacity:
            self.grow(1)
        self.row[self.length] = value
        self.length += 1
        return 0

    cdef inline int value(self, const char* data) except -1:
        """A field value: the text, or the NULL marker for none."""
        if data is NULL:
            return self.put_char(3)
        return self.put(data, strlen(data))

    cdef inline int field(self) except -1:
        return self.put_char(1)

    cdef inline int column(self, const char* data) except -1:
        """A field that is not the row's last: `value(data)`, then the field marker."""
        self.value(data)
        return self.put_char(1)

    cdef int number(self, long value) except -1:
        cdef char digits[24]
        cdef int n = 0
        cdef int i
        if value == 0:
            return self.put_char(48)
        while value > 0:
            digits[n] = <char>(48 + value % 10)
            value //= 10
            n += 1
        self.grow(n)
        for i in range(n - 1, -1, -1):
            self.row[self.length] = digits[i]
            self.length += 1
        return 0

    cdef inline int child_row(self, const char* rid, long sequence) except -1:
        """The first two fields of a child table's row: the record id and the row's sequence."""
        self.column(rid)
        self.number(sequence)
        self.field()
        return 0

    cdef int emit(self, int table) except -1:
        """The row built so far, escaped for COPY text format (as `values.copy_bytes` does:
        backslash, newline, CR and tab escaped; FIELD -> tab, NULL -> \\N), becomes a line of
        `table`'s buffer; the row buffer is reset."""
        cdef Py_ssize_t needed = self.copy_length[table] + 2 * self.length + 1
        cdef Py_ssize_t capacity = self.copy_capacity[table]
        cdef char* target
        cdef char* bigger
        cdef Py_ssize_t at
        cdef Py_ssize_t i
        cdef char c
        if needed > capacity:
            capacity = capacity * 2 if capacity else 4096
            while capacity < needed:
                capacity *= 2
            bigger = <char*>realloc(self.copy[table], capacity)
            if bigger is NULL:
                raise MemoryError()
            self.copy[table] = bigger
            self.copy_capacity[table] = capacity
        target = self.copy[table]
        at = self.copy_length[table]
        for i in range(self.length):
            c = self.row[i]
            if c == 1:
                target[at] = 9
            elif c == 3:
                target[at] = 92
                target[at + 1] = 78
                at += 1
            elif c == 92:
                target[at] = 92
                target[at + 1] = 92
                at += 1
            elif c == 10:
                target[at] = 92
                target[at + 1] = 110
                at += 1
            elif c == 13:
                target[at] = 92
                target[at + 1] = 114
                at += 1
            elif c == 9:
                target[at] = 92
                target[at + 1] = 116
                at += 1
            else:
                target[at] = c
            at += 1
        target[at] = 10
        self.copy_length[table] = at + 1
        self.length = 0
        return 0

    cdef int text_array(self, xmlNode* container, const char* tag, bint drop_digits) except -1:
        """`text_array` of `text_list(container, tag)` into the row; BAIL on anything unknown
        and, with `drop_digits`, on a value the Python path might drop as a numeric genre."""
        cdef xmlNode* child
        cdef const char* text
        cdef Py_ssize_t i
        cdef int kind
        cdef bint first = True
        if container is NULL:
            self.put(b"{}", 2)
            return OK
        # Validate before writing (a bail leaves the row buffer to be reset by the caller).
        child = container.children
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(child, tag):
                    return BAIL
                if leaf_text(child, &text) != OK:
                    return BAIL
                if text is not NULL and drop_digits and (
                    has_non_ascii(text) or ascii_digits(text, 1 << 30)
                ):
                    return BAIL
            child = child.next
        self.put_char(b'{')
        child = container.children
        while child is not NULL:
            if child.type == tree.XML_ELEMENT_NODE:
                leaf_text(child, &text)
                if text is not NULL:
                    if not first:
                        self.put_char(b',')
                    first = False
                    self.put_char(b'"')
                    i = 0
                    while text[i] != 0:
                        if text[i] == b'\\' or text[i] == b'"':
                            self.put_char(b'\\')
                        self.put_char(text[i])
                        i += 1
                    self.put_char(b'"')
            child = child.next
        self.put_char(b'}')  # `{}` when there were no values
        return OK

    cdef int text_rows(self, xmlNode* container, const char* tag, const char* rid, int table) except -1:
        """Rows `rid, sequence, text` of a `text_list` (urls, name variations)."""
        cdef xmlNode* child = container.children
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(child, tag) or leaf_text(child, &text) != OK:
                    return BAIL
                if text is not NULL:
                    sequence += 1
                    self.child_row(rid, sequence)
                    self.value(text)
                    self.emit(table)
            child = child.next
        return OK

    # --- shared parts -------------------------------------------------------------------------

    cdef int credits(
        self, xmlNode* container, const char* rid, long track, const char* extra, int table,
        long* sequence,
    ) except -1:
        """`common.credits`: keys are rid (+ track sequence when track >= 0), then sequence,
        then `extra` (NULL for none) and the six credit columns."""
        cdef xmlNode* artist = container.children
        cdef xmlNode* child
        cdef const char* artist_id
        cdef const char* name
        cdef const char* anv
        cdef const char* join
        cdef const char* role
        cdef const char* tracks
        cdef const char* text
        cdef int kind
        while artist is not NULL:
            kind = child_kind(artist)
            if kind < 0:
                return BAIL
            if kind == 0:
                artist = artist.next
                continue
            if not is_named(artist, b"artist"):
                return BAIL
            sequence[0] += 1
            artist_id = name = anv = join = role = tracks = NULL
            child = artist.children
            while child is not NULL:
                kind = child_kind(child)
                if kind < 0:
                    return BAIL
                if kind == 1:
                    if leaf_text(child, &text) != OK:
                        return BAIL
                    if is_named(child, b"name"):
                        name = text
                    elif is_named(child, b"id"):
                        if reference(text, &artist_id) != OK:
                            return BAIL
                    elif is_named(child, b"role"):
                        role = text
                    elif is_named(child, b"join"):
                        join = text
                    elif is_named(child, b"anv"):
                        anv = text
                    elif is_named(child, b"tracks"):
                        tracks = text
                    else:
                        return BAIL
                child = child.next
            self.column(rid)
            if track >= 0:
                self.number(track)
                self.field()
            self.number(sequence[0])
            self.field()
            if extra is not NULL:
                self.column(extra)
            self.column(artist_id)
            self.column(name)
            self.column(anv)
            self.column(join)
            self.column(role)
            self.value(tracks)
            self.emit(table)
            artist = artist.next
        return OK

    cdef int images(self, xmlNode* container, const char* rid, int table) except -1:
        cdef xmlNode* image = container.children
        cdef xmlAttr* attribute
        cdef const char* kind_ = NULL
        cdef const char* uri
        cdef const char* uri150
        cdef const char* width
        cdef const char* height
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while image is not NULL:
            kind = child_kind(image)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(image, b"image"):
                    return BAIL
                sequence += 1
                kind_ = uri = uri150 = width = height = NULL
                attribute = image.properties
                while attribute is not NULL:
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    if strcmp(<const char*>attribute.name, b"type") == 0:
                        kind_ = text
                    elif strcmp(<const char*>attribute.name, b"uri") == 0:
                        uri = text
                    elif strcmp(<const char*>attribute.name, b"uri150") == 0:
                        uri150 = text
                    elif strcmp(<const char*>attribute.name, b"width") == 0:
                        width = small_int(text)
                    elif strcmp(<const char*>attribute.name, b"height") == 0:
                        height = small_int(text)
                    else:
                        return BAIL
                    attribute = attribute.next
                self.child_row(rid, sequence)
                self.column(kind_)
                self.column(uri)
                self.column(uri150)
                self.column(width)
                self.value(height)
                self.emit(table)
            image = image.next
        return OK

    cdef int videos(self, xmlNode* container, const char* rid, int table) except -1:
        cdef xmlNode* video = container.children
        cdef xmlNode* child
        cdef xmlAttr* attribute
        cdef const char* src
        cdef const char* duration
        cdef const char* embed
        cdef const char* title
        cdef const char* description
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while video is not NULL:
            kind = child_kind(video)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(video, b"video"):
                    return BAIL
                sequence += 1
                src = duration = embed = title = description = NULL
                child = video.children
                while child is not NULL:
                    kind = child_kind(child)
                    if kind < 0:
                        return BAIL
                    if kind == 1:
                        if leaf_text(child, &text) != OK:
                            return BAIL
                        if is_named(child, b"title"):
                            title = text
                        elif is_named(child, b"description"):
                            description = text
                        else:
                            return BAIL
                    child = child.next
                attribute = video.properties
                while attribute is not NULL:
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    if strcmp(<const char*>attribute.name, b"src") == 0:
                        src = text
                    elif strcmp(<const char*>attribute.name, b"duration") == 0:
                        duration = small_int(text)
                    elif strcmp(<const char*>attribute.name, b"embed") == 0:
                        embed = boolean(text)
                    else:
                        return BAIL
                    attribute = attribute.next
                self.child_row(rid, sequence)
                self.column(src)
                self.column(duration)
                self.column(embed)
                self.column(title)
                self.value(description)
                self.emit(table)
            video = video.next
        return OK

    cdef int named_references(
        self, xmlNode* container, const char* tag, const char* rid, int table
    ) except -1:
        """`<name id="…">text</name>` lists (artist aliases and groups, label sublabels):
        both empty -> skipped; only the `id` attribute is known."""
        cdef xmlNode* child = container.children
        cdef const char* ref
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(child, tag) or leaf_text(child, &text) != OK:
                    return BAIL
                if id_attribute(child, &ref) != OK:
                    return BAIL
                if ref is not NULL or text is not NULL:
                    sequence += 1
                    self.child_row(rid, sequence)
                    self.column(ref)
                    self.value(text)
                    self.emit(table)
            child = child.next
        return OK

    # --- releases -----------------------------------------------------------------------------

    cdef int release(self, xmlNode* release) except -1:
        cdef xmlAttr* attribute
        cdef xmlNode* child
        cdef const char* rid = NULL
        cdef const char* status = NULL
        cdef const char* title = NULL
        cdef const char* country = NULL
        cdef const char* released = NULL
        cdef const char* notes = NULL
        cdef const char* data_quality = NULL
        cdef const char* master_id = NULL
        cdef const char* is_main = NULL
        cdef const char* text
        cdef xmlNode* genres = NULL
        cdef xmlNode* styles = NULL
        cdef long credit_sequence = 0
        cdef long track_sequence
        cdef int kind
        cdef int released_seen = 0
        attribute = release.properties
        while attribute is not NULL:
            if attribute_value(attribute, &text) != OK:
                return BAIL
            if strcmp(<const char*>attribute.name, b"id") == 0:
                rid = text
            elif strcmp(<const char*>attribute.name, b"status") == 0:
                status = text
            else:
                return BAIL
            attribute = attribute.next
        if not ascii_digits(rid, MAX_ID_DIGITS):
            return BAIL  # the Python path quarantines it
        child = release.children
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 0:
                child = child.next
                continue
            if is_named(child, b"tracklist"):
                track_sequence = 0
                if self.tracks(child, rid, -1, &track_sequence) != OK:
                    return BAIL
            elif is_named(child, b"extraartists"):
                if self.credits(child, rid, -1, b"t", T_RELEASE_ARTISTS, &credit_sequence) != OK:
                    return BAIL
            elif is_named(child, b"artists"):
                if self.credits(child, rid, -1, b"f", T_RELEASE_ARTISTS, &credit_sequence) != OK:
                    return BAIL
            elif is_named(child, b"title"):
                if leaf_text(child, &title) != OK:
                    return BAIL
            elif is_named(child, b"labels"):
                if self.labels(child, b"label", rid, T_RELEASE_LABELS) != OK:
                    return BAIL
            elif is_named(child, b"formats"):
                if self.formats(child, rid) != OK:
                    return BAIL
            elif is_named(child, b"genres"):
                if genres is not NULL:
                    return BAIL  # the Python path reads both (unknowns), keeps the last
                genres = child
            elif is_named(child, b"styles"):
                if styles is not NULL:
                    return BAIL
                styles = child
            elif is_named(child, b"country"):
                if leaf_text(child, &country) != OK:
                    return BAIL
            elif is_named(child, b"released"):
                released_seen += 1
                if released_seen > 1 or leaf_text(child, &released) != OK:
                    return BAIL
            elif is_named(child, b"notes"):
                if leaf_text(child, &notes) != OK:
                    return BAIL
            elif is_named(child, b"data_quality"):
                if leaf_text(child, &data_quality) != OK:
                    return BAIL
            elif is_named(child, b"master_id"):
                if leaf_text(child, &text) != OK or reference(text, &master_id) != OK:
                    return BAIL
                is_main = NULL
                attribute = child.properties
                while attribute is not NULL:
                    if strcmp(<const char*>attribute.name, b"is_main_release") != 0:
                        return BAIL
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    is_main = boolean(text)
                    attribute = attribute.next
            elif is_named(child, b"identifiers"):
                if self.identifiers(child, rid) != OK:
                    return BAIL
            elif is_named(child, b"videos"):
                if self.videos(child, rid, T_RELEASE_VIDEOS) != OK:
                    return BAIL
            elif is_named(child, b"companies"):
                if self.companies(child, rid) != OK:
                    return BAIL
            elif is_named(child, b"series"):
                if self.labels(child, b"series", rid, T_RELEASE_SERIES) != OK:
                    return BAIL
            elif is_named(child, b"images"):
                if self.images(child, rid, T_RELEASE_IMAGES) != OK:
                    return BAIL
            else:
                return BAIL
            child = child.next
        self.column(rid)
        self.column(status)
        self.column(title)
        self.column(country)
        self.column(released)
        if released is NULL:
            self.put(b"\x03\x01\x03\x01\x03", 5)
        else:
            parts = released_parts(PyUnicode_DecodeUTF8(released, strlen(released), NULL))
            self.put_python(parts[0])
            self.field()
            self.put_python(parts[1])
            self.field()
            self.put_python(parts[2])
        self.field()
        self.column(notes)
        self.column(data_quality)
        self.column(master_id)
        self.column(is_main)
        if self.text_array(genres, b"genre", True) != OK:
            return BAIL
        self.field()
        if self.text_array(styles, b"style", False) != OK:
            return BAIL
        self.emit(T_RELEASES)
        return OK

    cdef int put_python(self, str value) except -1:
        cdef bytes data = value.encode()
        return self.put(data, len(data))

    cdef int labels(self, xmlNode* container, const char* tag, const char* rid, int table) except -1:
        """`<label name catno id/>` / `<series …/>` references; content of any kind -> bail."""
        cdef xmlNode* label = container.children
        cdef xmlAttr* attribute
        cdef const char* name
        cdef const char* catno
        cdef const char* label_id
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while label is not NULL:
            kind = child_kind(label)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(label, tag) or label.children is not NULL:
                    return BAIL
                sequence += 1
                name = catno = label_id = NULL
                attribute = label.properties
                while attribute is not NULL:
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    if strcmp(<const char*>attribute.name, b"name") == 0:
                        name = text
                    elif strcmp(<const char*>attribute.name, b"catno") == 0:
                        catno = text
                    elif strcmp(<const char*>attribute.name, b"id") == 0:
                        if reference(text, &label_id) != OK:
                            return BAIL
                    else:
                        return BAIL
                    attribute = attribute.next
                self.child_row(rid, sequence)
                self.column(label_id)
                self.column(name)
                self.value(catno)
                self.emit(table)
            label = label.next
        return OK

    cdef int formats(self, xmlNode* container, const char* rid) except -1:
        cdef xmlNode* fmt = container.children
        cdef xmlNode* child
        cdef xmlNode* descriptions
        cdef xmlAttr* attribute
        cdef const char* name
        cdef const char* qty
        cdef const char* text_
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while fmt is not NULL:
            kind = child_kind(fmt)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(fmt, b"format"):
                    return BAIL
                sequence += 1
                descriptions = NULL
                child = fmt.children
                while child is not NULL:
                    kind = child_kind(child)
                    if kind < 0:
                        return BAIL
                    if kind == 1:
                        if not is_named(child, b"descriptions"):
                            return BAIL
                        descriptions = child
                    child = child.next
                name = qty = text_ = NULL
                attribute = fmt.properties
                while attribute is not NULL:
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    if strcmp(<const char*>attribute.name, b"name") == 0:
                        name = text
                    elif strcmp(<const char*>attribute.name, b"qty") == 0:
                        qty = text
                    elif strcmp(<const char*>attribute.name, b"text") == 0:
                        text_ = text
                    else:
                        return BAIL
                    attribute = attribute.next
                self.child_row(rid, sequence)
                self.column(name)
                self.column(qty)
                self.column(text_)
                if self.text_array(descriptions, b"description", False) != OK:
                    return BAIL
                self.emit(T_RELEASE_FORMATS)
            fmt = fmt.next
        return OK

    cdef int identifiers(self, xmlNode* container, const char* rid) except -1:
        cdef xmlNode* identifier = container.children
        cdef xmlAttr* attribute
        cdef const char* type_
        cdef const char* description
        cdef const char* value
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while identifier is not NULL:
            kind = child_kind(identifier)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(identifier, b"identifier"):
                    return BAIL
                sequence += 1
                type_ = description = value = NULL
                attribute = identifier.properties
                while attribute is not NULL:
                    if attribute_value(attribute, &text) != OK:
                        return BAIL
                    if strcmp(<const char*>attribute.name, b"type") == 0:
                        type_ = text
                    elif strcmp(<const char*>attribute.name, b"description") == 0:
                        description = text
                    elif strcmp(<const char*>attribute.name, b"value") == 0:
                        value = text
                    else:
                        return BAIL
                    attribute = attribute.next
                self.child_row(rid, sequence)
                self.column(type_)
                self.column(description)
                self.value(value)
                self.emit(T_RELEASE_IDENTIFIERS)
            identifier = identifier.next
        return OK

    cdef int companies(self, xmlNode* container, const char* rid) except -1:
        cdef xmlNode* company = container.children
        cdef xmlNode* child
        cdef const char* company_id
        cdef const char* name
        cdef const char* catno
        cdef const char* entity_type
        cdef const char* entity_type_name
        cdef const char* resource_url
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while company is not NULL:
            kind = child_kind(company)
            if kind < 0:
                return BAIL
            if kind == 1:
                if not is_named(company, b"company"):
                    return BAIL
                sequence += 1
                company_id = name = catno = entity_type = entity_type_name = NULL
                resource_url = NULL
                child = company.children
                while child is not NULL:
                    kind = child_kind(child)
                    if kind < 0:
                        return BAIL
                    if kind == 1:
                        if leaf_text(child, &text) != OK:
                            return BAIL
                        if is_named(child, b"name"):
                            name = text
                        elif is_named(child, b"id"):
                            if reference(text, &company_id) != OK:
                                return BAIL
                        elif is_named(child, b"entity_type"):
                            entity_type = small_int(text)
                        elif is_named(child, b"entity_type_name"):
                            entity_type_name = text
                        elif is_named(child, b"catno"):
                            catno = text
                        elif is_named(child, b"resource_url"):
                            resource_url = text
                        else:
                            return BAIL
                    child = child.next
                self.child_row(rid, sequence)
                self.column(company_id)
                self.column(name)
                self.column(catno)
                self.column(entity_type)
                self.column(entity_type_name)
                self.value(resource_url)
                self.emit(T_RELEASE_COMPANIES)
            company = company.next
        return OK

    cdef int tracks(self, xmlNode* container, const char* rid, long parent, long* sequence) except -1:
        """`releases._tracks`: document order, sub-tracks right after their index track."""
        cdef xmlNode* track = container.children
        cdef xmlNode* child
        cdef xmlNode* sub_tracks
        cdef xmlNode* node
        cdef const char* position
        cdef const char* title
        cdef const char* duration
        cdef const char* track_type
        cdef long own
        cdef long credit_sequence
        cdef int kind
        cdef int durations
        cdef bint has_sub_tracks
        while track is not NULL:
            kind = child_kind(track)
            if kind < 0:
                return BAIL
            if kind == 0:
                track = track.next
                continue
            if not is_named(track, b"track"):
                return BAIL
            sequence[0] += 1
            own = sequence[0]
            position = title = duration = NULL
            sub_tracks = NULL
            credit_sequence = 0
            durations = 0
            child = track.children
            while child is not NULL:
                kind = child_kind(child)
                if kind < 0:
                    return BAIL
                if kind == 1:
                    if is_named(child, b"title"):
                        if leaf_text(child, &title) != OK:
                            return BAIL
                    elif is_named(child, b"position"):
                        if leaf_text(child, &position) != OK:
                            return BAIL
                    elif is_named(child, b"duration"):
                        durations += 1
                        if durations > 1 or leaf_text(child, &duration) != OK:
                            return BAIL
                    elif is_named(child, b"extraartists"):
                        if self.credits(
                            child, rid, own, b"t", T_RELEASE_TRACK_ARTISTS, &credit_sequence
                        ) != OK:
                            return BAIL
                    elif is_named(child, b"artists"):
                        if self.credits(
                            child, rid, own, b"f", T_RELEASE_TRACK_ARTISTS, &credit_sequence
                        ) != OK:
                            return BAIL
                    elif is_named(child, b"sub_tracks"):
                        if sub_tracks is not NULL:
                            return BAIL  # Python keeps only the last one
                        sub_tracks = child
                    else:
                        return BAIL
                child = child.next
            has_sub_tracks = False
            if sub_tracks is not NULL:
                node = sub_tracks.children
                while node is not NULL:
                    if child_kind(node) != 0:
                        has_sub_tracks = True  # len(sub_tracks): elements (others bail below)
                    node = node.next
            if has_sub_tracks:
                track_type = b"index"
            elif position is NULL and duration is NULL:
                track_type = b"heading"
            else:
                track_type = b"track"
            self.child_row(rid, own)
            if parent >= 0:
                self.number(parent)
            else:
                self.put_char(3)
            self.field()
            self.column(track_type)
            self.column(position)
            self.column(title)
            self.column(duration)
            self.seconds(duration)
            self.emit(T_RELEASE_TRACKS)
            if sub_tracks is not NULL:
                if self.tracks(sub_tracks, rid, own, sequence) != OK:
                    return BAIL
            track = track.next
        return OK

    cdef int seconds(self, const char* duration) except -1:
        """`duration_seconds`. Values of only digits and colons are converted here, exactly as
        its fast path and regex `(?:(\\d{1,3}):)?(\\d{1,4}):(\\d{1,2})` do (M:SS, MMMM:S,
        H:MM:SS; more or fewer colons, empty or overlong parts -> NULL); anything else
        (whitespace, other characters) by the Python function itself."""
        cdef long parts[3]
        cdef int lengths[3]
        cdef int colons = 0
        cdef Py_ssize_t n = 0
        cdef char c
        if duration is NULL:
            return self.put_char(3)
        parts[0] = parts[1] = parts[2] = 0
        lengths[0] = lengths[1] = lengths[2] = 0
        while duration[n] != 0:
            c = duration[n]
            if c == b':':
                colons += 1
                if colons > 2:
                    return self.put_char(3)  # no match
            elif 48 <= c <= 57:
                if lengths[colons] < 5:  # longer parts never match; keep the value small
                    parts[colons] = parts[colons] * 10 + (c - 48)
                lengths[colons] += 1
            else:
                return self.put_python(
                    duration_seconds(PyUnicode_DecodeUTF8(duration, strlen(duration), NULL))
                )
            n += 1
        if colons == 1:  # minutes:seconds
            if not (1 <= lengths[0] <= 4 and 1 <= lengths[1] <= 2) or parts[1] >= 60:
                return self.put_char(3)
            return self.number(parts[0] * 60 + parts[1])
        if colons == 2:  # hours:minutes:seconds
            if not (1 <= lengths[0] <= 3 and 1 <= lengths[1] <= 4 and 1 <= lengths[2] <= 2):
                return self.put_char(3)
            if parts[2] >= 60 or parts[1] >= 60:
                return self.put_char(3)
            return self.number(parts[0] * 3600 + parts[1] * 60 + parts[2])
        return self.put_char(3)  # no colon: no match

    # --- artists ------------------------------------------------------------------------------

    cdef int artist(self, xmlNode* artist) except -1:
        cdef xmlNode* child
        cdef const char* rid = NULL
        cdef const char* name = NULL
        cdef const char* real_name = NULL
        cdef const char* profile = NULL
        cdef const char* data_quality = NULL
        cdef const char* text
        cdef int kind
        if artist.properties is not NULL:
            return BAIL
        child = artist.children
        while child is not NULL:  # scalars first: container rows start with the id
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if is_named(child, b"name"):
                    if leaf_text(child, &name) != OK:
                        return BAIL
                elif is_named(child, b"id"):
                    if rid is NULL:  # the first id counts
                        if leaf_text(child, &text) != OK or not ascii_digits(text, MAX_ID_DIGITS):
                            return BAIL
                        rid = text
                elif is_named(child, b"realname"):
                    if leaf_text(child, &real_name) != OK:
                        return BAIL
                elif is_named(child, b"profile"):
                    if leaf_text(child, &profile) != OK:
                        return BAIL
                elif is_named(child, b"data_quality"):
                    if leaf_text(child, &data_quality) != OK:
                        return BAIL
            child = child.next
        if rid is NULL:
            return BAIL
        child = artist.children
        while child is not NULL:
            if child.type == tree.XML_ELEMENT_NODE:
                if is_named(child, b"namevariations"):
                    if self.text_rows(child, b"name", rid, T_ARTIST_NAME_VARIATIONS) != OK:
                        return BAIL
                elif is_named(child, b"aliases"):
                    if self.named_references(child, b"name", rid, T_ARTIST_ALIASES) != OK:
                        return BAIL
                elif is_named(child, b"groups"):
                    if self.named_references(child, b"name", rid, T_ARTIST_GROUPS) != OK:
                        return BAIL
                elif is_named(child, b"members"):
                    if self.members(child, rid) != OK:
                        return BAIL
                elif is_named(child, b"urls"):
                    if self.text_rows(child, b"url", rid, T_ARTIST_URLS) != OK:
                        return BAIL
                elif is_named(child, b"images"):
                    if self.images(child, rid, T_ARTIST_IMAGES) != OK:
                        return BAIL
                elif not (
                    is_named(child, b"name") or is_named(child, b"id")
                    or is_named(child, b"realname") or is_named(child, b"profile")
                    or is_named(child, b"data_quality")
                ):
                    return BAIL
            child = child.next
        self.column(rid)
        self.column(name)
        self.column(real_name)
        self.column(profile)
        self.value(data_quality)
        self.emit(T_ARTISTS)
        return OK

    cdef int members(self, xmlNode* container, const char* rid) except -1:
        """All three layouts: `name@id` wins, a bare preceding `<id>` fills in."""
        cdef xmlNode* child = container.children
        cdef const char* pending = NULL
        cdef const char* member_id
        cdef const char* text
        cdef long sequence = 0
        cdef int kind
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if leaf_text(child, &text) != OK:
                    return BAIL
                if is_named(child, b"id"):
                    if reference(text, &pending) != OK:
                        return BAIL
                elif is_named(child, b"name"):
                    if id_attribute(child, &member_id) != OK:
                        return BAIL
                    if member_id is NULL:
                        member_id = pending
                    pending = NULL
                    if member_id is not NULL or text is not NULL:
                        sequence += 1
                        self.child_row(rid, sequence)
                        self.column(member_id)
                        self.value(text)
                        self.emit(T_ARTIST_MEMBERS)
                else:
                    return BAIL
            child = child.next
        return OK

    # --- labels -------------------------------------------------------------------------------

    cdef int label(self, xmlNode* label) except -1:
        cdef xmlNode* child
        cdef const char* rid = NULL
        cdef const char* name = NULL
        cdef const char* contact_info = NULL
        cdef const char* profile = NULL
        cdef const char* data_quality = NULL
        cdef const char* parent_id = NULL
        cdef const char* parent_name = NULL
        cdef const char* text
        cdef int kind
        if label.properties is not NULL:
            return BAIL
        child = label.children
        while child is not NULL:  # the first <id> counts
            if child.type == tree.XML_ELEMENT_NODE and child.ns is NULL and is_named(child, b"id"):
                if leaf_text(child, &rid) != OK or not ascii_digits(rid, MAX_ID_DIGITS):
                    return BAIL
                break
            child = child.next
        if rid is NULL:
            return BAIL
        child = label.children
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if is_named(child, b"name"):
                    if leaf_text(child, &name) != OK:
                        return BAIL
                elif is_named(child, b"id"):
                    pass
                elif is_named(child, b"contactinfo"):
                    if leaf_text(child, &contact_info) != OK:
                        return BAIL
                elif is_named(child, b"profile"):
                    if leaf_text(child, &profile) != OK:
                        return BAIL
                elif is_named(child, b"data_quality"):
                    if leaf_text(child, &data_quality) != OK:
                        return BAIL
                elif is_named(child, b"parentLabel"):
                    if leaf_text(child, &parent_name) != OK:
                        return BAIL
                    if id_attribute(child, &parent_id) != OK:
                        return BAIL
                elif is_named(child, b"urls"):
                    if self.text_rows(child, b"url", rid, T_LABEL_URLS) != OK:
                        return BAIL
                elif is_named(child, b"sublabels"):
                    if self.named_references(child, b"label", rid, T_LABEL_SUBLABELS) != OK:
                        return BAIL
                elif is_named(child, b"images"):
                    if self.images(child, rid, T_LABEL_IMAGES) != OK:
                        return BAIL
                else:
                    return BAIL
            child = child.next
        self.column(rid)
        self.column(name)
        self.column(contact_info)
        self.column(profile)
        self.column(data_quality)
        self.column(parent_id)
        self.value(parent_name)
        self.emit(T_LABELS)
        return OK

    # --- masters ------------------------------------------------------------------------------

    cdef int master(self, xmlNode* master) except -1:
        cdef xmlNode* child
        cdef xmlAttr* attribute
        cdef const char* rid = NULL
        cdef const char* main_release = NULL
        cdef const char* title = NULL
        cdef const char* year = NULL
        cdef const char* data_quality = NULL
        cdef const char* notes = NULL
        cdef const char* text
        cdef xmlNode* genres = NULL
        cdef xmlNode* styles = NULL
        cdef long credit_sequence = 0
        cdef int kind
        attribute = master.properties
        while attribute is not NULL:
            if strcmp(<const char*>attribute.name, b"id") != 0:
                return BAIL
            if attribute_value(attribute, &rid) != OK:
                return BAIL
            attribute = attribute.next
        if not ascii_digits(rid, MAX_ID_DIGITS):
            return BAIL
        child = master.children
        while child is not NULL:
            kind = child_kind(child)
            if kind < 0:
                return BAIL
            if kind == 1:
                if is_named(child, b"artists"):
                    if self.credits(child, rid, -1, NULL, T_MASTER_ARTISTS, &credit_sequence) != OK:
                        return BAIL
                elif is_named(child, b"title"):
                    if leaf_text(child, &title) != OK:
                        return BAIL
                elif is_named(child, b"main_release"):
                    if leaf_text(child, &text) != OK or reference(text, &main_release) != OK:
                        return BAIL
                elif is_named(child, b"year"):
                    if leaf_text(child, &text) != OK:
                        return BAIL
                    year = small_int(text)
                    if year is not NULL and strcmp(year, b"0") == 0:
                        year = NULL  # 0 = unknown
                elif is_named(child, b"genres"):
                    if genres is not NULL:
                        return BAIL
                    genres = child
                elif is_named(child, b"styles"):
                    if styles is not NULL:
                        return BAIL
                    styles = child
                elif is_named(child, b"data_quality"):
                    if leaf_text(child, &data_quality) != OK:
                        return BAIL
                elif is_named(child, b"notes"):
                    if leaf_text(child, &notes) != OK:
                        return BAIL
                elif is_named(child, b"videos"):
                    if self.videos(child, rid, T_MASTER_VIDEOS) != OK:
                        return BAIL
                elif is_named(child, b"images"):
                    if self.images(child, rid, T_MASTER_IMAGES) != OK:
                        return BAIL
                else:
                    return BAIL
            child = child.next
        self.column(rid)
        self.column(main_release)
        self.column(title)
        self.column(year)
        self.column(data_quality)
        self.column(notes)
        if self.text_array(genres, b"genre", True) != OK:
            return BAIL
        self.field()
        if self.text_array(styles, b"style", False) != OK:
            return BAIL
        self.emit(T_MASTERS)
        return OK
