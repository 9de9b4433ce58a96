//! Automatic assignment: which of a team's agents gets the next ticket.
//! Round-robin takes turns, least-loaded evens out open work, skills-based
//! prefers the best at what the ticket needs. Ties always go to whoever is
//! next in turn, so no strategy keeps feeding one person.

use crate::domain::desk::AssignmentStrategy;
use uuid::Uuid;

/// A team member who could take the ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    pub user_id: Uuid,
    /// Tickets assigned to them that are still open.
    pub open_tickets: i64,
    /// Their proficiency (1–5) in the skill the ticket needs, if they have it.
    pub proficiency: Option<i32>,
}

/// Why nobody could be picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoCandidate {
    /// The team has no active agent.
    EmptyTeam,
    /// Skills-based: nobody in the team has the skill.
    NoSkill,
}

/// Picks an agent. `candidates` come in a stable order (the turn order);
/// `last` is who got the team's previous ticket. `skill_needed` says whether
/// the ticket's category asks for a skill (without one, skills-based
/// assignment evens out load like least-loaded).
pub fn pick(
    strategy: AssignmentStrategy,
    candidates: &[Candidate],
    last: Option<Uuid>,
    skill_needed: bool,
) -> Result<Uuid, NoCandidate> {
    if candidates.is_empty() {
        return Err(NoCandidate::EmptyTeam);
    }
    // Turn order starts right after whoever went last.
    let start = last
        .and_then(|l| candidates.iter().position(|c| c.user_id == l))
        .map_or(0, |i| i + 1);
    let mut in_turn = (0..candidates.len()).map(|k| candidates[(start + k) % candidates.len()]);
    let best = match strategy {
        AssignmentStrategy::RoundRobin => in_turn.next(),
        AssignmentStrategy::LeastLoaded => in_turn.min_by_key(|c| c.open_tickets),
        AssignmentStrategy::Skills if skill_needed => in_turn
            .filter(|c| c.proficiency.is_some_and(|p| p > 0))
            // Most proficient first, then least loaded.
            .min_by_key(|c| (-c.proficiency.unwrap_or(0), c.open_tickets)),
        AssignmentStrategy::Skills => in_turn.min_by_key(|c| c.open_tickets),
    };
    best.map(|c| c.user_id).ok_or(NoCandidate::NoSkill)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn team(loads: &[(i64, Option<i32>)]) -> Vec<Candidate> {
        loads
            .iter()
            .enumerate()
            .map(|(i, &(open_tickets, proficiency))| Candidate {
                user_id: Uuid::from_u128(i as u128 + 1),
                open_tickets,
                proficiency,
            })
            .collect()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn round_robin_takes_turns_and_wraps() {
        let t = team(&[(9, None), (0, None), (5, None)]);
        let rr = AssignmentStrategy::RoundRobin;
        assert_eq!(pick(rr, &t, None, false), Ok(id(1)));
        assert_eq!(pick(rr, &t, Some(id(1)), false), Ok(id(2)));
        assert_eq!(pick(rr, &t, Some(id(3)), false), Ok(id(1)));
        // Whoever went last left the team: start from the top.
        assert_eq!(pick(rr, &t, Some(id(99)), false), Ok(id(1)));
    }

    #[test]
    fn least_loaded_picks_the_lightest_and_breaks_ties_in_turn() {
        let t = team(&[(3, None), (1, None), (1, None)]);
        let ll = AssignmentStrategy::LeastLoaded;
        assert_eq!(pick(ll, &t, None, false), Ok(id(2)));
        assert_eq!(pick(ll, &t, Some(id(2)), false), Ok(id(3)));
    }

    #[test]
    fn skills_prefers_proficiency_then_load() {
        let t = team(&[(0, None), (4, Some(3)), (2, Some(5)), (0, Some(5))]);
        let sk = AssignmentStrategy::Skills;
        assert_eq!(pick(sk, &t, None, true), Ok(id(4)));
        let nobody = team(&[(0, None), (1, None)]);
        assert_eq!(pick(sk, &nobody, None, true), Err(NoCandidate::NoSkill));
        // No skill asked for: even out the load.
        assert_eq!(pick(sk, &nobody, None, false), Ok(id(1)));
        assert_eq!(pick(sk, &[], None, false), Err(NoCandidate::EmptyTeam));
    }

    proptest! {
        /// Round-robin over n tickets gives everyone n / size (± 1).
        #[test]
        fn round_robin_is_fair(size in 1usize..12, tickets in 0usize..100) {
            let t = team(&vec![(0, None); size]);
            let mut counts = vec![0usize; size];
            let mut last = None;
            for _ in 0..tickets {
                let who = pick(AssignmentStrategy::RoundRobin, &t, last, false).unwrap();
                counts[(who.as_u128() - 1) as usize] += 1;
                last = Some(who);
            }
            let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            prop_assert!(max - min <= 1);
        }

        /// Least-loaded always picks someone with the smallest load.
        #[test]
        fn least_loaded_is_minimal(loads in proptest::collection::vec(0i64..50, 1..12), last in 0u128..14) {
            let t = team(&loads.iter().map(|&l| (l, None)).collect::<Vec<_>>());
            let who = pick(AssignmentStrategy::LeastLoaded, &t, Some(id(last)), false).unwrap();
            let chosen = t.iter().find(|c| c.user_id == who).unwrap();
            prop_assert_eq!(chosen.open_tickets, *loads.iter().min().unwrap());
        }
    }
}
