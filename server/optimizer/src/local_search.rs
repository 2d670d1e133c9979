//! A tabu search on the disjunctive graph, run before CP-SAT on plants that are a pure job
//! shop (one machine per task, no operators, setups or calendars), whose best schedule becomes
//! CP-SAT's hint (`solve::solve_with`, for shops of `LOCAL_SEARCH_FROM_TASKS` tasks and more).
//!
//! Why: on the classic job shops that CP-SAT does not prove within the limit (la21–la40), its
//! first solutions are far from the optimum and its workers spend the limit closing that
//! distance. Moving operations to the ends of critical blocks and the ends into them (Balas
//! and Vazacopoulos's N6 neighbourhood, slightly widened), ranked by a head-and-tail estimate
//! and kept acyclic by their test, is the textbook way to get close fast; CP-SAT then starts
//! from there and keeps its proof machinery. The walks run in a population (see [`improve`]):
//! random schedules and children of two members as starts keep the search out of a single
//! basin. Only the makespan is searched: the caller uses the result only when the objective is
//! the makespan alone and the independent checker accepts it.
//!
//! Pure arithmetic on the problem data; no I/O, no clock other than the caller's deadline.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::dispatch::{makespan, Placement};
use crate::problem::{MachineIx, Problem, TaskIx};

/// A pure job shop read from a [`Problem`]: every task has one machine and a fixed duration.
#[derive(Debug, Clone)]
pub struct JobShop {
    machine: Vec<usize>,
    duration: Vec<i64>,
    /// Earliest start (release, frozen window).
    release: Vec<i64>,
    /// Precedence (finish-to-start with a minimum lag): (predecessor, lag) per task.
    preds: Vec<Vec<(usize, i64)>>,
    succs: Vec<Vec<(usize, i64)>>,
    machines: usize,
    /// No schedule is shorter: the busiest machine's work after its earliest release, or the
    /// longest chain of precedences.
    lower_bound: i64,
}

impl JobShop {
    /// The job shop behind `p`, or `None` when `p` needs more than this search models: a
    /// machine choice, operators, setups, machine calendars or pinned work.
    pub fn of(p: &Problem) -> Option<JobShop> {
        if p.tasks().is_empty()
            || p.machines()
                .iter()
                .any(|m| !m.unavailable.is_empty() || !m.setups.is_empty())
        {
            return None;
        }
        let n = p.tasks().len();
        let mut js = JobShop {
            machine: Vec::with_capacity(n),
            duration: Vec::with_capacity(n),
            release: Vec::with_capacity(n),
            preds: vec![Vec::new(); n],
            succs: vec![Vec::new(); n],
            machines: p.machines().len(),
            lower_bound: 0,
        };
        for (i, t) in p.tasks().iter().enumerate() {
            let [mode] = t.modes.as_slice() else {
                return None;
            };
            if t.pin.is_some() || t.skill.is_some() || !t.operators.is_empty() {
                return None;
            }
            js.machine.push(mode.machine.0);
            js.duration.push(mode.duration);
            js.release.push(t.release.max(p.frozen_until()));
            for &(pred, lag) in &t.after {
                js.preds[i].push((pred.0, lag));
                js.succs[pred.0].push((i, lag));
            }
        }
        js.lower_bound = js.lower_bound()?;
        Some(js)
    }

    /// `None` when the precedences make a cycle (validation rules that out).
    fn lower_bound(&self) -> Option<i64> {
        let mut load = vec![0i64; self.machines];
        let mut first = vec![i64::MAX; self.machines];
        for i in 0..self.len() {
            load[self.machine[i]] += self.duration[i];
            first[self.machine[i]] = first[self.machine[i]].min(self.release[i]);
        }
        let busiest = (0..self.machines)
            .filter(|&m| load[m] > 0)
            .map(|m| first[m] + load[m])
            .max()
            .unwrap_or(0);
        // Longest chain: earliest starts over the precedences alone, in topological order.
        let mut waiting: Vec<usize> = self.preds.iter().map(Vec::len).collect();
        let mut start = self.release.clone();
        let mut ready: Vec<usize> = (0..self.len()).filter(|&i| waiting[i] == 0).collect();
        let (mut seen, mut chain) = (0, 0);
        while let Some(i) = ready.pop() {
            seen += 1;
            let end = start[i] + self.duration[i];
            chain = chain.max(end);
            for &(s, lag) in &self.succs[i] {
                start[s] = start[s].max(end + lag);
                waiting[s] -= 1;
                if waiting[s] == 0 {
                    ready.push(s);
                }
            }
        }
        (seen == self.len()).then_some(busiest.max(chain))
    }

    fn len(&self) -> usize {
        self.machine.len()
    }
}

/// The order of the tasks on each machine; a schedule is the earliest one that keeps it.
#[derive(Debug, Clone)]
struct Sequence {
    on_machine: Vec<Vec<usize>>,
    /// Position of each task in its machine's order.
    position: Vec<usize>,
    /// Each task's neighbours on its machine ([`NONE`] at the ends). Why kept besides the
    /// order: the evaluation asks for them for every task on every move, and this is one
    /// read instead of three lookups through the order (with [`CriticalBlocks`], 1.2–1.4×
    /// the moves per second; bench/solver/README.md).
    machine_prev: Vec<usize>,
    machine_next: Vec<usize>,
}

/// No neighbour on the machine.
const NONE: usize = usize::MAX;

impl Sequence {
    fn from_starts(js: &JobShop, start: &[i64]) -> Sequence {
        let mut on_machine: Vec<Vec<usize>> = vec![Vec::new(); js.machines];
        for i in 0..js.len() {
            on_machine[js.machine[i]].push(i);
        }
        let mut position = vec![0; js.len()];
        for tasks in &mut on_machine {
            tasks.sort_by_key(|&i| (start[i], i));
            for (k, &i) in tasks.iter().enumerate() {
                position[i] = k;
            }
        }
        let mut seq = Sequence {
            on_machine,
            position,
            machine_prev: vec![NONE; js.len()],
            machine_next: vec![NONE; js.len()],
        };
        for m in 0..js.machines {
            seq.link(m, 0, seq.on_machine[m].len());
        }
        seq
    }

    /// Sets the neighbours of the tasks at positions `first..end` of machine `m`'s order.
    fn link(&mut self, m: usize, first: usize, end: usize) {
        let order = &self.on_machine[m];
        for k in first..end.min(order.len()) {
            let i = order[k];
            self.machine_prev[i] = if k > 0 { order[k - 1] } else { NONE };
            self.machine_next[i] = order.get(k + 1).copied().unwrap_or(NONE);
        }
    }

    fn machine_pred(&self, i: usize) -> Option<usize> {
        let p = self.machine_prev[i];
        (p != NONE).then_some(p)
    }

    fn machine_succ(&self, i: usize) -> Option<usize> {
        let s = self.machine_next[i];
        (s != NONE).then_some(s)
    }

    /// The pairs of tasks whose order `mv` reverses, each as (before, after) in the order now.
    fn reversed_pairs(&self, js: &JobShop, mv: Move) -> impl Iterator<Item = (usize, usize)> + '_ {
        let order = &self.on_machine[js.machine[mv.task]];
        let (from, to) = (self.position[mv.task], self.position[mv.next_to]);
        let later = from < to;
        let passed = if later {
            &order[from + 1..=to]
        } else {
            &order[to..from]
        };
        passed
            .iter()
            .map(move |&l| if later { (mv.task, l) } else { (l, mv.task) })
    }

    /// The machine whose order `mv` changes, and the first and last position it changes.
    fn span(&self, js: &JobShop, mv: Move) -> (usize, usize, usize) {
        let (from, to) = (self.position[mv.task], self.position[mv.next_to]);
        (js.machine[mv.task], from.min(to), from.max(to))
    }

    /// Applies `mv`; returns the move that undoes it.
    fn apply(&mut self, js: &JobShop, mv: Move) -> Move {
        let order = &mut self.on_machine[js.machine[mv.task]];
        let (from, to) = (self.position[mv.task], self.position[mv.next_to]);
        if from < to {
            order[from..=to].rotate_left(1);
        } else {
            order[to..=from].rotate_right(1);
        }
        // The task that now holds `mv.task`'s old place was its neighbour on the far side.
        let undo = Move {
            task: mv.task,
            next_to: order[from],
        };
        let first = from.min(to);
        let last = from.max(to);
        for (k, &i) in order[first..=last].iter().enumerate() {
            self.position[i] = first + k;
        }
        // The tasks just outside the stretch have new neighbours too.
        self.link(js.machine[mv.task], first.saturating_sub(1), last + 2);
        undo
    }
}

/// Moving one task of a critical block next to another task of the same block, on the far
/// side: right after `next_to` when the task comes before it, right before it otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Move {
    task: usize,
    next_to: usize,
}

/// Earliest starts and tails of a sequence; scratch space reused across evaluations.
///
/// After a move it recomputes only what the move can change (`makespan_after_move`). Why: the
/// evaluation was about half of the search's work, and a move leaves every task before the
/// moved stretch in the topological order with its start and every task after it with its
/// tail. On la38 a move re-sorts about 105 of the 225 tasks and recomputes 136 tails; the
/// search made the same moves with a fifth fewer instructions (callgrind,
/// bench/solver/README.md).
struct Evaluator {
    start: Vec<i64>,
    /// Longest path from a task's start to the schedule's end, its own duration included.
    tail: Vec<i64>,
    /// A topological order of the sequence's graph.
    order: Vec<usize>,
    /// Each task's place in `order`.
    rank: Vec<usize>,
    /// The latest end of the tasks in `order` up to and including each place.
    latest_end: Vec<i64>,
    /// Whether `order`, `rank`, `start` and `latest_end` are those of the sequence last
    /// evaluated (not after a move that made a cycle).
    consistent: bool,
    /// Tails at this place of `order` and before may be out of date; `None`: all are current.
    stale_tails: Option<usize>,
    /// The part of `order` a move reorders (scratch of `makespan_after_move`).
    reordered: Vec<usize>,
    indegree: Vec<usize>,
    /// A moved stretch of one machine's order and its new heads (scratch of `move_estimate`).
    stretch: Vec<usize>,
    stretch_head: Vec<i64>,
}

impl Evaluator {
    fn new(n: usize) -> Self {
        Evaluator {
            start: vec![0; n],
            tail: vec![0; n],
            order: Vec::with_capacity(n),
            rank: vec![0; n],
            latest_end: vec![0; n],
            consistent: false,
            stale_tails: n.checked_sub(1),
            reordered: Vec::with_capacity(n),
            indegree: vec![0; n],
            stretch: Vec::new(),
            stretch_head: Vec::new(),
        }
    }

    /// Earliest starts in topological order; `None` when the sequence makes a cycle.
    fn makespan(&mut self, js: &JobShop, seq: &Sequence) -> Option<i64> {
        let n = js.len();
        for i in 0..n {
            self.indegree[i] = js.preds[i].len() + usize::from(seq.machine_pred(i).is_some());
        }
        self.order.clear();
        self.order.extend((0..n).filter(|&i| self.indegree[i] == 0));
        self.start.copy_from_slice(&js.release);
        self.stale_tails = n.checked_sub(1);
        self.place_from(js, seq, 0, 0)
    }

    /// The starts after a move reordered positions `first..=last` of machine `m`'s order
    /// ([`Sequence::span`]), from those before it; `None` when the move made a cycle.
    ///
    /// Only tasks from the moved stretch's first place in the old topological order on can
    /// start elsewhere: the tasks before it reach none of the stretch, and the only arcs that
    /// changed lead into the stretch or out of it to its machine successor, which comes
    /// after it. That part of the order is sorted again by itself; everything before it keeps
    /// its start and its place.
    fn makespan_after_move(
        &mut self,
        js: &JobShop,
        seq: &Sequence,
        (m, first, last): (usize, usize, usize),
    ) -> Option<i64> {
        let stretch = &seq.on_machine[m][first..=last];
        let from = match stretch.iter().map(|&i| self.rank[i]).min() {
            Some(from) if self.consistent => from,
            _ => return self.makespan(js, seq),
        };
        self.reordered.clear();
        self.reordered.extend_from_slice(&self.order[from..]);
        self.order.truncate(from);
        for &i in &self.reordered {
            let mut start = js.release[i];
            let mut waiting = 0;
            for &(p, lag) in &js.preds[i] {
                if self.rank[p] >= from {
                    waiting += 1;
                } else {
                    start = start.max(self.start[p] + js.duration[p] + lag);
                }
            }
            if let Some(p) = seq.machine_pred(i) {
                if self.rank[p] >= from {
                    waiting += 1;
                } else {
                    start = start.max(self.start[p] + js.duration[p]);
                }
            }
            self.start[i] = start;
            self.indegree[i] = waiting;
            if waiting == 0 {
                self.order.push(i);
            }
        }
        let latest = from.checked_sub(1).map_or(0, |k| self.latest_end[k]);
        let makespan = self.place_from(js, seq, from, latest)?;
        // Tails change only for tasks that reach the stretch, which all come before its last
        // place in the new order. Tails still stale from an earlier move may belong to tasks
        // that were just reordered, anywhere from `from` on.
        let to = stretch.iter().map(|&i| self.rank[i]).max().unwrap_or(0);
        self.stale_tails = Some(match self.stale_tails {
            Some(stale) if stale >= from => js.len() - 1,
            Some(stale) => stale.max(to),
            None => to,
        });
        Some(makespan)
    }

    /// Kahn's walk from place `next` of `order`, whose ready tasks are queued there with
    /// their indegrees and starts from the tasks before; `latest` is the latest end before.
    fn place_from(
        &mut self,
        js: &JobShop,
        seq: &Sequence,
        mut next: usize,
        mut latest: i64,
    ) -> Option<i64> {
        while next < self.order.len() {
            let i = self.order[next];
            let end = self.start[i] + js.duration[i];
            latest = latest.max(end);
            self.rank[i] = next;
            self.latest_end[next] = latest;
            next += 1;
            for &(s, lag) in &js.succs[i] {
                self.release(s, end + lag);
            }
            if let Some(s) = seq.machine_succ(i) {
                self.release(s, end);
            }
        }
        self.consistent = self.order.len() == js.len();
        self.consistent.then_some(latest)
    }

    /// One more predecessor of `s` is placed, and `s` may not start before `at`; once all are,
    /// `s` joins the topological order.
    fn release(&mut self, s: usize, at: i64) {
        self.start[s] = self.start[s].max(at);
        self.indegree[s] -= 1;
        if self.indegree[s] == 0 {
            self.order.push(s);
        }
    }
}

impl Evaluator {
    /// Tails, walking the order the last successful evaluation found backwards from the
    /// last place whose tail may be out of date.
    fn tails(&mut self, js: &JobShop, seq: &Sequence) {
        let Some(stale) = self.stale_tails.take() else {
            return;
        };
        let placed = (stale + 1).min(self.order.len());
        for &i in self.order[..placed].iter().rev() {
            let mut after = seq.machine_succ(i).map_or(0, |s| self.tail[s]);
            for &(s, lag) in &js.succs[i] {
                after = after.max(lag + self.tail[s]);
            }
            self.tail[i] = js.duration[i] + after;
        }
    }

    /// Taillard's estimate of the makespan after `mv`, widened from a swap to a move across
    /// several tasks (as Balas and Vazacopoulos do): the longest path through each task of the
    /// moved stretch, its heads recomputed forwards and its tails backwards along the new order,
    /// everything outside the stretch as it is now.
    fn move_estimate(&mut self, js: &JobShop, seq: &Sequence, mv: Move) -> i64 {
        let order = &seq.on_machine[js.machine[mv.task]];
        let (from, to) = (seq.position[mv.task], seq.position[mv.next_to]);
        let (first, last) = (from.min(to), from.max(to));
        self.stretch.clear();
        if from < to {
            self.stretch.extend_from_slice(&order[from + 1..=to]);
            self.stretch.push(mv.task);
        } else {
            self.stretch.push(mv.task);
            self.stretch.extend_from_slice(&order[to..from]);
        }
        self.stretch_head.clear();
        let mut machine_free = match first {
            0 => 0,
            k => self.start[order[k - 1]] + js.duration[order[k - 1]],
        };
        for &i in &self.stretch {
            let mut head = js.release[i].max(machine_free);
            for &(p, lag) in &js.preds[i] {
                head = head.max(self.start[p] + js.duration[p] + lag);
            }
            self.stretch_head.push(head);
            machine_free = head + js.duration[i];
        }
        let mut machine_tail = order.get(last + 1).map_or(0, |&s| self.tail[s]);
        let mut longest = 0;
        for (&i, &head) in self.stretch.iter().zip(&self.stretch_head).rev() {
            let mut after = machine_tail;
            for &(s, lag) in &js.succs[i] {
                after = after.max(lag + self.tail[s]);
            }
            machine_tail = js.duration[i] + after;
            longest = longest.max(head + machine_tail);
        }
        longest
    }

    /// Balas and Vazacopoulos's test that `mv` keeps the graph acyclic, from the current
    /// heads and tails (durations are positive and lags not negative): a task moved later must
    /// not reach `next_to` through its job successors, one moved earlier must not be reached
    /// from `next_to` through its job predecessors. A successor or predecessor that is
    /// `next_to` itself (a precedence between tasks of one machine, which the classic shops
    /// never have) passes the comparison and is ruled out by name.
    fn keeps_acyclic(&self, js: &JobShop, seq: &Sequence, mv: Move) -> bool {
        let (u, v) = (mv.task, mv.next_to);
        if seq.position[u] < seq.position[v] {
            js.succs[u]
                .iter()
                .all(|&(s, _)| s != v && self.tail[s] <= self.tail[v])
        } else {
            let end_v = self.start[v] + js.duration[v];
            js.preds[u]
                .iter()
                .all(|&(p, _)| p != v && self.start[p] + js.duration[p] <= end_v)
        }
    }
}

/// The critical blocks of one critical path: maximal runs of tasks on the path that follow
/// each other directly on one machine. Kept between moves so that finding them allocates
/// nothing: with a fresh list of lists per move the search spent about a tenth of its time
/// in the allocator (perf, la38).
#[derive(Debug, Default)]
struct CriticalBlocks {
    /// The path from a task that starts at its release to one that ends at the makespan.
    path: Vec<usize>,
    /// Where each block ends in `path` (exclusive).
    ends: Vec<usize>,
}

impl CriticalBlocks {
    fn find(&mut self, js: &JobShop, seq: &Sequence, ev: &Evaluator, makespan: i64) {
        self.path.clear();
        self.ends.clear();
        // The path, from its last task back to one that starts at its release.
        let Some(mut i) = (0..js.len()).find(|&i| ev.start[i] + js.duration[i] == makespan) else {
            return;
        };
        self.path.push(i);
        loop {
            let machine_pred = seq
                .machine_pred(i)
                .filter(|&p| ev.start[p] + js.duration[p] == ev.start[i]);
            let job_pred = || {
                js.preds[i]
                    .iter()
                    .find(|&&(p, lag)| ev.start[p] + js.duration[p] + lag == ev.start[i])
                    .map(|&(p, _)| p)
            };
            match machine_pred.or_else(job_pred) {
                Some(p) => {
                    self.path.push(p);
                    i = p;
                }
                None => break,
            }
        }
        self.path.reverse();
        for k in 1..self.path.len() {
            if seq.machine_pred(self.path[k]) != Some(self.path[k - 1]) {
                self.ends.push(k);
            }
        }
        self.ends.push(self.path.len());
    }

    fn iter(&self) -> impl Iterator<Item = &[usize]> + '_ {
        let mut begin = 0;
        self.ends.iter().map(move |&end| {
            let block = &self.path[begin..end];
            begin = end;
            block
        })
    }
}

/// Moves within the critical blocks (Balas and Vazacopoulos's N6 neighbourhood, widened): each
/// task to the front and to the back of its block, and the first and the last task into the
/// block's interior. Only such moves can shorten the critical path at once. N6 leaves out the
/// first block's front and the last block's back; keeping them mattered for the swaps this
/// search began with (without them it stayed at 57 on ft06, optimum 55). On the seven open
/// shops of la21–la40 (3 s, seeds 1–6 summed), swaps of the block ends alone (N5) ended 0.59 %
/// above the optima and these moves 0.50 % (bench/solver/README.md, run O).
fn moves(blocks: &CriticalBlocks, out: &mut Vec<Move>) {
    out.clear();
    for b in blocks.iter() {
        let k = b.len();
        if k < 2 {
            continue;
        }
        let (front, back) = (b[0], b[k - 1]);
        if k == 2 {
            out.push(Move {
                task: front,
                next_to: back,
            });
            continue;
        }
        for &task in &b[1..] {
            out.push(Move {
                task,
                next_to: front,
            });
        }
        for &task in &b[..k - 1] {
            out.push(Move {
                task,
                next_to: back,
            });
        }
        // Interior positions only: the front's swap with its neighbour and the back's are above.
        for &next_to in &b[2..k - 1] {
            out.push(Move {
                task: front,
                next_to,
            });
        }
        for &next_to in &b[1..k - 2] {
            out.push(Move {
                task: back,
                next_to,
            });
        }
    }
}

/// A small deterministic generator (xorshift64*): the search is reproducible for a seed.
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

/// Tabu pairs of tasks, hashed with rustc's Fx hash: SipHash's resistance to chosen keys buys
/// nothing here, and with it the search made up to 30 % fewer moves in its time on la24–la27.
type Tabu = FxHashMap<(usize, usize), u64>;

/// Whether `mv` puts back an order a recent move made: any pair of tasks it reverses is tabu.
fn is_tabu(js: &JobShop, seq: &Sequence, tabu: &Tabu, mv: Move, now: u64) -> bool {
    seq.reversed_pairs(js, mv)
        .any(|pair| tabu.get(&pair).is_some_and(|&until| until > now))
}

/// Applies `mv` and returns the new makespan, with `ev` holding the new starts; a move that
/// makes a cycle is undone, and the makespan is the old one. `None` only when the sequence
/// before the move was cyclic already.
fn apply_or_undo(js: &JobShop, seq: &mut Sequence, ev: &mut Evaluator, mv: Move) -> Option<i64> {
    let span = seq.span(js, mv);
    let undo = seq.apply(js, mv);
    match ev.makespan_after_move(js, seq, span) {
        Some(c) => Some(c),
        None => {
            seq.apply(js, undo);
            ev.makespan(js, seq)
        }
    }
}

/// How long the search may run.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Stop at this instant.
    pub until: Instant,
    /// Stop after this many moves (tests use it for runs that do not depend on the clock).
    pub max_moves: u64,
    /// Seed of the tie-breaks, tabu tenures, random schedules and pairings of the population.
    pub seed: u64,
}

/// Improves `start` (a complete schedule of `js`'s tasks) by a population of tabu walks;
/// returns the best schedule found as placements, or `None` when `start` does not cover every
/// task once. `cancelled` is asked every few dozen moves.
///
/// The first walk starts from `start`, the next [`POPULATION`]` - 1` from random active
/// schedules; after that each walk starts from a child of two members, whose machines each
/// keep the order of one parent ([`active_schedule`]), and a child that ends no longer than
/// the longest member, and is no copy of one, takes that member's place.
///
/// Why a population: a single search restarted from its best schedule with a few random moves
/// stays in the basin it first fell into. On la24 (optimum 935) two such searches side by side
/// ended above it with 7 seeds of 16 (6 s), and every other restart rule tried (elite pools,
/// growing kicks, path relinking between two searches) was within the seeds' noise. Two
/// populations of ten ended above it with 4 of 16, and reached la27's optimum with 8 seeds of
/// 8 instead of 6 (bench/solver/README.md, run T).
pub fn improve(
    js: &JobShop,
    start: &[Placement],
    budget: Budget,
    cancelled: &dyn Fn() -> bool,
) -> Option<Vec<Placement>> {
    improve_with(js, start, budget, cancelled, POPULATION, stall_limit(js))
}

/// A walk ends after this many moves in a row without a better schedule.
fn stall_limit(js: &JobShop) -> u64 {
    2_500 + 10 * js.len() as u64
}

/// [`improve`] with the population's size and the walks' stall limit given (tests use small
/// ones, so that every stage runs within a few thousand moves).
fn improve_with(
    js: &JobShop,
    start: &[Placement],
    budget: Budget,
    cancelled: &dyn Fn() -> bool,
    population: usize,
    stall_limit: u64,
) -> Option<Vec<Placement>> {
    let starts = starts_of(js, start)?;
    let mut walker = Walker::new(js, budget.seed, stall_limit);
    let first = walker.walk_from(js, &starts, &budget, cancelled)?;
    let mut best = first.clone();
    let mut members = vec![first];
    while !walker.over(&budget, cancelled) && best.0 > js.lower_bound && population >= 2 {
        let child = if members.len() < population {
            active_schedule(js, &mut |ready| walker.rng.below(ready.len()))
        } else {
            let a = walker.rng.below(members.len());
            let b = (a + 1 + walker.rng.below(members.len() - 1)) % members.len();
            let from_b: Vec<bool> = (0..js.machines).map(|_| walker.rng.below(2) == 0).collect();
            let (a, b) = (&members[a].1, &members[b].1);
            active_schedule(js, &mut |ready| {
                first_in_order(if from_b[js.machine[ready[0]]] { b } else { a }, ready)
            })
        };
        let found = walker.walk_from(js, &child, &budget, cancelled)?;
        if found.0 < best.0 {
            best = found.clone();
        }
        if members.len() < population {
            members.push(found);
        } else if let Some(longest) = (0..members.len()).max_by_key(|&k| members[k].0) {
            if found.0 <= members[longest].0
                && members.iter().all(|m| m.1.position != found.1.position)
            {
                members[longest] = found;
            }
        }
    }
    schedule_of(js, &best.1)
}

/// One search from `start`, restarted from its best schedule shaken by three random critical
/// moves whenever `stall_limit` moves in a row found nothing better than that best (the search
/// before the population). Why kept: it digs deeper into one basin than the population's
/// shorter walks, and on la29 that is where the shorter schedules were (6 s, seeds 1–8: 1156–1165
/// against the population's 1164 with every seed); [`improve_in_parallel`] runs both.
fn improve_by_restarts(
    js: &JobShop,
    start: &[Placement],
    budget: Budget,
    cancelled: &dyn Fn() -> bool,
    stall_limit: u64,
) -> Option<Vec<Placement>> {
    let starts = starts_of(js, start)?;
    let mut walker = Walker::new(js, budget.seed, stall_limit);
    let mut best = walker.walk_from(js, &starts, &budget, cancelled)?;
    while !walker.over(&budget, cancelled) && best.0 > js.lower_bound {
        let mut seq = best.1.clone();
        let mut current = walker.ev.makespan(js, &seq)?;
        for _ in 0..3 {
            // Untested for acyclicity (a kick may go where the search would not); a move that
            // makes a cycle is undone.
            walker.blocks.find(js, &seq, &walker.ev, current);
            moves(&walker.blocks, &mut walker.candidates);
            if walker.candidates.is_empty() {
                break;
            }
            let kick = walker.candidates[walker.rng.below(walker.candidates.len())];
            current = apply_or_undo(js, &mut seq, &mut walker.ev, kick)?;
        }
        let found = walker.walk(js, seq, best.0, &budget, cancelled)?;
        if found.0 < best.0 {
            best = found;
        }
    }
    schedule_of(js, &best.1)
}

/// Each task's start in `start`; `None` unless it places every task of `js` once.
fn starts_of(js: &JobShop, start: &[Placement]) -> Option<Vec<i64>> {
    let mut starts = vec![i64::MIN; js.len()];
    for pl in start {
        *starts.get_mut(pl.task.0)? = pl.start;
    }
    (!starts.contains(&i64::MIN)).then_some(starts)
}

/// The earliest schedule that keeps `seq`.
fn schedule_of(js: &JobShop, seq: &Sequence) -> Option<Vec<Placement>> {
    let mut ev = Evaluator::new(js.len());
    ev.makespan(js, seq)?;
    Some(placements(js, &ev.start))
}

/// The schedule of `js` with these starts.
fn placements(js: &JobShop, start: &[i64]) -> Vec<Placement> {
    (0..js.len())
        .map(|i| Placement {
            task: TaskIx(i),
            machine: MachineIx(js.machine[i]),
            operator: None,
            start: start[i],
            end: start[i] + js.duration[i],
        })
        .collect()
}

/// Which of `ready` (tasks of one machine) comes first in `parent`'s order of that machine.
fn first_in_order(parent: &Sequence, ready: &[usize]) -> usize {
    (0..ready.len())
        .min_by_key(|&k| parent.position[ready[k]])
        .unwrap_or(0)
}

/// The size of [`improve`]'s population. Why ten: in a first version of the population (two
/// side by side, 6 s), ten members reached la24's optimum with 11 seeds of 16 and twenty with
/// 13, but twenty ended la21 at 1047 instead of its optimum with 2 seeds of 8 and ten with none
/// (bench/solver/README.md, run T).
pub const POPULATION: usize = 10;

/// One tabu walk's state and scratch, kept from walk to walk: the move count (the budget and
/// the tenures count moves across walks) and the random stream.
struct Walker {
    ev: Evaluator,
    /// Putting b before a again, where a move put a before b (the key (a, b)), is forbidden
    /// until the move given.
    tabu: Tabu,
    rng: Random,
    blocks: CriticalBlocks,
    candidates: Vec<Move>,
    /// Nowicki and Smutnicki's tenure: 10 + jobs / machines (here tasks / machines²).
    tenure_base: u64,
    /// A walk ends after this many moves in a row without a shorter schedule ([`Walker::walk`]).
    stall_limit: u64,
    moves_made: u64,
}

impl Walker {
    fn new(js: &JobShop, seed: u64, stall_limit: u64) -> Self {
        let n = js.len();
        Walker {
            ev: Evaluator::new(n),
            tabu: Tabu::default(),
            rng: Random::new(seed),
            blocks: CriticalBlocks::default(),
            candidates: Vec::new(),
            tenure_base: 10 + (n / (js.machines * js.machines).max(1)) as u64,
            stall_limit,
            moves_made: 0,
        }
    }

    /// Tabu search from `seq` until `stall_limit` moves in a row find nothing shorter than
    /// both `beat` and the walk's best, the budget ends or the lower bound is reached; a tabu
    /// move is taken when its estimate is below both. Returns the walk's best makespan and
    /// sequence, or `None` when `seq` makes a cycle.
    fn walk(
        &mut self,
        js: &JobShop,
        mut seq: Sequence,
        beat: i64,
        budget: &Budget,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<(i64, Sequence)> {
        self.tabu.clear();
        let mut current = self.ev.makespan(js, &seq)?;
        let mut best = (current, seq.clone());
        let mut record = beat.min(current);
        let mut since_best = 0;
        while since_best < self.stall_limit
            && self.moves_made < budget.max_moves
            && best.0 > js.lower_bound
        {
            if self.moves_made.is_multiple_of(64) && self.over(budget, cancelled) {
                break;
            }
            self.moves_made += 1;
            // `ev` holds the starts of `seq` here.
            self.blocks.find(js, &seq, &self.ev, current);
            moves(&self.blocks, &mut self.candidates);
            if self.candidates.is_empty() {
                // The critical path is a chain of precedences: no schedule is shorter.
                break;
            }
            self.ev.tails(js, &seq);
            let ev = &self.ev;
            self.candidates.retain(|&mv| ev.keeps_acyclic(js, &seq, mv));
            // Every critical move might close a cycle (precedences within one machine): the
            // neighbourhood is empty, and the walk's best schedule is its answer.
            let Some(mv) = self.choose(js, &seq, record) else {
                break;
            };
            let until = self.moves_made
                + self.tenure_base / 2
                + self.rng.below(self.tenure_base as usize) as u64;
            for (before, after) in seq.reversed_pairs(js, mv) {
                self.tabu.insert((after, before), until);
            }
            // `keeps_acyclic` rules a cycle out; should one appear anyway, the move is undone.
            current = apply_or_undo(js, &mut seq, &mut self.ev, mv)?;
            if current < best.0 {
                best = (current, seq.clone());
            }
            if current < record {
                record = current;
                since_best = 0;
            } else {
                since_best += 1;
            }
        }
        Some(best)
    }

    /// A walk from the machine orders of a schedule with these starts, on its own.
    fn walk_from(
        &mut self,
        js: &JobShop,
        starts: &[i64],
        budget: &Budget,
        cancelled: &dyn Fn() -> bool,
    ) -> Option<(i64, Sequence)> {
        self.walk(
            js,
            Sequence::from_starts(js, starts),
            i64::MAX,
            budget,
            cancelled,
        )
    }

    /// Whether the budget is spent or the caller cancelled.
    fn over(&self, budget: &Budget, cancelled: &dyn Fn() -> bool) -> bool {
        self.moves_made >= budget.max_moves || Instant::now() >= budget.until || cancelled()
    }

    /// The candidate with the lowest estimate that is not tabu (or beats `best`), ties broken
    /// at random; when every one is tabu, one at random so that the tenures run out. `None`
    /// when there is no candidate.
    fn choose(&mut self, js: &JobShop, seq: &Sequence, best: i64) -> Option<Move> {
        let mut chosen: Option<(i64, Move)> = None;
        let mut ties = 0;
        for &mv in &self.candidates {
            let value = self.ev.move_estimate(js, seq, mv);
            if value >= best && is_tabu(js, seq, &self.tabu, mv, self.moves_made) {
                continue;
            }
            match chosen {
                Some((c, _)) if value > c => {}
                Some((c, _)) if value == c => {
                    ties += 1;
                    if self.rng.below(ties + 1) == 0 {
                        chosen = Some((value, mv));
                    }
                }
                _ => {
                    ties = 0;
                    chosen = Some((value, mv));
                }
            }
        }
        match chosen {
            Some((_, mv)) => Some(mv),
            None if self.candidates.is_empty() => None,
            None => Some(self.candidates[self.rng.below(self.candidates.len())]),
        }
    }
}

/// Starts of an active schedule built task by task (Giffler and Thompson): the ready task
/// that can end first names a machine, and `choose` picks which of that machine's ready tasks
/// able to start before that end goes next (an index into the slice it is given). Why: any
/// choice gives a schedule that keeps every precedence and machine, so random choices make
/// the population's first members and a parent's machine order makes a child.
fn active_schedule(js: &JobShop, choose: &mut dyn FnMut(&[usize]) -> usize) -> Vec<i64> {
    let n = js.len();
    let mut waiting: Vec<usize> = js.preds.iter().map(Vec::len).collect();
    let mut earliest = js.release.clone();
    let mut machine_free = vec![i64::MIN; js.machines];
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    let mut start = vec![0; n];
    let mut conflict = Vec::new();
    loop {
        // When a ready task could start now, after its predecessors and its machine.
        let at = |i: usize| earliest[i].max(machine_free[js.machine[i]]);
        let Some(&first) = ready.iter().min_by_key(|&&i| (at(i) + js.duration[i], i)) else {
            break;
        };
        let m = js.machine[first];
        let end = at(first) + js.duration[first];
        conflict.clear();
        conflict.extend(
            ready
                .iter()
                .copied()
                .filter(|&i| js.machine[i] == m && at(i) < end),
        );
        let chosen = conflict[choose(&conflict).min(conflict.len() - 1)];
        start[chosen] = at(chosen);
        let done = start[chosen] + js.duration[chosen];
        machine_free[m] = done;
        ready.retain(|&i| i != chosen);
        for &(s, lag) in &js.succs[chosen] {
            earliest[s] = earliest[s].max(done + lag);
            waiting[s] -= 1;
            if waiting[s] == 0 {
                ready.push(s);
            }
        }
    }
    start
}

/// Runs `searches` independent searches from `start` at once, each on a thread of its own with
/// its own seed, and returns the shortest schedule. Why: the caller grants CP-SAT `searches`
/// workers, and a single search left all but one of those cores idle for its share of the
/// limit; on la21–la40 one search's makespan spreads widely with the seed (la29, 6 s, seeds
/// 1–6: 1164–1178), so the best of several is worth the cores (bench/solver/README.md, run Q).
/// The first search, and every other one after it, is the population ([`improve`]); the second,
/// and every other one, a single search restarted from its best ([`improve_by_restarts`]). Why
/// both: each found schedules the other missed (6 s, two side by side of one kind, seeds 1–8:
/// the population la27 1235 with all eight and la38 1196 with four, the restarts la29
/// 1156–1158 with three); one of each reached la24's optimum with 12 seeds of 16, la27's with
/// 8 of 8 and la38's with 5 of 8 (bench/solver/README.md, runs T and U).
/// The searches share nothing but a stop flag: one that reaches the lower bound stops the
/// others, and the calling thread passes a cancel on (`cancelled` need not be shareable).
pub fn improve_in_parallel(
    js: &JobShop,
    start: &[Placement],
    budget: Budget,
    searches: usize,
    cancelled: &dyn Fn() -> bool,
) -> Option<Vec<Placement>> {
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let running: Vec<_> = (0..searches.max(1))
            .map(|k| {
                // The first search keeps the caller's seed; the others get streams of their
                // own, so that seed s and seed s + 1 share no search.
                let budget = Budget {
                    seed: budget.seed.wrapping_add((k as u64) << 32),
                    ..budget
                };
                let stop = &stop;
                scope.spawn(move || {
                    let stopped = || stop.load(Ordering::Relaxed);
                    let found = if k % 2 == 0 {
                        improve(js, start, budget, &stopped)
                    } else {
                        improve_by_restarts(js, start, budget, &stopped, stall_limit(js))
                    };
                    if found
                        .as_deref()
                        .is_some_and(|f| makespan(f) <= js.lower_bound)
                    {
                        stop.store(true, Ordering::Relaxed);
                    }
                    found
                })
            })
            .collect();
        while running.iter().any(|search| !search.is_finished()) {
            if cancelled() {
                stop.store(true, Ordering::Relaxed);
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        running
            .into_iter()
            .filter_map(|search| search.join().ok().flatten())
            .min_by_key(|found| makespan(found))
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// A random pure job shop whose precedences form any DAG with lags, so that tasks of one
    /// machine may wait for each other.
    fn random_shop() -> impl Strategy<Value = Problem> {
        let task = (
            0usize..3,
            1i64..=9,
            0i64..=6,
            prop::collection::vec((any::<prop::sample::Index>(), 0i64..=4), 0..=2),
        );
        prop::collection::vec(task, 2..=12).prop_map(|tasks| {
            let tasks: Vec<_> = tasks
                .iter()
                .enumerate()
                .map(|(i, (machine, duration, release, after))| {
                    let mut preds: Vec<(usize, i64)> = match i {
                        0 => Vec::new(),
                        _ => after.iter().map(|(ix, lag)| (ix.index(i), *lag)).collect(),
                    };
                    preds.sort_unstable();
                    preds.dedup_by_key(|p| p.0);
                    json!({
                        "id": format!("T{i}"),
                        "release": release,
                        "modes": [{"machine": format!("M{machine}"), "duration": duration}],
                        "after": preds.iter()
                            .map(|(p, lag)| json!({"task": format!("T{p}"), "min_lag": lag}))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::from_value(json!({
                "machines": [{"id": "M0"}, {"id": "M1"}, {"id": "M2"}],
                "tasks": tasks,
            }))
            .expect("a valid problem")
        })
    }

    /// Where the walks along moves start: the dispatching rule's sequence of `p`, evaluated.
    fn dispatching_rule_walk_start(p: &Problem) -> (JobShop, Sequence, Evaluator, i64) {
        let js = JobShop::of(p).expect("a pure job shop");
        let starts = starts_of(&js, &crate::dispatch::greedy(p)).expect("a complete plan");
        let seq = Sequence::from_starts(&js, &starts);
        let mut ev = Evaluator::new(js.len());
        let makespan = ev
            .makespan(&js, &seq)
            .expect("the dispatching rule's order");
        (js, seq, ev, makespan)
    }

    /// A job shop of ../shared/data/jobshop, its search form and the dispatching rule's plan.
    fn benchmark_shop(name: &str) -> (Problem, JobShop, Vec<Placement>) {
        let path = format!(
            "{}/../../../shared/data/jobshop/{name}.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).expect("an instance of ../shared/data/jobshop");
        let p = crate::formats::parse_jobshop(&text).expect("the instance parses");
        let js = JobShop::of(&p).expect("a pure job shop");
        let plan = crate::dispatch::greedy(&p);
        (p, js, plan)
    }

    /// A budget of moves, with a deadline far enough away never to decide a run.
    fn by_moves(max_moves: u64, seed: u64) -> Budget {
        Budget {
            until: Instant::now() + std::time::Duration::from_secs(60),
            max_moves,
            seed,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every critical move the acyclicity test lets through leaves a schedule; walked
        /// along random such moves, so that later steps start from sequences the dispatching
        /// rule would not make.
        #[test]
        fn moves_passing_the_acyclicity_test_leave_a_schedule(
            p in random_shop(),
            picks in prop::collection::vec(any::<prop::sample::Index>(), 8),
        ) {
            let (js, mut seq, mut ev, mut current) = dispatching_rule_walk_start(&p);
            let mut candidates = Vec::new();
            let mut blocks = CriticalBlocks::default();
            for pick in picks {
                blocks.find(&js, &seq, &ev, current);
                moves(&blocks, &mut candidates);
                ev.tails(&js, &seq);
                candidates.retain(|&mv| ev.keeps_acyclic(&js, &seq, mv));
                for &mv in &candidates {
                    let mut moved = seq.clone();
                    let undo = moved.apply(&js, mv);
                    prop_assert!(Evaluator::new(js.len()).makespan(&js, &moved).is_some(), "{mv:?}");
                    // The neighbours kept beside the order are those of the order itself.
                    let mut moved_starts = vec![0; js.len()];
                    for order in &moved.on_machine {
                        for (k, &i) in order.iter().enumerate() {
                            moved_starts[i] = k as i64;
                        }
                    }
                    let rebuilt = Sequence::from_starts(&js, &moved_starts);
                    prop_assert_eq!(&moved.machine_prev, &rebuilt.machine_prev);
                    prop_assert_eq!(&moved.machine_next, &rebuilt.machine_next);
                    moved.apply(&js, undo);
                    prop_assert_eq!(&moved.on_machine, &seq.on_machine);
                }
                if candidates.is_empty() {
                    break;
                }
                seq.apply(&js, candidates[pick.index(candidates.len())]);
                current = ev.makespan(&js, &seq).expect("checked above");
            }
        }

        /// The evaluation after a move, which recomputes only what the move can change, gives
        /// the makespan, starts and tails of one from scratch. Walked along random critical
        /// moves without the acyclicity test, so that some make a cycle (and are undone), and
        /// with tails not always asked for between two moves (the evaluation must not rely on it).
        #[test]
        fn the_evaluation_after_a_move_equals_one_from_scratch(
            p in random_shop(),
            picks in prop::collection::vec((any::<prop::sample::Index>(), any::<bool>()), 12),
        ) {
            let (js, mut seq, mut ev, mut current) = dispatching_rule_walk_start(&p);
            let mut candidates = Vec::new();
            let mut blocks = CriticalBlocks::default();
            for (pick, ask_tails) in picks {
                blocks.find(&js, &seq, &ev, current);
                moves(&blocks, &mut candidates);
                if candidates.is_empty() {
                    break;
                }
                let mv = candidates[pick.index(candidates.len())];
                let span = seq.span(&js, mv);
                let undo = seq.apply(&js, mv);
                let after = ev.makespan_after_move(&js, &seq, span);
                let mut fresh = Evaluator::new(js.len());
                prop_assert_eq!(after, fresh.makespan(&js, &seq), "{:?}", mv);
                let Some(after) = after else {
                    seq.apply(&js, undo);
                    current = ev.makespan(&js, &seq).expect("the order before the move");
                    continue;
                };
                prop_assert_eq!(&ev.start, &fresh.start);
                if ask_tails {
                    ev.tails(&js, &seq);
                    fresh.tails(&js, &seq);
                    prop_assert_eq!(&ev.tail, &fresh.tail);
                }
                current = after;
            }
        }

        /// Both searches on the same shops, the one restarted from its best with short walks
        /// so that it restarts often: each schedule keeps every rule by the independent
        /// checker and is never longer than the one it started from.
        #[test]
        fn the_searches_keep_every_rule(p in random_shop(), seed in 0u64..4) {
            let js = JobShop::of(&p).expect("a pure job shop");
            let plan = crate::dispatch::greedy(&p);
            let population = improve(&js, &plan, by_moves(400, seed), &|| false);
            let restarted = improve_by_restarts(&js, &plan, by_moves(2_000, seed), &|| false, 30);
            for found in [population, restarted] {
                let found = found.expect("a complete start");
                let violations = crate::checker::check(&p, &crate::dispatch::schedule(&p, &found));
                prop_assert!(violations.is_empty(), "{violations:?}");
                prop_assert!(makespan(&found) <= makespan(&plan));
            }
        }

        /// Random choices give a schedule that keeps every rule by the independent checker.
        #[test]
        fn an_active_schedule_keeps_every_rule(p in random_shop(), seed in 0u64..1_000) {
            let js = JobShop::of(&p).expect("a pure job shop");
            let mut rng = Random::new(seed);
            let starts = active_schedule(&js, &mut |ready| rng.below(ready.len()));
            let plan = placements(&js, &starts);
            let violations = crate::checker::check(&p, &crate::dispatch::schedule(&p, &plan));
            prop_assert!(violations.is_empty(), "{violations:?}");
        }

        /// A child whose machines all follow one parent is that parent, when the parent is an
        /// active schedule (as every random member is): the crossover keeps the order both
        /// parents agree on, and only that order.
        #[test]
        fn a_child_of_one_parent_is_that_parent(p in random_shop(), seed in 0u64..1_000) {
            let js = JobShop::of(&p).expect("a pure job shop");
            let mut rng = Random::new(seed);
            let parent_starts = active_schedule(&js, &mut |ready| rng.below(ready.len()));
            let parent = Sequence::from_starts(&js, &parent_starts);
            let child = active_schedule(&js, &mut |ready| first_in_order(&parent, ready));
            prop_assert_eq!(child, parent_starts);
        }

        /// The population search with four members and short walks, so that random members,
        /// children and replacements all happen within the budget: its schedule keeps every
        /// rule and is never longer than its first walk alone (a population of one).
        #[test]
        fn the_population_keeps_every_rule(p in random_shop(), seed in 0u64..4) {
            let js = JobShop::of(&p).expect("a pure job shop");
            let plan = crate::dispatch::greedy(&p);
            let budget = by_moves(2_000, seed);
            let found = improve_with(&js, &plan, budget, &|| false, 4, 30).expect("a complete start");
            let alone = improve_with(&js, &plan, budget, &|| false, 1, 30).expect("a complete start");
            let violations = crate::checker::check(&p, &crate::dispatch::schedule(&p, &found));
            prop_assert!(violations.is_empty(), "{violations:?}");
            prop_assert!(makespan(&found) <= makespan(&alone));
        }

        /// Searches side by side: the first runs with the caller's seed (one alone is that
        /// search), so the best of them is never longer than it, and it keeps every rule.
        #[test]
        fn searches_side_by_side_are_never_worse_than_the_first(
            p in random_shop(),
            seed in 0u64..4,
            searches in 1usize..=3,
        ) {
            let js = JobShop::of(&p).expect("a pure job shop");
            let plan = crate::dispatch::greedy(&p);
            let budget = by_moves(300, seed);
            let alone = improve(&js, &plan, budget, &|| false).expect("a complete start");
            let best = improve_in_parallel(&js, &plan, budget, searches, &|| false)
                .expect("a complete start");
            if searches == 1 {
                prop_assert_eq!(&best, &alone);
            }
            prop_assert!(makespan(&best) <= makespan(&alone));
            let violations = crate::checker::check(&p, &crate::dispatch::schedule(&p, &best));
            prop_assert!(violations.is_empty(), "{violations:?}");
        }
    }

    /// A cancel reaches every search: with the deadline a minute away, the searches stop
    /// soon after it and still return the best schedule so far.
    #[test]
    fn a_cancel_stops_searches_side_by_side() {
        let (p, js, plan) = benchmark_shop("la29");
        let asked = Instant::now();
        let budget = Budget {
            until: asked + std::time::Duration::from_secs(60),
            max_moves: u64::MAX,
            seed: 1,
        };
        let cancel_after = asked + std::time::Duration::from_millis(200);
        let found = improve_in_parallel(&js, &plan, budget, 2, &|| Instant::now() >= cancel_after)
            .expect("a complete start");
        assert!(asked.elapsed() < std::time::Duration::from_secs(30));
        let violations = crate::checker::check(&p, &crate::dispatch::schedule(&p, &found));
        assert!(violations.is_empty(), "{violations:?}");
    }

    /// The population pays: on ft10 (optimum 930), with walks that give up after 200 moves
    /// without a better schedule, ten members end shorter than the first walk alone within the
    /// same 20,000 moves (997 alone, 935–949 with the population, seeds 1–3).
    #[test]
    fn a_population_ends_shorter_than_its_first_walk() {
        let (_, js, plan) = benchmark_shop("ft10");
        for seed in 1..=3 {
            let budget = by_moves(20_000, seed);
            let alone =
                improve_with(&js, &plan, budget, &|| false, 1, 200).expect("a complete start");
            let found =
                improve_with(&js, &plan, budget, &|| false, 10, 200).expect("a complete start");
            assert!(
                makespan(&found) < makespan(&alone),
                "seed {seed}: {} with the population, {} alone",
                makespan(&found),
                makespan(&alone)
            );
        }
    }
}
