//! People's standings (role, active flag) as the session middleware read
//! them in the last second. Every request needs its caller's current
//! standing; reading it from the database each time cost 0.1–0.2 ms and a
//! third of a cheap route's throughput (docs/PERFORMANCE.md). A change made
//! through this instance forgets the person at once (`forget`); another
//! instance's change is seen within `FRESH_FOR`.

use super::principal::Person;
use crate::server::db::{Db, users};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a standing read from the database is used without reading again.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// More people than this signed in at once: start over rather than grow.
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct Standings {
    /// Person → (their standing, None if inactive or gone; when it was read).
    entries: Mutex<HashMap<Uuid, (Option<Person>, Instant)>>,
}

impl Standings {
    /// The person's standing in `org`, from the last second's read or the database.
    pub async fn get(&self, db: &Db, org: Uuid, id: Uuid) -> Result<Option<Person>, sqlx::Error> {
        let now = Instant::now();
        if let Some((standing, read_at)) = self.lock().get(&id)
            && now.duration_since(*read_at) < FRESH_FOR
        {
            return Ok(standing.clone().filter(|p| p.org == org));
        }
        let standing = users::standing(db, org, id).await?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(id, (standing.clone(), now));
        Ok(standing)
    }

    /// Drops what is known of a person whose role, name or active flag changed.
    pub fn forget(&self, id: Uuid) {
        self.lock().remove(&id);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, (Option<Person>, Instant)>> {
        // A panic elsewhere while holding the lock leaves a valid map.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
