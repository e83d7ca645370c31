//! Each bundle's screens and paths (the router's `Screens`) and the state its pages
//! share: named by the pages and the bundle's root alike, so neither imports the other.

pub mod mall;
pub mod member;
pub mod staff;
