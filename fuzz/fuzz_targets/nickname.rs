//! Any nickname a client asks for (URL, form, JSON): parsing never panics; an accepted name is
//! within its limits and parses to itself; and the form names are compared in (the server's
//! `lookalike::same_name`) ignores case and is stable: the form of the form is the form.
#![no_main]

use app::names::Nickname;
use libfuzzer_sys::fuzz_target;

// The server's own file (see ws_reader.rs).
#[path = "../../server/src/identity/lookalike.rs"]
mod lookalike;

use lookalike::{form_of, same_name};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(name) = Nickname::parse(raw) {
        let shown = name.to_string();
        assert!(!shown.is_empty() && shown.chars().count() <= Nickname::MAX_LEN);
        assert_eq!(Nickname::parse(&shown).ok(), Some(name.clone()));
        let key = same_name(&name);
        if let Ok(lower) = Nickname::parse(&shown.to_lowercase()) {
            assert_eq!(same_name(&lower), key, "case does not count");
        }
        assert_eq!(form_of(&key), key, "stable");
    }
});
