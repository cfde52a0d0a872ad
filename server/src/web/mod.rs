//! What a browser and an integrating program reach over plain HTTP: the routes, the pages'
//! backend (their server functions and form posts), the JSON API, and the shared state every
//! handler gets.

mod accounts;
mod audit;
mod backend;
mod health;
mod history;
mod json;
pub mod metrics;
mod peer;
mod posting;
pub mod routes;
mod search;
pub mod site;
pub mod state;
mod unread;

pub use routes::app;
pub use state::AppState;
