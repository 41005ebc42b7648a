-- HTTP API (issue 6): an IMMUTABLE accent folding function, so search documents can be indexed
-- on folded text (unaccent() itself is only STABLE: its dictionary could change). Pinning the
-- dictionary by schema-qualified name makes the immutability claim true in practice.
CREATE OR REPLACE FUNCTION public.cd_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, value)) $$;
