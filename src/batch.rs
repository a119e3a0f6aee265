//! The `check --requests` engine: read JSON Lines, answer each line, write the answers in input order.
//!
//! The input is read as bytes, in rounds of whole lines (split with `memchr`, no `String` per line, the
//! round checked as UTF-8 at once). A round's lines are answered grouped by identity, so that each
//! identity's policies are fetched into the processor's caches once per round rather than once per line
//! ([`answer_order`]). A round is answered on every core (rayon's pool, in a scope: the compiled [`Engine`] is
//! immutable and shared by reference), each worker taking pieces of that order in turn, the calling thread
//! joining in once it has written the round before (its answers gathered in input order) and read the next
//! one. A round too small to split is answered on the calling thread in input order, each
//! answer written at once. Rounds are sized by format so that the answers held in memory stay small.
//!
//! Each line is answered exactly as a one-line `check` would be: a bad line gets an error object
//! (`{"line", "error", "file"}`) and the rest go on. A line in the plain form is read in place
//! ([`RequestRef::parse_plain`]); any other goes through the loader's careful [`load::request_line`],
//! whose words every error keeps. Each thread refills one request ([`Engine::prepare_with`]) and
//! keeps the brief's buffers from line to line. In text, each answer's summary is written in place by
//! [`report::write_summary`] from [`Engine::explain_with`] in brief (the decisive entries without checks); in JSON,
//! it comes from the full [`Engine::explain`].
//!
//! [`load::request_line`]: crate::load::request_line
//! [`report::write_summary`]: crate::report::write_summary

use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::eval::{Detail, Prepared, Scratch};
use crate::load::{Limits, MAX_DEPTH_CEILING};
use crate::model::request::RequestRef;
use crate::{Engine, Verdict};

/// How the answers are written: one line of text, or one JSON object, per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// What a batch answered: lines evaluated, of which allowed, and lines that could not be evaluated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub evaluated: usize,
    pub allowed: usize,
    pub bad: usize,
}

/// How a format cuts the work.
struct Sizes {
    /// Lines read and answered per round: a round's answers are held until it is written.
    round: usize,
    /// Lines taken by a worker at a time.
    piece: usize,
    /// Bytes asked of the reader at a time.
    block: usize,
}

/// Text answers are about 200 bytes each. A piece is a few milliseconds of work: the last one to finish
/// keeps the other threads waiting at the end of the round.
const TEXT: Sizes = Sizes {
    round: 32 * 1024,
    piece: 256,
    block: 1 << 20,
};

/// JSON answers carry the whole trace (hundreds of kB for a permission asked of an identity with many
/// policies), so that a round holds tens of MB, not GB.
const JSON: Sizes = Sizes {
    round: 64,
    piece: 4,
    block: 64 << 10,
};

/// One input line: where its text is in the round (without its line end), or why it could not be read.
type Line = Result<Range<usize>, String>;

/// Lines read together, in the order they are to be answered in (see [`answer_order`]): their text, laid
/// out in that order, the number of the first line of the round, each line, and where it was in the input.
struct Round {
    text: Text,
    first: usize,
    lines: Vec<Line>,
    /// Per line, its index in the input's round (0 for the first line of the round).
    index: Vec<u32>,
}

/// A round's text: checked as UTF-8 at once when it all is (the usual case), so that a line is a slice
/// of it; else each line is checked on its own.
enum Text {
    Utf8(String),
    Bytes(Vec<u8>),
}

impl Text {
    fn new(bytes: Vec<u8>) -> Self {
        String::from_utf8(bytes).map_or_else(|e| Text::Bytes(e.into_bytes()), Text::Utf8)
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Text::Utf8(s) => s.into_bytes(),
            Text::Bytes(b) => b,
        }
    }
}

impl Round {
    fn line(&self, line: &Line) -> Result<&str, String> {
        let range = line.as_ref().map_err(Clone::clone)?;
        let invalid = || String::from("cannot read the line: stream did not contain valid UTF-8");
        match &self.text {
            // A line starts after a `\n` and ends before one (or a `\r`): always on a character boundary.
            Text::Utf8(s) => Ok(s.get(range.clone()).unwrap_or_default()),
            Text::Bytes(b) => {
                std::str::from_utf8(b.get(range.clone()).unwrap_or_default()).map_err(|_| invalid())
            }
        }
    }
}

/// The input, read in blocks and cut into rounds of whole lines.
struct Input {
    reader: Box<dyn BufRead>,
    block: usize,
    /// Read and not yet handed out.
    buf: Vec<u8>,
    /// The number of the next line.
    next: usize,
    /// The end of the input, or a read error, was met.
    done: bool,
    /// The read error met, reported as the line after the last one read.
    error: Option<String>,
    /// Buffers of rounds already answered, to read into again.
    spare: Vec<Vec<u8>>,
    /// Finds the identity in a line, for [`answer_order`].
    identity: memchr::memmem::Finder<'static>,
}

impl Input {
    fn new(reader: Box<dyn BufRead>, block: usize) -> Self {
        Input {
            reader,
            block,
            buf: Vec::new(),
            next: 1,
            done: false,
            error: None,
            spare: Vec::new(),
            identity: memchr::memmem::Finder::new(b"\"identity\""),
        }
    }

    /// Read more into `buf` (up to a block, appended without zeroing the buffer first), or mark the input
    /// done.
    fn fill(&mut self) {
        use std::io::Read;
        let block = u64::try_from(self.block).unwrap_or(u64::MAX);
        match self.reader.by_ref().take(block).read_to_end(&mut self.buf) {
            Ok(0) => self.done = true,
            Ok(_) => {}
            Err(e) => {
                // What was read before the error is kept.
                self.done = true;
                self.error = Some(format!("cannot read the line: {e}"));
            }
        }
    }

    /// The next `max` lines, fewer at the end of the input; none once it is all read. When there are
    /// `group` lines or more, they are put in [`answer_order`]; else they stay in input order.
    fn round(&mut self, max: usize, group: usize) -> Round {
        let mut lines: Vec<Line> = Vec::new();
        // The start of the next line, and how far the buffer was searched for its end.
        let (mut from, mut searched) = (0, 0);
        while lines.len() < max {
            match memchr::memchr(b'\n', self.buf.get(searched..).unwrap_or_default()) {
                Some(i) => {
                    let end = searched + i;
                    // `BufRead::lines`: a `\r` before the `\n` is part of the line end.
                    let cr = end > from && self.buf.get(end - 1) == Some(&b'\r');
                    lines.push(Ok(from..end - usize::from(cr)));
                    from = end + 1;
                    searched = from;
                }
                None if self.done => break,
                None => {
                    searched = self.buf.len();
                    self.fill();
                }
            }
        }
        if self.done && lines.len() < max {
            if from < self.buf.len() {
                // The last line, without a line end.
                lines.push(Ok(from..self.buf.len()));
                from = self.buf.len();
            }
            if let Some(e) = self.error.take().filter(|_| lines.len() < max) {
                lines.push(Err(e));
            }
        }
        let mut rest = self.spare.pop().unwrap_or_default();
        rest.clear();
        rest.extend_from_slice(self.buf.get(from..).unwrap_or_default());
        self.buf.truncate(from);
        let text = std::mem::replace(&mut self.buf, rest);
        let first = self.next;
        self.next += lines.len();
        if lines.len() < group {
            return Round {
                text: Text::new(text),
                first,
                index: (0..).take(lines.len()).collect(),
                lines,
            };
        }
        // The lines copied in the answering order, so that those answered one after the other are next to
        // each other in memory too. Each line's place is found first; the copy then reads the lines in
        // input order (its writes are the scattered ones, and writes do not wait).
        let index = answer_order(&text, &lines, &self.identity);
        let len = |i: u32| {
            lines
                .get(i as usize)
                .and_then(|l| l.as_ref().ok())
                .map_or(0, ExactSizeIterator::len)
        };
        let mut place = vec![0; lines.len()];
        let mut end = 0;
        for &i in &index {
            if let Some(p) = place.get_mut(i as usize) {
                *p = end;
            }
            end += len(i);
        }
        let mut sorted = self.spare.pop().unwrap_or_default();
        // Every byte up to `end` is written below: only a longer buffer than before is zeroed first.
        sorted.truncate(end);
        sorted.resize(end, 0);
        for (line, &at) in lines.iter().zip(&place) {
            if let Ok(r) = line {
                if let (Some(from), Some(to)) =
                    (text.get(r.clone()), sorted.get_mut(at..at + r.len()))
                {
                    to.copy_from_slice(from);
                }
            }
        }
        let sorted_lines = index
            .iter()
            .map(|&i| match lines.get(i as usize) {
                Some(Err(e)) => Err(e.clone()),
                _ => {
                    let at = place.get(i as usize).copied().unwrap_or(0);
                    Ok(at..at + len(i))
                }
            })
            .collect();
        self.spare.push(text);
        Round {
            text: Text::new(sorted),
            first,
            lines: sorted_lines,
            index,
        }
    }
}

/// The order to answer a round's lines in, as indices into `lines`: those naming the same identity
/// together, so that its candidate policies are read from memory once and stay in the processor's caches
/// while its requests are answered, instead of being fetched again for every line (over 10k policies, whose
/// working set is larger than the caches, a line costs 2.6–3.0 µs instead of 4.5–5.0 µs: `cargo bench --bench
/// batch`). Lines are grouped by a hash of the text after the first `"identity"` key; a
/// line where that is not found goes first. The order changes only speed: each line is answered on its own,
/// and the answers are written in input order.
fn answer_order(text: &[u8], lines: &[Line], finder: &memchr::memmem::Finder<'_>) -> Vec<u32> {
    use std::hash::BuildHasher;
    let hasher = std::hash::BuildHasherDefault::<crate::model::pattern::FxHasher>::default();
    let mut keyed: Vec<(u64, u32)> = lines
        .iter()
        .zip(0u32..)
        .map(|(line, i)| {
            let key = line
                .as_ref()
                .ok()
                .and_then(|r| text.get(r.clone()))
                .and_then(|l| {
                    let after = l.get(finder.find(l)? + finder.needle().len()..)?;
                    let start = memchr::memchr(b'"', after)? + 1;
                    let value = after.get(start..)?;
                    value.get(..memchr::memchr(b'"', value)?)
                })
                .map_or(0, |id| hasher.hash_one(id));
            (key, i)
        })
        .collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// What a run of lines produced: the output text, where each line's answer ends in it, and the counts.
#[derive(Default)]
struct Part {
    out: String,
    /// (index of the line in its round, end of its answer in `out`), in the order answered.
    ends: Vec<(u32, usize)>,
    evaluated: usize,
    allowed: usize,
    bad: usize,
}

impl Part {
    /// Count another part's answers in this one's.
    fn add(&mut self, other: &Part) {
        self.evaluated += other.evaluated;
        self.allowed += other.allowed;
        self.bad += other.bad;
    }
}

/// Answer every line of `reader`, writing to `out` in input order; a summary goes to stderr.
pub fn run(
    engine: &Engine,
    reader: Box<dyn BufRead>,
    path: &str,
    format: Format,
    full: bool,
    out: &mut impl Write,
) -> std::io::Result<Totals> {
    let job = Job {
        engine,
        path,
        format,
        full,
    };
    let threads = rayon::current_num_threads();
    let sizes = match format {
        Format::Text => TEXT,
        Format::Json => JSON,
    };
    let mut input = Input::new(reader, sizes.block);
    // One per thread, kept from round to round.
    let mut caches: Vec<Worker> = (0..threads.max(1)).map(|_| Worker::default()).collect();
    let mut total = Part::default();
    // The answers of a round in input order, written at once.
    let mut ordered: Vec<u8> = Vec::new();
    // A round answered in pieces and not written yet: its number of lines, and the pieces. It is written
    // while the next round is answered.
    let mut pending: Option<(usize, Vec<Part>)> = None;
    let group = 2 * sizes.piece;
    let mut round = input.round(sizes.round, group);
    while !round.lines.is_empty() {
        let (parts, next) = if crate::parallel::parts(round.lines.len(), sizes.piece) < 2 {
            // Few lines: answer them here, in input order, writing each answer at once.
            if let Some((n, parts)) = pending.take() {
                in_input_order(n, &parts, &mut ordered);
                out.write_all(&ordered)?;
            }
            let mut part = Part::default();
            let mut spare = Worker::default();
            let cache = caches.first_mut().unwrap_or(&mut spare);
            for (line, &i) in round.lines.iter().zip(&round.index) {
                job.answer(round.first + i as usize, round.line(line), &mut part, cache)?;
                out.write_all(part.out.as_bytes())?;
                part.out.clear();
            }
            total.add(&part);
            (None, input.round(sizes.round, group))
        } else {
            // Pieces of the answering order, taken in turn from a shared counter, keep every core busy to
            // the end of the round; the calling thread writes the round before, reads the next one, then
            // joins in.
            let pieces: Vec<(&[Line], &[u32])> = round
                .lines
                .chunks(sizes.piece)
                .zip(round.index.chunks(sizes.piece))
                .collect();
            let next_piece = AtomicUsize::new(0);
            let work = |cache: &mut Worker| -> std::io::Result<Vec<Part>> {
                let mut done = Vec::new();
                loop {
                    let i = next_piece.fetch_add(1, Ordering::Relaxed);
                    let Some(&(lines, index)) = pieces.get(i) else {
                        return Ok(done);
                    };
                    done.push(job.answer_all(&round, lines, index, cache)?);
                }
            };
            let mut spare = Worker::default();
            let (mine, others) = match caches.split_first_mut() {
                Some((mine, others)) => (mine, others),
                None => (&mut spare, &mut [][..]),
            };
            // The other cores' answers, each in its own slot (the scope waits for them all).
            let mut theirs: Vec<std::io::Result<Vec<Part>>> =
                others.iter().map(|_| Ok(Vec::new())).collect();
            let (mine, next) = rayon::in_place_scope(|s| {
                for (cache, done) in others.iter_mut().zip(&mut theirs) {
                    let work = &work;
                    s.spawn(move |_| *done = work(cache));
                }
                let written = match pending.take() {
                    Some((n, parts)) => {
                        in_input_order(n, &parts, &mut ordered);
                        out.write_all(&ordered)
                    }
                    None => Ok(()),
                };
                let next = input.round(sizes.round, group);
                (written.and(work(mine)), next)
            });
            let mut parts: Vec<Part> = mine?;
            for done in theirs {
                parts.extend(done?);
            }
            for p in &parts {
                total.add(p);
            }
            (Some((round.lines.len(), parts)), next)
        };
        if parts.is_some() {
            pending = parts;
        }
        input
            .spare
            .push(std::mem::replace(&mut round, next).text.into_bytes());
    }
    if let Some((n, parts)) = pending.take() {
        in_input_order(n, &parts, &mut ordered);
        out.write_all(&ordered)?;
    }
    out.flush()?;
    let Part {
        evaluated,
        allowed,
        bad,
        ..
    } = total;
    Ok(Totals {
        evaluated,
        allowed,
        bad,
    })
}

/// The answers of a round's `n` lines, gathered from the parts that answered them, in input order.
fn in_input_order(n: usize, parts: &[Part], out: &mut Vec<u8>) {
    // Line → (part, start, end) of its answer.
    let mut at: Vec<(usize, usize, usize)> = vec![(0, 0, 0); n];
    for (p, part) in parts.iter().enumerate() {
        let mut start = 0;
        for &(i, end) in &part.ends {
            if let Some(slot) = at.get_mut(i as usize) {
                *slot = (p, start, end);
            }
            start = end;
        }
    }
    out.clear();
    for (p, start, end) in at {
        let answer = parts.get(p).and_then(|part| part.out.get(start..end));
        out.extend_from_slice(answer.unwrap_or_default().as_bytes());
    }
}

/// What a thread keeps from one line to the next: parsed identities and times, the trace's buffers.
#[derive(Default)]
struct Worker {
    scratch: Scratch,
    /// The line being answered, its buffers kept.
    request: Prepared,
}

/// What every line of a batch is answered with: the engine, the input's name (for errors), the format, and
/// whether a JSON answer carries the full trace.
#[derive(Clone, Copy)]
struct Job<'a> {
    engine: &'a Engine,
    path: &'a str,
    format: Format,
    full: bool,
}

impl Job<'_> {
    /// Answer some lines of a round, with their indices in the input's round, into one buffer, noting
    /// where each answer ends.
    fn answer_all(
        &self,
        round: &Round,
        lines: &[Line],
        index: &[u32],
        cache: &mut Worker,
    ) -> std::io::Result<Part> {
        let mut part = Part {
            out: String::with_capacity(lines.len() * 200),
            ends: Vec::with_capacity(lines.len()),
            ..Part::default()
        };
        for (line, &i) in lines.iter().zip(index) {
            let line = round.line(line);
            self.answer(round.first + i as usize, line, &mut part, cache)?;
            part.ends.push((i, part.out.len()));
        }
        Ok(part)
    }

    /// Report line `n` as bad.
    fn bad(&self, part: &mut Part, n: usize, msg: &str) -> std::io::Result<()> {
        part.bad += 1;
        let mut text = Vec::new();
        emit_error(&mut text, self.format, self.path, n, msg)?;
        part.out.push_str(&String::from_utf8_lossy(&text));
        Ok(())
    }

    /// Answer line `n`.
    fn answer(
        &self,
        n: usize,
        line: Result<&str, String>,
        part: &mut Part,
        cache: &mut Worker,
    ) -> std::io::Result<()> {
        let Job {
            engine,
            format,
            full,
            ..
        } = *self;
        let line = match line {
            Ok(l) => l,
            Err(e) => return self.bad(part, n, &e),
        };
        if line.trim().is_empty() {
            return Ok(());
        }
        // The plain form is read in place; anything else by the loader's request parser (duplicate keys and
        // limits checked, only a JSON object accepted), which words the errors.
        let limits = Limits::default();
        let depth = limits.max_depth.min(MAX_DEPTH_CEILING);
        let owned;
        let req = match RequestRef::parse_plain(line, limits.max_string_bytes, depth) {
            Some(r) => r,
            None => match crate::load::request_line(line, &limits) {
                Ok(r) => {
                    owned = r;
                    RequestRef::from(&owned)
                }
                Err(msg) => return self.bad(part, n, &msg),
            },
        };
        if let Err(e) = engine.prepare_with(&req, &mut cache.scratch, &mut cache.request) {
            return self.bad(part, n, &e.to_string());
        }
        let prepared = &cache.request;
        part.evaluated += 1;
        match format {
            Format::Json if !full => {
                let brief = engine.explain_with(prepared, Detail::Brief, &mut cache.scratch);
                if brief.decision.decision == Verdict::Allow {
                    part.allowed += 1;
                }
                crate::report::write_brief_answer(&mut part.out, n, prepared, &brief);
                part.out.push('\n');
                cache.scratch.recycle(brief);
            }
            Format::Json => {
                let resp = engine.explain(prepared);
                if resp.decision == Verdict::Allow {
                    part.allowed += 1;
                }
                let mut v = crate::report::json(&resp);
                if let Some(o) = v.as_object_mut() {
                    o.insert(String::from("line"), n.into());
                }
                part.out
                    .push_str(&serde_json::to_string(&v).unwrap_or_default());
                part.out.push('\n');
            }
            Format::Text => {
                let brief = engine.explain_with(prepared, Detail::Brief, &mut cache.scratch);
                let allowed = brief.decision.decision == Verdict::Allow;
                if allowed {
                    part.allowed += 1;
                }
                let out = &mut part.out;
                let _ = write!(out, "{n}");
                for piece in [
                    ": ",
                    if allowed { "ALLOW" } else { "DENY" },
                    " (",
                    brief.decision.reason.as_str(),
                    ") ",
                    prepared.identity_echo().unwrap_or("(caller)"),
                    " ",
                    &prepared.action,
                    " ",
                    prepared.resource.as_deref().unwrap_or(""),
                    " — ",
                ] {
                    out.push_str(piece);
                }
                crate::report::write_summary(
                    out,
                    brief.decision.reason,
                    &brief.trace,
                    !brief.missing_context.is_empty(),
                );
                out.push('\n');
                cache.scratch.recycle(brief);
            }
        }
        Ok(())
    }
}

/// Line `line`'s error, as text or as a JSON object `{"line", "error", "file"}`.
fn emit_error(
    out: &mut impl Write,
    format: Format,
    path: &str,
    line: usize,
    message: &str,
) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::json!({"line": line, "error": message, "file": path})
        ),
        Format::Text => writeln!(out, "{line}: ERROR {path}:{line}: {message}"),
    }
}
