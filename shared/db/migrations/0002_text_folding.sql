-- fold_text(text): lower case without accents, IMMUTABLE so indexes and queries can share it
-- ("Björk" and "bjork" fold alike). It uses the unaccent extension where the server has it (Azure
-- allow-lists UNACCENT; Debian's PostgreSQL ships it) and a translate() table of common Latin
-- letters where it does not (the self-contained pgserver build).
DO $migration$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent') THEN
        CREATE EXTENSION IF NOT EXISTS unaccent;
        EXECUTE $sql$
            CREATE OR REPLACE FUNCTION public.fold_text(value text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            RETURN lower(public.unaccent('public.unaccent'::regdictionary, value))
        $sql$;
    ELSE
        EXECUTE $sql$
            CREATE OR REPLACE FUNCTION public.fold_text(value text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            RETURN replace(replace(replace(translate(lower(value),
                'àáâãäåāăąçćĉċčďđðèéêëēĕėęěĝğġģĥħìíîïĩīĭįıĵķĺļľŀłñńņňòóôõöøōŏőŕŗřśŝşšţťŧùúûüũūŭůűųŵýÿŷźżž',
                'aaaaaaaaacccccdddeeeeeeeeegggghhiiiiiiiiijklllllnnnnooooooooorrrsssstttuuuuuuuuuuwyyyzzz'),
                'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss')
        $sql$;
    END IF;
END
$migration$;
