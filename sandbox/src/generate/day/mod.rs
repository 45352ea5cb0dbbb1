//! Simulated days: the generated workspace moves forward, deterministically,
//! and its truth follows.
//!
//! A day `n` (1-based) happens between `FIRST_DAY_MS + (n-1) days` and the
//! next midnight: every timestamp it writes falls inside it, so it is later
//! than anything generated or changed before. Its random stream is ChaCha8
//! seeded from `(plan.seed, n)`.

mod edits;
mod reports;

use std::collections::HashSet;

use serde_json::Value;

use super::World;
use super::ctx::{DAY_MS, FIRST_DAY_MS, Gen, iso};
use super::people;
use crate::day::{DayLog, DayPlan, MAX_ADDED_PER_DAY, share};
use crate::truth::Truth;

/// Everything a generated workspace needs to go on living.
pub(crate) struct Model {
    g: Gen,
    world: World,
    /// Index of the next member (keeps usernames unique).
    next_member: usize,
    /// Days simulated so far.
    day: u64,
}

impl Model {
    pub(crate) fn new(g: Gen, world: World, members: usize) -> Self {
        Model {
            g,
            world,
            next_member: members,
            day: 0,
        }
    }

    /// Applies one day of `plan` to `truth` (the truth this model generated
    /// or last advanced) and says what changed.
    pub(crate) fn advance(&mut self, truth: &mut Truth, plan: &DayPlan) -> DayLog {
        self.day += 1;
        self.g.reseed(day_seed(plan.seed, self.day));
        let start = FIRST_DAY_MS + (self.day as i64 - 1) * DAY_MS;
        let index = reports::index(truth);
        let mut day = Day {
            g: &mut self.g,
            world: &mut self.world,
            index,
            truth,
            start,
            next_member: &mut self.next_member,
            log: DayLog::default(),
        };
        day.members(plan);
        day.reports(plan);
        day.definitions(plan.definitions_rewritten);
        let mut log = day.log;
        log.sort();
        log
    }
}

/// The day's stream: distinct for every (seed, day) pair.
fn day_seed(seed: u64, day: u64) -> u64 {
    seed ^ day.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// One day being applied.
struct Day<'a> {
    g: &'a mut Gen,
    world: &'a mut World,
    truth: &'a mut Truth,
    /// Positions of `truth.reports`.
    index: reports::Index,
    start: i64,
    next_member: &'a mut usize,
    log: DayLog,
}

impl Day<'_> {
    /// An instant of this day, leaving an hour for offsets after it.
    fn at(&mut self) -> i64 {
        self.start + self.g.int(0..=DAY_MS - 3_600_000)
    }

    /// Removes, then adds members (never the token owner, `users[0]`).
    fn members(&mut self, plan: &DayPlan) {
        let removable = self.truth.memberships.len().saturating_sub(1);
        let picked = self.g.distinct(removable, plan.members_removed);
        let gone: Vec<String> = picked
            .iter()
            .filter_map(|&i| self.truth.memberships[i + 1]["member_username"].as_str())
            .map(str::to_owned)
            .collect();
        let is_gone = |v: &Value, key: &str| {
            v[key]
                .as_str()
                .is_some_and(|name| gone.iter().any(|g| g == name))
        };
        self.truth
            .memberships
            .retain(|m| !is_gone(m, "member_username"));
        self.truth.users.retain(|u| !is_gone(u, "username"));
        self.world.members.retain(|m| !gone.contains(m));
        self.log.members_removed = gone;
        for _ in 0..plan.members_added.min(MAX_ADDED_PER_DAY) {
            let person = people::person(self.g, *self.next_member);
            *self.next_member += 1;
            let t = self.at();
            let (mut user, mut membership) = (person.user, person.membership);
            user["created_at"] = Value::from(iso(t));
            membership["activated_at"] = Value::from(iso(t + 60_000));
            self.truth.users.push(user);
            self.truth.memberships.push(membership);
            self.world.members.push(person.username.clone());
            self.log.members_added.push(person.username);
        }
    }

    /// Moves, archives, edits, runs, deletes and adds reports.
    fn reports(&mut self, plan: &DayPlan) {
        let picks = self.pick(plan);
        for token in picks.moved {
            if self.move_report(&token) {
                self.log.moved.push(token);
            }
        }
        for token in picks.archived {
            let t = iso(self.at());
            reports::edit_report(self.truth, &self.index, &token, |r| {
                r["archived"] = Value::Bool(true);
                r["edited_at"] = Value::from(t.clone());
            });
            self.log.archived.push(token);
        }
        for token in picks.edited {
            self.edit(&token);
            self.log.edited.push(token);
        }
        for token in picks.runs_only {
            self.ran(&token);
            self.log.runs_only.push(token);
        }
        reports::delete(self.truth, self.world, &picks.deleted);
        self.log.deleted = picks.deleted;
        self.index = reports::index(self.truth);
        for _ in 0..plan.added.min(MAX_ADDED_PER_DAY) {
            if let Some(token) = self.add() {
                self.log.added.push(token);
            }
        }
    }

    /// Distinct non-archived, unbroken reports for each kind of change.
    fn pick(&mut self, plan: &DayPlan) -> Picks {
        let broken: HashSet<&str> = self
            .truth
            .problems
            .iter()
            .map(|p| p.token.as_str())
            .collect();
        let eligible: Vec<String> = self
            .truth
            .reports
            .iter()
            .filter(|r| r["archived"] == false)
            .filter_map(|r| r["token"].as_str())
            .filter(|t| !broken.contains(t))
            .map(str::to_owned)
            .collect();
        let n = self.truth.reports.len();
        let wanted = [
            plan.deleted,
            plan.moved,
            plan.archived,
            share(plan.edited_fraction, n),
            share(plan.runs_only_fraction, n),
        ];
        let total = wanted.iter().fold(0usize, |a, b| a.saturating_add(*b));
        let order = self.g.distinct(eligible.len(), total);
        let mut tokens = order.into_iter().map(|i| eligible[i].clone());
        let mut take = |k: usize| tokens.by_ref().take(k).collect::<Vec<String>>();
        Picks {
            deleted: take(wanted[0]),
            moved: take(wanted[1]),
            archived: take(wanted[2]),
            edited: take(wanted[3]),
            runs_only: take(wanted[4]),
        }
    }

    /// Shared collections (custom or community), by index in `spaces`.
    fn shared_spaces(&self) -> Vec<usize> {
        (0..self.truth.spaces.len())
            .filter(|&i| i >= 2 && self.truth.spaces[i]["space_type"] != "private")
            .collect()
    }

    /// Moves a report to another shared collection; `false` if there is none.
    fn move_report(&mut self, token: &str) -> bool {
        let current = reports::listing(self.truth, &self.index, token);
        let current = current.map(|r| r["space_token"].clone());
        let targets: Vec<String> = self
            .shared_spaces()
            .into_iter()
            .filter_map(|i| self.truth.spaces[i]["token"].as_str().map(str::to_owned))
            .filter(|t| current.as_ref().and_then(Value::as_str) != Some(t.as_str()))
            .collect();
        if targets.is_empty() {
            return false;
        }
        let target = self.g.pick(&targets).clone();
        let ws = self.g.ws.clone();
        reports::relink(self.truth, &self.index, &ws, token, &target);
        true
    }

    /// A run and nothing else.
    fn ran(&mut self, token: &str) {
        let t = self.at();
        reports::edit_report(self.truth, &self.index, token, |r| {
            let runs = r["runs_count"].as_i64().unwrap_or(0) + 1;
            r["runs_count"] = Value::from(runs);
            r["last_run_at"] = Value::from(iso(t));
            r["last_successfully_run_at"] = Value::from(iso(t + 1650));
        });
    }

    /// A new report in a random shared collection, stamped today.
    fn add(&mut self) -> Option<String> {
        let spaces = self.shared_spaces();
        if spaces.is_empty() {
            return None;
        }
        let space = self.truth.spaces[*self.g.pick(&spaces)].clone();
        let token = super::add_report(self.g, self.truth, self.world, &space);
        let at = self.truth.reports.len() - 1;
        self.index.insert(token.clone(), at);
        let t = self.at();
        reports::stamp_new(self.truth, &self.index, &token, t);
        Some(token)
    }

    /// Rewrites definitions (preferring ones that queries use, directly or
    /// through another definition), then recomputes the lineage they feed.
    fn definitions(&mut self, count: usize) {
        let used = edits::used_definitions(self.world);
        let (mut first, mut rest): (Vec<usize>, Vec<usize>) =
            (0..self.world.defs.len()).partition(|i| used.contains(&self.world.defs[*i].name));
        let a = self.g.distinct(first.len(), first.len());
        first = a.into_iter().map(|i| first[i]).collect();
        let b = self.g.distinct(rest.len(), rest.len());
        rest = b.into_iter().map(|i| rest[i]).collect();
        for index in first.into_iter().chain(rest).take(count) {
            let t = iso(self.at());
            edits::rewrite_definition(self.g, self.world, index, &t);
            self.truth.definitions[index] = self.world.defs[index].value.clone();
            let token = self.world.defs[index].value["token"].as_str();
            self.log
                .definitions
                .push(token.unwrap_or_default().to_owned());
        }
        if count > 0 {
            edits::refresh_expected(self.truth, self.world);
        }
    }

    /// One realistic edit of a report, then its timestamps and counts.
    fn edit(&mut self, token: &str) {
        let t = self.at();
        edits::edit(self, token, t);
        let moved_updated = self.g.chance(0.5);
        reports::edit_report(self.truth, &self.index, token, |r| {
            r["edited_at"] = Value::from(iso(t));
            r["last_saved_at"] = Value::from(iso(t + 11));
            if moved_updated {
                r["updated_at"] = Value::from(iso(t + 60_000));
            }
        });
        reports::refresh_counts(self.truth, &self.index, token);
    }
}

/// The reports chosen for each kind of change.
struct Picks {
    deleted: Vec<String>,
    moved: Vec<String>,
    archived: Vec<String>,
    edited: Vec<String>,
    runs_only: Vec<String>,
}
