//! Any nickname a client asks for (URL, form, JSON): parsing never panics; an accepted name is
//! within its limits, parses to itself, and its case-folded form is stable.
#![no_main]

use app::names::Nickname;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else { return };
    if let Ok(name) = Nickname::parse(raw) {
        let shown = name.to_string();
        assert!(!shown.is_empty() && shown.chars().count() <= Nickname::MAX_LEN);
        assert_eq!(Nickname::parse(&shown).ok(), Some(name.clone()));
        let folded = name.folded();
        if let Ok(refolded) = Nickname::parse(&folded) {
            assert_eq!(refolded.folded(), folded);
        }
    }
});
