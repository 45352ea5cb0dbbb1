//! Mode's REST API: the HTTP client, HAL helpers and pagination.
//!
//! Paths follow Mode's API reference: everything
//! lives under `{host}/api/`, lists are HAL documents with the items under
//! `_embedded.<key>`, single objects are bare.

pub mod client;
pub mod counters;
pub mod hal;
pub mod page_sizes;
pub mod paginate;
pub mod settings;

pub use client::{Cut, Fetched, Gone, ModeClient, Scope};
pub use counters::ApiCounters;
pub use page_sizes::{MODE_PAGE_SIZE, PageSizes};
pub use paginate::{List, Walk, fetch_all_pages, for_each_item};
pub use settings::{ClientSettings, Credentials, validate_workspace};
