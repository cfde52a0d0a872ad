//! What the page keeps in the browser's `localStorage` between visits: small preferences only
//! (who the reader is lives in the session cookie, which scripts cannot read).

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub fn load(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok()?
}

pub fn save(key: &str, value: &str) {
    if let Some(storage) = local_storage() {
        // Private browsing may refuse storage: the preference then lasts for this page only.
        let _ = storage.set_item(key, value);
    }
}
