-- public.search_document(...): the search_documents row (shared/queries/sql/api_structures.sql)
-- of one release, master, artist or label, from the fields its INSERT gathers: the folded title
-- key, the folded text for trigram matching, the weighted full-text vector (A title, B artists,
-- C labels/catalog numbers/other names) and the filter keys shared/queries/search.py looks up
-- (`t:<type>`, `<type>:<g|s|f|l|c|d>:<value>`, title words `w:<word>`, whole title `x:<md5>`).
-- One definition for the four entity types' INSERTs; a set-returning SQL function, so the
-- planner inlines it into each INSERT (no call per row).
CREATE FUNCTION public.search_document(
    doc_type text, doc_id bigint, doc_title text, doc_subtitle text, doc_year integer,
    doc_genres text[], doc_styles text[], doc_country text, doc_formats text[],
    doc_labels text[], doc_master_id bigint, doc_other_text text
) RETURNS TABLE (
    entity_type varchar(8), entity_id bigint, title text, subtitle text, year integer,
    decade integer, genres text[], styles text[], country text, formats text[],
    labels text[], master_id bigint, title_key varchar(200), search_text text, tsv tsvector,
    filter_keys text[]
)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $function$
SELECT doc_type::varchar(8), doc_id, doc_title, doc_subtitle, doc_year, doc_year / 10 * 10,
    doc_genres, doc_styles, doc_country, doc_formats, doc_labels, doc_master_id,
    k.title_key,
    public.fold_text(left(coalesce(doc_title, '') || ' ' || coalesce(doc_subtitle, ''), 1000)),
    setweight(to_tsvector('simple', public.fold_text(left(coalesce(doc_title, ''), 2000))), 'A')
        || setweight(to_tsvector('simple', public.fold_text(left(coalesce(doc_subtitle, ''), 2000))), 'B')
        || setweight(to_tsvector('simple', public.fold_text(left(coalesce(doc_other_text, ''), 2000))), 'C'),
    ARRAY['t:' || doc_type, 'x:' || md5(k.title_key)]
        || ARRAY(SELECT 'w:' || w FROM unnest(tsvector_to_array(to_tsvector('simple', k.title_key))) AS w)
        || ARRAY(SELECT doc_type || ':g:' || v FROM unnest(doc_genres) AS v)
        || ARRAY(SELECT doc_type || ':s:' || v FROM unnest(doc_styles) AS v)
        || ARRAY(SELECT doc_type || ':f:' || v FROM unnest(doc_formats) AS v)
        || ARRAY(SELECT doc_type || ':l:' || v FROM unnest(doc_labels) AS v)
        || CASE WHEN doc_country <> '' THEN ARRAY[doc_type || ':c:' || lower(doc_country)] ELSE '{}' END
        || CASE WHEN doc_year IS NOT NULL THEN ARRAY[doc_type || ':d:' || (doc_year / 10 * 10)] ELSE '{}' END
FROM (SELECT left(public.fold_text(coalesce(doc_title, '')), 200)::varchar(200) AS title_key) AS k
$function$;
