//! runsvdir's table of services (all OSes): one small record per service directory, found by
//! its (device, inode) key or by its name through sorted index vectors rather than hash maps.
//!
//! At thousands of services the table is most of runsvdir's memory, so a record is kept to 64
//! bytes, the names share one buffer (an allocation per name costs 16 to 32 bytes more than the
//! name), and an index costs 4 bytes per service (a hash map about 30; and a scan that builds
//! maps of its own leaves a heap that stays at its peak).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use crate::child::Pid;

use crate::platform::WatchId;
use crate::svdir::scan::Key;

/// Another name that led to a known service during a scan.
pub(super) struct Alias {
    slot: u32,
    name: Box<OsStr>,
    d_ino: u64,
}

/// Milliseconds since the table was made: 8 bytes where an `Instant` takes 16.
pub(super) type Millis = u64;

/// No directory watch (a valid inotify watch descriptor is never this).
const NO_WATCH: u32 = u32::MAX;

/// Where a service's runsv is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Runsv {
    /// None runs, none is due.
    Idle,
    /// None runs; a start is due at the service's `due`.
    Retry,
    /// It runs; no restart before `due` (a second after its start).
    Running(Pid),
    /// It was sent TERM (the entry went away, or a restart attaches a new log).
    Stopping(Pid),
}

/// What the current scan found of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mark {
    /// Nothing led to it yet.
    Unseen,
    /// Only another name led to it.
    Aliased,
    /// Its own name led to it.
    Named,
}

/// Its `log/` as far as runsvdir is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Log {
    /// runsv found `log/` at its start (or supervises it since): it runs the log service.
    Attached,
    /// No `log/` at the start of this runsv.
    Missing,
    /// A `log/` came later that a restart cannot attach; said so once.
    Reported,
}

/// One service directory and its runsv.
pub(super) struct Service {
    pub key: Key,
    /// Where its name is in the table's name buffer: the name it is started by, one that led
    /// to it at the last scan.
    name_at: u32,
    name_len: u32,
    /// The inode of the directory entry `name` when it was last looked at: while a quick scan
    /// finds the same, the name still leads here and needs no stat.
    pub d_ino: u64,
    /// While running: the earliest time a restart may happen (a second after the start).
    /// While `Runsv::Retry`: when to try to start again.
    pub due: Millis,
    pub runsv: Runsv,
    watch: u32,
    log_watch: u32,
    /// Still in the services directory (as of the last complete scan). Independent of the
    /// other states: a runsv may still run for a service that went away, and a present
    /// service may have none.
    pub present: bool,
    pub mark: Mark,
    pub log: Log,
}

impl Service {
    pub fn pid(&self) -> Option<Pid> {
        match self.runsv {
            Runsv::Running(pid) | Runsv::Stopping(pid) => Some(pid),
            Runsv::Idle | Runsv::Retry => None,
        }
    }

    pub fn retrying(&self) -> bool {
        self.runsv == Runsv::Retry
    }

    pub fn stopping(&self) -> bool {
        matches!(self.runsv, Runsv::Stopping(_))
    }

    pub fn watch(&self) -> Option<WatchId> {
        (self.watch != NO_WATCH).then_some(WatchId(self.watch))
    }

    pub fn log_watch(&self) -> Option<WatchId> {
        (self.log_watch != NO_WATCH).then_some(WatchId(self.log_watch))
    }

    pub fn set_watch(&mut self, id: Option<WatchId>) {
        self.watch = id.map_or(NO_WATCH, |w| w.0);
    }

    pub fn set_log_watch(&mut self, id: Option<WatchId>) {
        self.log_watch = id.map_or(NO_WATCH, |w| w.0);
    }
}

/// The services, each in a slot that keeps its number for its whole life.
pub(super) struct Table {
    slots: Vec<Option<Service>>,
    free: Vec<u32>,
    names: Names,
    /// Slots sorted by key.
    by_key: Vec<u32>,
    /// Slots of present services sorted by name, as of the last scan's end.
    by_name: Vec<u32>,
    /// Watches on service directories (and their `log/`), sorted by id.
    watches: Vec<(WatchId, u32)>,
    epoch: Instant,
}

impl Table {
    /// An empty table whose clock starts at `epoch`.
    pub fn new(epoch: Instant) -> Table {
        Table {
            slots: Vec::new(),
            free: Vec::new(),
            names: Names::default(),
            by_key: Vec::new(),
            by_name: Vec::new(),
            watches: Vec::new(),
            epoch,
        }
    }

    /// `now` on the table's clock.
    pub fn at(&self, now: Instant) -> Millis {
        now.saturating_duration_since(self.epoch).as_millis() as Millis
    }

    /// `d` later than `t`, on the table's clock.
    pub fn after(t: Millis, d: Duration) -> Millis {
        t.saturating_add(d.as_millis() as Millis)
    }

    /// A time on the table's clock as an `Instant`.
    pub fn instant(&self, t: Millis) -> Instant {
        self.epoch + Duration::from_millis(t)
    }

    pub fn get(&self, slot: u32) -> Option<&Service> {
        self.slots.get(slot as usize).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Service> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Every slot in use.
    pub fn slots(&self) -> impl Iterator<Item = (u32, &Service)> + '_ {
        (self.slots.iter().enumerate()).filter_map(|(i, s)| s.as_ref().map(|s| (i as u32, s)))
    }

    pub fn slots_mut(&mut self) -> impl Iterator<Item = (u32, &mut Service)> + '_ {
        (self.slots.iter_mut().enumerate()).filter_map(|(i, s)| s.as_mut().map(|s| (i as u32, s)))
    }

    /// A new present service named `name`, seen in the current scan.
    pub fn insert(&mut self, key: Key, name: &OsStr, d_ino: u64) -> u32 {
        let (name_at, name_len) = self.names.add(name);
        let svc = Service {
            key,
            name_at,
            name_len,
            d_ino,
            due: 0,
            runsv: Runsv::Idle,
            watch: NO_WATCH,
            log_watch: NO_WATCH,
            present: true,
            mark: Mark::Named,
            log: Log::Missing,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                if let Some(cell) = self.slots.get_mut(slot as usize) {
                    *cell = Some(svc);
                }
                slot
            }
            None => {
                self.slots.push(Some(svc));
                (self.slots.len() - 1) as u32
            }
        };
        let at = self.key_pos(key).unwrap_or_else(|at| at);
        self.by_key.insert(at, slot);
        slot
    }

    /// Frees a slot; its watches must be gone already, and it must not be in the name index
    /// (only services that were not present at the last scan's end are removed).
    pub fn remove(&mut self, slot: u32) {
        let Some((key, len)) = self.get(slot).map(|s| (s.key, s.name_len)) else { return };
        if let Ok(at) = self.key_pos(key) {
            self.by_key.remove(at);
        }
        if let Some(cell) = self.slots.get_mut(slot as usize) {
            *cell = None;
        }
        self.free.push(slot);
        self.names.garbage += len as usize;
        if self.free.len() == self.slots.len() {
            // Empty: give the memory back rather than keep the largest size ever reached.
            *self = Table::new(self.epoch);
        } else {
            self.names.compact(&mut self.slots);
        }
    }

    pub fn by_key(&self, key: Key) -> Option<u32> {
        self.key_pos(key).ok().and_then(|at| self.by_key.get(at).copied())
    }

    fn key_pos(&self, key: Key) -> Result<usize, usize> {
        let slots = &self.slots;
        let key_of = |s: &u32| match slots.get(*s as usize) {
            Some(Some(v)) => v.key,
            _ => (0, 0),
        };
        self.by_key.binary_search_by_key(&key, key_of)
    }

    /// The name of `slot` (empty for a free slot).
    pub fn name(&self, slot: u32) -> &OsStr {
        name_of(&self.slots, &self.names, slot)
    }

    /// The present service that `name` led to at the last scan.
    pub fn by_name(&self, name: &OsStr) -> Option<u32> {
        let (slots, names) = (&self.slots, &self.names);
        let found = self.by_name.binary_search_by(|&s| name_of(slots, names, s).cmp(name));
        found.ok().and_then(|at| self.by_name.get(at).copied())
    }

    /// Rebuilds the name index from the present services (at the end of a scan).
    pub fn index_names(&mut self) {
        let mut idx = std::mem::take(&mut self.by_name);
        idx.clear();
        idx.extend(self.slots().filter(|(_, s)| s.present).map(|(i, _)| i));
        let (slots, names) = (&self.slots, &self.names);
        idx.sort_unstable_by(|a, b| name_of(slots, names, *a).cmp(name_of(slots, names, *b)));
        self.by_name = idx;
    }

    /// Starts a scan: nothing is seen yet.
    pub fn begin_scan(&mut self) {
        for (_, s) in self.slots_mut() {
            s.mark = Mark::Unseen;
        }
    }

    /// `name` (entry inode `d_ino`) leads to the service directory `key`. Returns the slot of a
    /// new service (its first name in this scan); for a known one, notes the name, keeping the
    /// first other name in `aliases` in case its own name led elsewhere.
    pub fn saw(
        &mut self,
        name: &OsStr,
        d_ino: u64,
        key: Key,
        aliases: &mut Vec<Alias>,
    ) -> Option<u32> {
        let Some(slot) = self.by_key(key) else {
            return Some(self.insert(key, name, d_ino));
        };
        let own = self.name(slot) == name;
        let svc = self.get_mut(slot)?;
        if own {
            svc.mark = Mark::Named;
            svc.d_ino = d_ino;
        } else if svc.mark != Mark::Named {
            svc.mark = Mark::Aliased;
            if !aliases.iter().any(|a| a.slot == slot) {
                aliases.push(Alias { slot, name: name.into(), d_ino });
            }
        }
        None
    }

    /// Ends a complete scan: a service whose own name no longer leads to it takes the first
    /// other name that does (its runsv runs on; restarts use the new name). Returns the
    /// services found again that need a runsv, and those no longer found (now not present).
    pub fn end_scan(&mut self, aliases: Vec<Alias>) -> (Vec<u32>, Vec<u32>) {
        let (mut found, mut gone) = (Vec::new(), Vec::new());
        for a in aliases {
            if self.get(a.slot).is_some_and(|s| s.mark != Mark::Named) {
                let (at, len) = self.names.add(&a.name);
                if let Some(Some(svc)) = self.slots.get_mut(a.slot as usize) {
                    self.names.garbage += std::mem::replace(&mut svc.name_len, len) as usize;
                    svc.name_at = at;
                    svc.d_ino = a.d_ino;
                }
            }
        }
        self.names.compact(&mut self.slots);
        for (slot, svc) in self.slots_mut() {
            let seen = svc.mark != Mark::Unseen;
            if seen && !svc.present {
                svc.present = true;
                if svc.pid().is_none() {
                    found.push(slot);
                }
            } else if !seen && svc.present {
                svc.present = false;
                if svc.retrying() {
                    svc.runsv = Runsv::Idle;
                }
                gone.push(slot);
            }
        }
        self.index_names();
        (found, gone)
    }

    /// Records that watch `id` belongs to `slot`.
    pub fn add_watch(&mut self, id: WatchId, slot: u32) {
        match self.watches.binary_search_by_key(&id.0, |(w, _)| w.0) {
            Ok(at) => {
                if let Some(w) = self.watches.get_mut(at) {
                    w.1 = slot;
                }
            }
            Err(at) => self.watches.insert(at, (id, slot)),
        }
    }

    pub fn drop_watch(&mut self, id: WatchId) {
        if let Ok(at) = self.watches.binary_search_by_key(&id.0, |(w, _)| w.0) {
            self.watches.remove(at);
        }
    }

    /// The service that owns watch `id`.
    pub fn by_watch(&self, id: WatchId) -> Option<u32> {
        let at = self.watches.binary_search_by_key(&id.0, |(w, _)| w.0).ok()?;
        self.watches.get(at).map(|w| w.1)
    }

    /// The service whose runsv has `pid`.
    pub fn by_pid(&self, pid: Pid) -> Option<u32> {
        self.slots().find(|(_, s)| s.pid() == Some(pid)).map(|(i, _)| i)
    }
}

fn name_of<'a>(slots: &[Option<Service>], names: &'a Names, slot: u32) -> &'a OsStr {
    match slots.get(slot as usize) {
        Some(Some(v)) => names.get(v.name_at, v.name_len),
        _ => OsStr::new(""),
    }
}

/// The names of the services, one after the other in one buffer.
#[derive(Default)]
struct Names {
    bytes: Vec<u8>,
    /// Bytes no service uses any more (removed or renamed).
    garbage: usize,
}

impl Names {
    /// Appends `name`; returns where it is.
    fn add(&mut self, name: &OsStr) -> (u32, u32) {
        let at = self.bytes.len() as u32;
        self.bytes.extend_from_slice(name.as_bytes());
        (at, name.len() as u32)
    }

    fn get(&self, at: u32, len: u32) -> &OsStr {
        let range = at as usize..(at as usize).saturating_add(len as usize);
        OsStr::from_bytes(self.bytes.get(range).unwrap_or_default())
    }

    /// Copies the names in use into a new buffer once more than half of it is garbage.
    fn compact(&mut self, slots: &mut [Option<Service>]) {
        if self.garbage < 1024 || self.garbage * 2 < self.bytes.len() {
            return;
        }
        let mut fresh = Names::default();
        fresh.bytes.reserve(self.bytes.len() - self.garbage);
        for svc in slots.iter_mut().flatten() {
            let name = self.get(svc.name_at, svc.name_len);
            svc.name_at = fresh.add(name).0;
        }
        *self = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One scan of `entries` (name, entry inode, key); returns the new slots, the slots found
    /// again and the slots gone.
    fn scan(t: &mut Table, entries: &[(&str, u64, Key)]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
        t.begin_scan();
        let mut aliases = Vec::new();
        let mut new = Vec::new();
        for (name, ino, key) in entries {
            new.extend(t.saw(OsStr::new(name), *ino, *key, &mut aliases));
        }
        let (found, gone) = t.end_scan(aliases);
        (new, found, gone)
    }

    fn name(t: &Table, slot: u32) -> String {
        t.name(slot).to_string_lossy().into_owned()
    }

    #[test]
    fn new_renamed_aliased_and_gone_services() {
        let mut t = Table::new(Instant::now());
        let (new, found, gone) =
            scan(&mut t, &[("a", 1, (9, 1)), ("b", 2, (9, 2)), ("b2", 3, (9, 2))]);
        assert_eq!(new.len(), 2, "b and b2 are one directory: one service");
        assert!(found.is_empty() && gone.is_empty());
        let (a, b) = (t.by_key((9, 1)).unwrap(), t.by_key((9, 2)).unwrap());
        assert_eq!((name(&t, a), name(&t, b)), ("a".into(), "b".into()));
        assert_eq!(t.by_name(OsStr::new("b")), Some(b));
        assert_eq!(t.by_name(OsStr::new("b2")), None, "only a service's own name is indexed");

        // b renamed to c (b2 first in directory order): the first other name is taken.
        let (new, _, gone) = scan(&mut t, &[("b2", 3, (9, 2)), ("a", 1, (9, 1)), ("c", 4, (9, 2))]);
        assert!(new.is_empty() && gone.is_empty());
        assert_eq!(name(&t, b), "b2");
        assert_eq!(t.get(b).unwrap().d_ino, 3);
        assert_eq!(t.by_name(OsStr::new("b2")), Some(b));

        // a removed: not present any more, its slot stays until its runsv is gone.
        let (_, _, gone) = scan(&mut t, &[("b2", 3, (9, 2))]);
        assert_eq!(gone, vec![a]);
        assert!(!t.get(a).unwrap().present);
        assert_eq!(t.by_name(OsStr::new("a")), None);

        // a back before its runsv ended: present again, and needing a start if none runs.
        let (new, found, _) = scan(&mut t, &[("a", 5, (9, 1)), ("b2", 3, (9, 2))]);
        assert!(new.is_empty());
        assert_eq!(found, vec![a]);
        assert_eq!(t.get(a).unwrap().d_ino, 5);
    }

    #[test]
    fn slots_are_reused_and_the_empty_table_shrinks() {
        let mut t = Table::new(Instant::now());
        let (new, ..) = scan(&mut t, &[("a", 1, (1, 1)), ("b", 2, (1, 2))]);
        let (_, _, gone) = scan(&mut t, &[("b", 2, (1, 2))]);
        assert_eq!(gone, vec![new[0]]);
        t.remove(new[0]);
        assert!(t.by_key((1, 1)).is_none());
        let (again, ..) = scan(&mut t, &[("b", 2, (1, 2)), ("c", 3, (1, 3))]);
        assert_eq!(again, vec![new[0]], "the free slot is used again");
        let (_, _, gone) = scan(&mut t, &[]);
        gone.into_iter().for_each(|s| t.remove(s));
        assert_eq!(t.slots().count(), 0);
        assert_eq!(t.slots.capacity(), 0);
    }

    #[test]
    fn a_record_stays_small() {
        assert!(std::mem::size_of::<Option<Service>>() <= 64);
    }

    #[test]
    fn names_survive_compaction() {
        let mut t = Table::new(Instant::now());
        let long = |i: u64| format!("{i}-{}", "x".repeat(100));
        let all: Vec<(String, u64, Key)> = (0..40).map(|i| (long(i), i, (2, i))).collect();
        let refs: Vec<(&str, u64, Key)> =
            all.iter().map(|(n, i, k)| (n.as_str(), *i, *k)).collect();
        scan(&mut t, &refs);
        // Remove most of them: their names become garbage, then the buffer is compacted.
        let (_, _, gone) = scan(&mut t, &refs[30..]);
        gone.into_iter().for_each(|s| t.remove(s));
        assert!(t.names.bytes.len() < 20 * 104, "compacted: {}", t.names.bytes.len());
        for (n, _, k) in &refs[30..] {
            let slot = t.by_key(*k).unwrap();
            assert_eq!(t.name(slot), OsStr::new(n));
            assert_eq!(t.by_name(OsStr::new(n)), Some(slot));
        }
    }

    #[test]
    fn pids_watches_and_times() {
        let mut t = Table::new(Instant::now());
        let (new, ..) = scan(&mut t, &[("a", 1, (1, 1)), ("b", 2, (1, 2))]);
        let svc = t.get_mut(new[1]).unwrap();
        assert_eq!(svc.pid(), None);
        svc.runsv = Runsv::Running(Pid::from_raw(42));
        svc.set_watch(Some(WatchId(7)));
        assert_eq!(svc.watch(), Some(WatchId(7)));
        assert_eq!(svc.log_watch(), None);
        t.add_watch(WatchId(7), new[1]);
        assert_eq!(t.by_pid(Pid::from_raw(42)), Some(new[1]));
        assert_eq!(t.by_watch(WatchId(7)), Some(new[1]));
        t.drop_watch(WatchId(7));
        assert_eq!(t.by_watch(WatchId(7)), None);
        let start = Instant::now();
        let now = t.at(start);
        assert_eq!(
            t.instant(Table::after(now, Duration::from_secs(1))),
            t.instant(now) + Duration::from_secs(1)
        );
        if let Some(before) = start.checked_sub(Duration::from_secs(5)) {
            assert_eq!(t.at(before), 0, "times before the epoch are its start");
        }
    }
}
