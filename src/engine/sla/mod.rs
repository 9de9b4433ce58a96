//! Service-level agreements: business calendars (`calendar`), the clock
//! that turns a ticket's events into due times, breaches and a timeline
//! (`clock`), and the simulator's input, checked (`simulation`). Pure: the
//! time to evaluate at is passed in. The simulator and, later, every
//! ticket's stored due times use the same `evaluate`.

pub mod calendar;
pub mod clock;
pub mod ical;
pub mod policy;
pub mod simulation;

pub use calendar::{Calendar, Holidays, Interval, WeeklyHours};
pub use clock::{SlaEvent, SlaEventKind, SlaReport, SlaTarget, Targets, evaluate};
