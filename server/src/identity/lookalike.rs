//! When two nicknames are one: what a reader cannot tell apart is one name, so that nobody can
//! pass for someone else in a room by a letter that only looks the same.

use app::names::Nickname;
use unicode_normalization::UnicodeNormalization;

/// The form nicknames are compared in when deciding whether two are one person's: names that a
/// reader cannot tell apart are one name. Case does not count (`Alice` is `alice`, as on IRC),
/// nor compatibility forms (full-width `ａｌｉｃｅ`, the long s of `ſam`: NFKC), nor letters of
/// other scripts that look the same (the Cyrillic а of `аlice`: Unicode's confusable skeleton,
/// UTS #39). The Greek final sigma is a sigma (`ΟΔΟΣ` lowercased ends in either, depending on
/// whether the letter counts as the last of a word).
///
/// The steps each undo a little of the others (a skeleton's prototypes are sometimes capitals or
/// compatibility characters, a lowercase letter sometimes has a prototype of its own): they are
/// applied until nothing changes, so that a name's form is the form of its form too.
pub fn same_name(name: &Nickname) -> String {
    form_of(name.as_str())
}

/// Whether `name` is, or looks like, one of the names guests are given (`guest-0042`): those
/// cannot be registered, or a guest could be refused the name it was given.
pub fn reserved_for_guests(name: &Nickname) -> bool {
    same_name(name).starts_with(&form_of("guest"))
}

/// The name the operator's actions go by in the rooms' logs (`server admin …`).
pub const OPERATOR: &str = "operator";

/// Whether `name` is, or looks like, the operator's: nobody may register or use it, or anyone
/// could pass for the one who runs the server.
pub fn is_operators(name: &Nickname) -> bool {
    is_operators_form(&same_name(name))
}

/// [`is_operators`] of a name already in [`same_name`]'s form.
pub fn is_operators_form(form: &str) -> bool {
    static OPERATORS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| form_of(OPERATOR));
    form == OPERATORS.as_str()
}

/// [`same_name`] of any text (the form itself need not be a nickname).
pub fn form_of(text: &str) -> String {
    let mut form = text.to_owned();
    for _ in 0..MAX_ROUNDS {
        let lower: String = form.nfkc().flat_map(char::to_lowercase).map(sigma).collect();
        let next: String = unicode_security::confusable_detection::skeleton(&lower).collect();
        if next == form {
            break;
        }
        form = next;
    }
    form
}

/// Rounds of lowercasing and skeleton: real names settle in one or two.
const MAX_ROUNDS: usize = 8;

fn sigma(c: char) -> char {
    if c == 'ς' {
        'σ'
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> String {
        same_name(&Nickname::parse(name).unwrap())
    }

    #[test]
    fn the_operators_name_and_its_lookalikes_are_the_operators() {
        for name in ["operator", "Operator", "0perator", "\u{43E}perator"] {
            assert!(is_operators(&Nickname::parse(name).unwrap()), "{name}");
        }
        assert!(!is_operators(&Nickname::parse("operators").unwrap()));
    }

    #[test]
    fn names_a_reader_cannot_tell_apart_are_one() {
        for lookalike in ["alice", "Alice", "ALICE", "\u{430}lice", "ａｌｉｃｅ", "a1ice", "\u{1D51E}lice"]
        {
            assert_eq!(key(lookalike), key("alice"), "{lookalike}");
        }
        assert_eq!(key("\u{17F}am"), key("sam"), "the long s");
        assert_eq!(key("ΟΔΟΣ"), key("οδος"), "final sigma");
        assert_eq!(key("ΩΣ_Ω"), key(&"ΩΣ_Ω".to_lowercase()));
        // A name's form is the form of its form: the stigma looks like a final sigma, which
        // looks like an o.
        let stigma = key("\u{3DA}");
        assert_eq!(form_of(&stigma), stigma);
        assert_eq!(stigma, key("o"));
        // A combining mark whose prototype is a compatibility character (U+3099 -> U+FF9E).
        let marked = key("x\u{7a9}\u{ff9e}_x");
        assert_eq!(form_of(&marked), marked);
        assert_ne!(key("alicia"), key("alice"));
        assert_ne!(key("bob"), key("rob"));
    }
}
