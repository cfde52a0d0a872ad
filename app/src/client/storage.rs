//! The nickname the reader chose, remembered in `localStorage` between visits.

const NICKNAME_KEY: &str = "chat.nickname";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn saved_nickname() -> Option<String> {
    local_storage()?.get_item(NICKNAME_KEY).ok()?
}

pub fn save_nickname(name: &str) {
    if let Some(storage) = local_storage() {
        // Private browsing may refuse storage: the name then lasts for this page only.
        let _ = storage.set_item(NICKNAME_KEY, name);
    }
}
