//! Any room name from a URL or the join form: parsing never panics; an accepted name is within
//! its limits and parses to itself.
#![no_main]

use app::names::RoomName;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(room) = RoomName::parse(raw) {
        let shown = room.to_string();
        assert!(!shown.is_empty() && shown.chars().count() <= RoomName::MAX_LEN);
        assert_eq!(RoomName::parse(&shown).ok(), Some(room));
    }
});
