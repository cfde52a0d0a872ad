-- Full-text search over what messages say now: an index of their words (`simple`: compared
-- without case, no language's stemming, since a room speaks any language), kept by PostgreSQL
-- in step with every write. The punctuation that would make PostgreSQL's parser read a tag, an
-- entity, an e-mail address, a host, a path or a version as one token is read as a space first,
-- so that words are runs of letters and digits, as SQLite's index reads them. Searches give the
-- same expression, so that the index answers them.
CREATE INDEX messages_words ON messages
    USING GIN (to_tsvector('simple', translate(text, '<>&@/\.:-_+=~#%', '               ')))
    WHERE kind = 0 AND deleted_at IS NULL;
