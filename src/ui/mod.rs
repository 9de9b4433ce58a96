//! Leptos components and pages. `frame` is the signed-in layout; pages are
//! grouped by audience and grow into `portal/`, `desk/`, `manager/`,
//! `exec/`, `admin/` and `field/` as those areas fill in.

pub mod access;
pub mod area_pages;
pub mod audit;
pub mod auth_pages;
pub mod desk;
pub mod forms;
pub mod frame;
pub mod live;
pub mod notifications;
pub mod people;
pub mod pulse;
pub mod sla_admin;
pub mod status_pages;
pub mod tickets;
