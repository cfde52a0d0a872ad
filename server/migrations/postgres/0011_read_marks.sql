-- How far each person has read each room (the last message they have seen), so that every device
-- and tab of theirs opens the room there and counts what is new. `person`: the session that is
-- them in the rooms (for an account, the account's own, the same on every device).
CREATE TABLE read_marks (
    person TEXT   NOT NULL,
    room   TEXT   NOT NULL,
    seq    BIGINT NOT NULL,
    at     BIGINT NOT NULL,
    PRIMARY KEY (person, room)
);
